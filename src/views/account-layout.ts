import { ROUTES } from '../config/routes.js';
import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

/** The sections of the account page, in the order of its navigation; each is owned by one route module. */
export const ACCOUNT_SECTIONS = [
  { id: 'profile', path: ROUTES.account, label: 'account.section.profile' },
  { id: 'security', path: ROUTES.accountSecurity, label: 'account.section.security' },
  { id: 'sessions', path: ROUTES.accountSessions, label: 'account.section.sessions' },
  { id: 'applications', path: ROUTES.accountApplications, label: 'account.section.applications' },
] as const;
export type AccountSection = (typeof ACCOUNT_SECTIONS)[number]['id'];

/**
 * Every account page: the navigation (with the sign-out link), the section's title, a success notice or
 * an error, and its body. Notices are announced (role=status), errors interrupt (role=alert).
 */
export function accountLayout(
  pc: PageContext,
  view: { section: AccountSection; title: string; body: Html; notice?: string; error?: string },
): Html {
  return layout(
    pc,
    view.title,
    html`<nav aria-label="${pc.t('account.nav_label')}"><ul class="account-nav">${ACCOUNT_SECTIONS.map(
      (s) => html`<li><a href="${s.path}"${s.id === view.section ? html` aria-current="page"` : ''}>${pc.t(s.label)}</a></li>`,
    )}<li><a href="${ROUTES.accountSignOut}">${pc.t('account.sign_out')}</a></li></ul></nav>
<h1>${view.title}</h1>
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${view.body}`,
    { wide: true },
  );
}
