import { pathFor } from '../config/routes.js';
import { actions, button, field, linkList, richText, supportReference, warning, type Link } from './components.js';
import { html, type Html } from './html.js';
import { translator } from './i18n/catalogue.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

export { errorPage } from './page.js';

export interface LoginView {
  clientName: string;
  action: string;
  csrfToken: string;
  username?: string;
  error?: string;
  /** The passkey option below the password form (src/views/passkey-views.ts passkeyOption). */
  passkey?: Html;
  /** Ways on below the form: "Forgot password?", sign-up, a new confirmation link (issue 12 §2). */
  links?: readonly { href: string; text: string }[];
}

export function loginPage(pc: PageContext, view: LoginView): Html {
  const { t } = pc;
  return layout(
    pc,
    t('signin.title'),
    html`<h1>${t('signin.title')}</h1>
<p class="muted">${richText(t('signin.continue_to'), { client: html`<strong>${view.clientName}</strong>` })}</p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
${field({
  id: 'username',
  label: t('signin.username'),
  value: view.username ?? '',
  // "webauthn": the browser offers the user's passkeys in the username field (conditional mediation).
  autocomplete: 'username webauthn',
  required: true,
  autofocus: true,
  attributes: html`autocapitalize="none" spellcheck="false"`,
})}
${field({ id: 'password', type: 'password', label: t('signin.password'), autocomplete: 'current-password', required: true })}
${actions(button(t('signin.submit')))}
</form>
${view.passkey ?? ''}
${linkList((view.links ?? []).map((l) => ({ href: l.href, label: l.text })))}
${view.error ? supportReference(pc) : ''}`,
  );
}

export interface ConsentView {
  clientName: string;
  clientUri: string | null;
  /** The client's logo_uri, policy_uri and tos_uri (RFC 7591 section 2); shown only when https (or loopback http in development). */
  logoUri?: string | null;
  policyUri?: string | null;
  tosUri?: string | null;
  username: string;
  scopes: { name: string; description: string }[];
  /** The APIs the access will be for (RFC 8707 resource indicators); empty: this server. */
  resources: { name: string; identifier: string }[];
  action: string;
  /** Where "Not you?" posts: signs this browser out and back into the same authorization. */
  switchAccountAction?: string;
  csrfToken: string;
  /** A client ID metadata document's client: who it is cannot be vouched for, only where it sends the user. */
  metadataDocument?: {
    /** The client_id: the URL of its metadata document. */
    clientIdUrl: string;
    /** The host name of this request's redirect URI. */
    redirectHost: string;
    /** Every redirect URI leads to this device (loopback or a private-use scheme): any local program can claim the name. */
    onlyThisDevice: boolean;
  };
}

function metadataDocumentNotice(pc: PageContext, doc: NonNullable<ConsentView['metadataDocument']>): Html {
  return html`<p>${richText(pc.t('consent.destination'), { host: html`<strong class="destination">${doc.redirectHost}</strong>` })}</p>
<p class="muted">${richText(pc.t('consent.unverified'), { url: html`<code>${doc.clientIdUrl}</code>` })}</p>
${doc.onlyThisDevice ? warning(pc.t('consent.this_device_warning')) : ''}`;
}

/** OIDC Core section 5.4's scopes (and offline_access) say "sign-in"; they come first, in this order. */
const SIGN_IN_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'] as const;
type SignInScope = (typeof SIGN_IN_SCOPES)[number];

/** Scopes with sign-in first, the others after them in their given order. */
export function orderScopes<S extends { name: string }>(scopes: readonly S[]): S[] {
  const rank = (name: string) => {
    const i = SIGN_IN_SCOPES.indexOf(name as SignInScope);
    return i < 0 ? SIGN_IN_SCOPES.length : i;
  };
  return scopes
    .map((scope, index) => ({ scope, index }))
    .sort((a, b) => rank(a.scope.name) - rank(b.scope.name) || a.index - b.index)
    .map((entry) => entry.scope);
}

const ENGLISH = translator('en');

/** A standard scope in the page's language while its description is still the seeded one; otherwise the operator's text. */
export function scopeText(pc: PageContext, scope: { name: string; description: string }): string {
  if ((SIGN_IN_SCOPES as readonly string[]).includes(scope.name)) {
    const key = `consent.scope.${scope.name as SignInScope}` as const;
    if (!scope.description || scope.description === ENGLISH(key)) return pc.t(key);
  }
  return scope.description || scope.name;
}

function clientLinks(pc: PageContext, view: ConsentView): Html {
  const links: Link[] = [];
  if (view.clientUri) links.push({ href: view.clientUri, label: pc.t('consent.client_website'), external: true });
  if (view.policyUri) links.push({ href: view.policyUri, label: pc.t('consent.privacy_policy'), external: true });
  if (view.tosUri) links.push({ href: view.tosUri, label: pc.t('consent.terms_of_service'), external: true });
  return linkList(links, pc.t('consent.client_links', { client: view.clientName }));
}

export function consentPage(pc: PageContext, view: ConsentView): Html {
  const { t } = pc;
  return layout(
    pc,
    t('consent.title'),
    html`<div class="client">${view.logoUri ? html`<img src="${view.logoUri}" alt="${t('consent.client_logo', { client: view.clientName })}" width="48" height="48">` : ''}<h1>${t('consent.title')}</h1></div>
<p>${richText(t('consent.wants_access'), { client: html`<strong>${view.clientName}</strong>`, account: html`<strong>${view.username}</strong>` })}</p>
${clientLinks(pc, view)}
${view.metadataDocument ? metadataDocumentNotice(pc, view.metadataDocument) : ''}
<p>${t('consent.will_be_able')}</p>
<ul class="scopes">${orderScopes(view.scopes).map((s) => html`<li>${scopeText(pc, s)}</li>`)}</ul>
${
  view.resources.length > 0
    ? html`<p>${t('consent.resources')}</p>
<ul class="resources">${view.resources.map((r) => html`<li><strong>${r.name}</strong> <span class="muted">${r.identifier}</span></li>`)}</ul>`
    : ''
}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
${actions(button(t('consent.deny'), { variant: 'secondary', name: 'decision', value: 'deny' }), button(t('consent.allow'), { name: 'decision', value: 'allow' }))}
</form>
${
  // After the decision form, so that the answer is the page's first form (and its first button).
  view.switchAccountAction
    ? html`<form method="post" action="${view.switchAccountAction}" class="account-user">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<span class="muted">${richText(t('consent.signed_in_as'), { account: html`<strong>${view.username}</strong>` })} ${t('consent.not_you')}</span> ${button(t('consent.switch_account'), { variant: 'link' })}
</form>`
    : ''
}
<p class="muted">${richText(t('consent.revoke_later'), { link: html`<a href="${pathFor('account')}/applications">${t('consent.connected_applications')}</a>` })}</p>`,
  );
}

/** OAuth 2.0 Form Post Response Mode: an auto-submitting form that POSTs the response to the client. */
export function formPostPage(pc: PageContext, redirectUri: string, params: Record<string, string>, scriptNonce: string): Html {
  return layout(
    pc,
    pc.t('common.continue'),
    html`<form method="post" action="${redirectUri}" id="response">
${Object.entries(params).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<noscript><p>${pc.t('common.form_post_noscript')}</p><button type="submit">${pc.t('common.continue')}</button></noscript>
</form>
<script nonce="${scriptNonce}">document.getElementById('response').submit();</script>`,
  );
}
