import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

/** What an enrolment shows: the otpauth URI as a QR code (SVG) and the same secret as text. */
export interface TotpSetupView {
  secret: string;
  qrSvg: string;
}

/**
 * The QR code as an <img> with a data: URI (the pages' CSP allows img-src data:), so it has alt text and
 * needs no inline style; the secret in groups of four, as authenticator apps show it, for typing.
 */
export function totpSetupFragment(pc: PageContext, setup: TotpSetupView, form: { action: string; csrfToken: string; error?: string }): Html {
  const src = `data:image/svg+xml;base64,${Buffer.from(setup.qrSvg).toString('base64')}`;
  const grouped = setup.secret.replace(/(.{4})(?=.)/g, '$1 ');
  return html`<p>${pc.t('mfa.enrol_scan')}</p>
<p><img src="${src}" alt="${pc.t('mfa.qr_alt')}" width="200" height="200"></p>
<p>${pc.t('mfa.secret_label')}: <code id="totp-secret">${grouped}</code></p>
${form.error ? html`<p class="error" role="alert">${form.error}</p>` : ''}
<form method="post" action="${form.action}">
<input type="hidden" name="csrf_token" value="${form.csrfToken}">
<label for="code">${pc.t('mfa.confirm_label')}</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required>
<div class="actions"><button type="submit">${pc.t('mfa.confirm')}</button></div>
</form>`;
}

/** The recovery codes, shown once, with the way on (a form to continue the sign-in, or a link). */
export function recoveryCodesFragment(pc: PageContext, codes: readonly string[], next: Html): Html {
  return html`<h2>${pc.t('mfa.recovery_title')}</h2>
<p>${pc.t('mfa.recovery_intro')}</p>
<ul class="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>
${next}`;
}

export interface MfaCodeView {
  action: string;
  csrfToken: string;
  error?: string;
  /** Whether the user has an authenticator app (the code form); false: only the other ways. */
  codeForm: boolean;
  /**
   * Other second factors (a passkey: the passkeys part's view fragment, added by the integrator). Shown
   * under their own heading below the code form.
   */
  otherWays?: Html;
}

/** The second step of a sign-in: a code from the authenticator app or a recovery code, or another way. */
export function mfaCodePage(pc: PageContext, view: MfaCodeView): Html {
  return layout(
    pc,
    pc.t('mfa.title'),
    html`<h1>${pc.t('mfa.title')}</h1>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${
  view.codeForm
    ? html`<p>${pc.t('mfa.code_intro')}</p>
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<label for="code">${pc.t('mfa.code_label')}</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="64" aria-describedby="code-hint" required autofocus>
<p id="code-hint" class="muted">${pc.t('mfa.code_hint')}</p>
<div class="actions"><button type="submit">${pc.t('mfa.verify')}</button></div>
</form>`
    : ''
}
${view.otherWays ? html`<section aria-labelledby="other-ways"><h2 id="other-ways">${pc.t('mfa.other_ways')}</h2>${view.otherWays}</section>` : ''}`,
  );
}

/** Setting up TOTP inside a sign-in, when the policy requires a second factor and the user has none. */
export function mfaEnrolPage(pc: PageContext, view: { clientName: string; setup: TotpSetupView; action: string; csrfToken: string; error?: string }): Html {
  return layout(
    pc,
    pc.t('mfa.enrol_title'),
    html`<h1>${pc.t('mfa.enrol_title')}</h1>
<p>${pc.t('mfa.enrol_required', { client: view.clientName })}</p>
${totpSetupFragment(pc, view.setup, view)}`,
  );
}

/** After the enrolment inside a sign-in: the recovery codes, then on to the application. */
export function mfaRecoveryCodesPage(pc: PageContext, view: { codes: readonly string[]; action: string; csrfToken: string }): Html {
  return layout(
    pc,
    pc.t('mfa.recovery_title'),
    html`<h1>${pc.t('mfa.enrol_title')}</h1>
<p class="notice" role="status">${pc.t('mfa.enabled_notice')}</p>
${recoveryCodesFragment(
  pc,
  view.codes,
  html`<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<div class="actions"><button type="submit">${pc.t('mfa.continue')}</button></div>
</form>`,
)}`,
  );
}

export interface TotpAccountView {
  csrfToken: string;
  /** TOTP is on: the recovery codes left; otherwise the enrolment. */
  state: { on: true; recoveryCodesLeft: number } | { on: false; setup: TotpSetupView };
  /** Recovery codes to show once (right after enrolment or regeneration). */
  newCodes?: readonly string[];
  error?: string;
  actions: { confirm: string; disable: string; regenerate: string; back: string };
}

/** The body of /account/security/totp (inside accountLayout). */
export function totpAccountBody(pc: PageContext, view: TotpAccountView): Html {
  const back = html`<p><a href="${view.actions.back}">${pc.t('mfa.back')}</a></p>`;
  if (!view.state.on) {
    return html`${totpSetupFragment(pc, view.state.setup, { action: view.actions.confirm, csrfToken: view.csrfToken, error: view.error })}
${back}`;
  }
  return html`<p>${pc.t('mfa.status_on')}</p>
${view.newCodes ? recoveryCodesFragment(pc, view.newCodes, html``) : ''}
<p>${pc.t('mfa.recovery_left', { count: view.state.recoveryCodesLeft })}</p>
<form method="post" action="${view.actions.regenerate}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<p class="muted">${pc.t('mfa.regenerate_hint')}</p>
<button type="submit" class="secondary">${pc.t('mfa.regenerate')}</button>
</form>
<h2>${pc.t('mfa.disable_title')}</h2>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="${view.actions.disable}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<p>${pc.t('mfa.disable_intro')}</p>
<label for="disable-code">${pc.t('mfa.code_label')}</label>
<input type="text" id="disable-code" name="code" inputmode="numeric" maxlength="6" autocomplete="one-time-code">
<label for="disable-password">${pc.t('mfa.password_label')}</label>
<input type="password" id="disable-password" name="password" autocomplete="current-password">
<button type="submit">${pc.t('mfa.disable')}</button>
</form>
${back}`;
}
