import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

/** The sections of the account page, in the order of its navigation; each is owned by one route module. */
export const ACCOUNT_SECTIONS = [
  { id: 'profile', path: '/account', label: 'Profile' },
  { id: 'security', path: '/account/security', label: 'Sign-in and security' },
  { id: 'sessions', path: '/account/sessions', label: 'Sessions' },
  { id: 'applications', path: '/account/applications', label: 'Connected applications' },
] as const;
export type AccountSection = (typeof ACCOUNT_SECTIONS)[number]['id'];

/** Every account page: the navigation, the section's title, and its body. */
export function accountLayout(pc: PageContext, view: { section: AccountSection; title: string; body: Html; notice?: string }): Html {
  return layout(
    pc,
    view.title,
    html`<nav aria-label="Account"><ul class="account-nav">${ACCOUNT_SECTIONS.map(
      (s) => html`<li><a href="${s.path}"${s.id === view.section ? html` aria-current="page"` : ''}>${s.label}</a></li>`,
    )}</ul></nav>
<h1>${view.title}</h1>
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${view.body}`,
    { wide: true },
  );
}
