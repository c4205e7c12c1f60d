import { pathFor } from '../config/routes.js';
import { accountLayout } from './account-layout.js';
import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';
import { PASSKEY_SCRIPT_INTEGRITY, PASSKEY_SCRIPT_VERSION } from './passkey-script.js';

/**
 * Passkey markup. The forms work with the script of src/views/passkey-script.ts (the only script on these
 * pages, allowed by the page's nonce); the buttons stay hidden until the script finds WebAuthn, so a
 * browser without it shows no dead control.
 */

/** The script tag of every page that offers a passkey: Authly's own file, with its integrity and the page's nonce. */
export function passkeyScriptTag(nonce: string): Html {
  return html`<script src="${pathFor('passkeyScript')}?v=${PASSKEY_SCRIPT_VERSION}" integrity="${PASSKEY_SCRIPT_INTEGRITY}" nonce="${nonce}" defer></script>`;
}

/** The script's messages (it has no strings of its own): cancelled, failed (sign-in or registration), unsupported. */
function messages(pc: PageContext, failed: 'passkeys.msg_failed' | 'passkeys.add_failed' = 'passkeys.msg_failed'): Html {
  return html` data-msg-cancelled="${pc.t('passkeys.msg_cancelled')}" data-msg-failed="${pc.t(failed)}" data-msg-unsupported="${pc.t('passkeys.msg_unsupported')}"`;
}

export interface PasskeyOptionView {
  /** POST target of the assertion (ROUTES.interactionPasskey). */
  action: string;
  /** The options endpoint of the same interaction (ROUTES.interactionPasskeyOptions). */
  optionsUrl: string;
  csrfToken: string;
  /** The sign-in page's first factor also runs the passkey autofill (conditional mediation); a second-factor page does not. */
  conditional: boolean;
  /** The label of the button; default "Sign in with a passkey". */
  buttonLabel?: string;
  /** The page's CSP nonce; the script tag is included when set (leave unset when the page includes it itself). */
  scriptNonce?: string;
}

/**
 * The passkey option of a sign-in page: the first factor on the login page, or the second factor on the
 * MFA page (which includes this fragment among its "other ways"). The page must be sent with the
 * passkeyPageSecurity additions (script nonce, connect-src 'self').
 */
export function passkeyOption(pc: PageContext, view: PasskeyOptionView): Html {
  return html`<form method="post" action="${view.action}" class="passkey" data-passkey="sign-in" data-options="${view.optionsUrl}" data-conditional="${view.conditional ? 'true' : 'false'}"${messages(pc)}>
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<input type="hidden" name="credential" value="">
<p role="alert" data-passkey-status></p>
<div class="actions"><button type="button" class="secondary" data-passkey-start hidden>${view.buttonLabel ?? pc.t('passkeys.signin_button')}</button></div>
</form>
${view.scriptNonce ? passkeyScriptTag(view.scriptNonce) : ''}`;
}

/**
 * The second factor by passkey when no MFA page carries it (a failed attempt is answered here): the
 * passkey option alone, with the error. The integrator may route this to the MFA page instead.
 */
export function passkeySecondFactorPage(pc: PageContext, view: PasskeyOptionView & { error?: string }): Html {
  return layout(
    pc,
    pc.t('passkeys.second_factor_title'),
    html`<h1>${pc.t('passkeys.second_factor_title')}</h1>
<p>${pc.t('passkeys.second_factor_intro')}</p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${passkeyOption(pc, { ...view, conditional: false, buttonLabel: view.buttonLabel ?? pc.t('passkeys.second_factor_button') })}`,
  );
}

export interface PasskeyListItem {
  id: string;
  name: string;
  deviceType: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface PasskeysPageView {
  passkeys: PasskeyListItem[];
  csrfToken: string;
  scriptNonce: string;
  notice?: string;
  error?: string;
  /** The name typed into the add form, kept after an error. */
  newName?: string;
}

function when(pc: PageContext, date: Date): string {
  return `${new Intl.DateTimeFormat(pc.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

function passkeyItem(pc: PageContext, p: PasskeyListItem, csrfToken: string, index: number): Html {
  const renameId = `passkey-name-${index}`;
  return html`<li>
<h3>${p.name}</h3>
<p class="muted">${p.deviceType === 'multiDevice' ? pc.t('passkeys.synced') : pc.t('passkeys.device_bound')}</p>
<p class="muted">${pc.t('passkeys.added_on', { date: when(pc, p.createdAt) })}.
${p.lastUsedAt ? `${pc.t('passkeys.last_used', { date: when(pc, p.lastUsedAt) })}.` : `${pc.t('passkeys.never_used')}.`}</p>
<form method="post" action="${pathFor('accountPasskeyRename')}">
<input type="hidden" name="csrf_token" value="${csrfToken}">
<input type="hidden" name="credential_id" value="${p.id}">
<label for="${renameId}">${pc.t('passkeys.rename_label', { name: p.name })}</label>
<input type="text" id="${renameId}" name="name" value="${p.name}" maxlength="64" autocomplete="off" required>
<div class="actions"><button type="submit" class="secondary">${pc.t('passkeys.rename_button')}</button></div>
</form>
<form method="post" action="${pathFor('accountPasskeyRemove')}">
<input type="hidden" name="csrf_token" value="${csrfToken}">
<input type="hidden" name="credential_id" value="${p.id}">
<div class="actions"><button type="submit" class="secondary">${pc.t('passkeys.remove_button', { name: p.name })}</button></div>
</form>
</li>`;
}

/** /account/security/passkeys: the user's passkeys with names and dates, rename, remove, and add. */
export function passkeysPage(pc: PageContext, view: PasskeysPageView): Html {
  const body = html`<p>${pc.t('passkeys.intro')}</p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<h2>${pc.t('passkeys.list_heading')}</h2>
${
  view.passkeys.length === 0
    ? html`<p>${pc.t('passkeys.none')}</p>`
    : html`<ul class="passkeys">${view.passkeys.map((p, i) => passkeyItem(pc, p, view.csrfToken, i))}</ul>`
}
<h2>${pc.t('passkeys.add_heading')}</h2>
<form method="post" action="${pathFor('accountPasskeys')}" data-passkey="register" data-options="${pathFor('accountPasskeyOptions')}"${messages(pc, 'passkeys.add_failed')}>
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<input type="hidden" name="credential" value="">
<label for="passkey-new-name">${pc.t('passkeys.add_name_label')}</label>
<input type="text" id="passkey-new-name" name="name" value="${view.newName ?? ''}" maxlength="64" autocomplete="off" aria-describedby="passkey-new-name-hint">
<p class="muted" id="passkey-new-name-hint">${pc.t('passkeys.add_name_hint')}</p>
<p role="alert" data-passkey-status></p>
<div class="actions"><button type="submit" data-passkey-start hidden>${pc.t('passkeys.add_button')}</button></div>
</form>
<p><a href="/account/security">${pc.t('passkeys.back')}</a></p>
${passkeyScriptTag(view.scriptNonce)}`;
  return accountLayout(pc, { section: 'security', title: pc.t('passkeys.title'), body, notice: view.notice });
}
