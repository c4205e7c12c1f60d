import { actions, button, richText } from './components.js';
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
  const { t } = pc;
  const product = pc.brand.productName;
  return layout(
    pc,
    t('logout.confirm_title'),
    html`<h1>${t('logout.confirm_heading', { product })}</h1>
${view.clientName ? html`<p>${richText(t('logout.asked_by'), { client: html`<strong>${view.clientName}</strong>` })}</p>` : ''}
<p class="muted">${t('logout.explain', { product })}</p>
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<input type="hidden" name="confirm" value="yes">
${Object.entries(view.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
${actions(button(t('logout.submit')))}
</form>`,
  );
}

export function signedOutPage(pc: PageContext): Html {
  return layout(pc, pc.t('logout.done_title'), html`<h1>${pc.t('logout.done_heading')}</h1><p>${pc.t('logout.done_text')}</p>`);
}
