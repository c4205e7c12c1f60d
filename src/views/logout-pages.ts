import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

export interface LogoutConfirmView {
  /** The application that asked for the logout, when it is known. */
  clientName?: string;
  action: string;
  csrfToken: string;
  /** Verified request parameters repeated on confirmation (covered by the CSRF token). */
  fields: Record<string, string>;
}

/** RP-Initiated Logout section 2: without a hint for this session, the user confirms the logout. */
export function logoutConfirmPage(pc: PageContext, view: LogoutConfirmView): Html {
  return layout(
    pc,
    'Sign out?',
    html`<h1>Sign out of ${pc.brand.productName}?</h1>
${view.clientName ? html`<p><strong>${view.clientName}</strong> asked to sign you out.</p>` : ''}
<p class="muted">You will be signed out of ${pc.brand.productName} in this browser.</p>
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<input type="hidden" name="confirm" value="yes">
${Object.entries(view.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<div class="actions"><button type="submit">Sign out</button></div>
</form>`,
  );
}

export function signedOutPage(pc: PageContext): Html {
  return layout(pc, 'Signed out', html`<h1>You are signed out</h1><p>You can close this window.</p>`);
}
