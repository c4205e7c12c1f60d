import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

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
  return layout(
    pc,
    'Sign in',
    html`<h1>Sign in</h1>
<p class="muted">to continue to <strong>${view.clientName}</strong></p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<label for="username">Username or email</label>
<input type="text" id="username" name="username" value="${view.username ?? ''}" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
${view.passkey ?? ''}
${view.links?.length ? html`<ul class="links">${view.links.map((l) => html`<li><a href="${l.href}">${l.text}</a></li>`)}</ul>` : ''}`,
  );
}

export interface ConsentView {
  clientName: string;
  clientUri: string | null;
  username: string;
  scopes: { name: string; description: string }[];
  /** The APIs the access will be for (RFC 8707 resource indicators); empty: this server. */
  resources: { name: string; identifier: string }[];
  action: string;
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

function metadataDocumentNotice(doc: NonNullable<ConsentView['metadataDocument']>): Html {
  return html`<p>After you answer, you go to <strong class="destination">${doc.redirectHost}</strong></p>
<p class="muted">This application is identified only by the URL of its metadata document, <code>${doc.clientIdUrl}</code>; nobody has registered or checked it with this server.</p>
${
  doc.onlyThisDevice
    ? html`<p class="warning" role="alert">Warning: this application returns only to a program on this device (localhost). Any program on your computer can use this name. Allow only if you have just started this application yourself.</p>`
    : ''
}`;
}

export function consentPage(pc: PageContext, view: ConsentView): Html {
  return layout(
    pc,
    'Allow access?',
    html`<h1>Allow access?</h1>
<p><strong>${view.clientName}</strong> wants to access your account <strong>${view.username}</strong>.</p>
${view.clientUri ? html`<p class="muted">${view.clientUri}</p>` : ''}
${view.metadataDocument ? metadataDocumentNotice(view.metadataDocument) : ''}
<p>It will be able to:</p>
<ul class="scopes">${view.scopes.map((s) => html`<li>${s.description || s.name}</li>`)}</ul>
${view.resources.length > 0 ? html`<p>Access will be for:</p>
<ul class="resources">${view.resources.map((r) => html`<li><strong>${r.name}</strong> <span class="muted">${r.identifier}</span></li>`)}</ul>` : ''}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<div class="actions">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>`,
  );
}

export function errorPage(pc: PageContext, title: string, message: string): Html {
  return layout(pc, title, html`<h1>${title}</h1><p class="error" role="alert">${message}</p>`);
}

/** OAuth 2.0 Form Post Response Mode: an auto-submitting form that POSTs the response to the client. */
export function formPostPage(pc: PageContext, redirectUri: string, params: Record<string, string>, scriptNonce: string): Html {
  return layout(
    pc,
    'Continue',
    html`<form method="post" action="${redirectUri}" id="response">
${Object.entries(params).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<noscript><p>JavaScript is off: press Continue to return to the application.</p><button type="submit">Continue</button></noscript>
</form>
<script nonce="${scriptNonce}">document.getElementById('response').submit();</script>`,
  );
}
