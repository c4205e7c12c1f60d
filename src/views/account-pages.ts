import { ROUTES } from '../config/routes.js';
import { PASSWORD_MIN_LENGTH } from '../lib/password-rules.js';
import { accountLayout } from './account-layout.js';
import { html, type Html } from './html.js';
import type { MessageKey } from './i18n/catalogue.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

/**
 * The pages of the account (issue 12 §4): plain semantic HTML, every form a POST carrying the account
 * CSRF token, labels bound to their inputs and autocomplete hints for password managers.
 */

/** Pages the other parts of the account build; the security section links to them. */
export const ACCOUNT_EMAIL_PATH = '/account/email';
export const ACCOUNT_PASSKEYS_PATH = '/account/security/passkeys';
export const ACCOUNT_TOTP_PATH = '/account/security/totp';

/** Dates in the page's language, in UTC (the server does not know the browser's zone without a script). */
function when(pc: PageContext, date: Date): Html {
  const text = new Intl.DateTimeFormat(pc.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date);
  return html`<time datetime="${date.toISOString()}">${pc.t('account.date', { date: text })}</time>`;
}

const csrfField = (token: string) => html`<input type="hidden" name="csrf_token" value="${token}">`;

export interface ProfileView {
  username: string;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
  emailVerified: boolean;
  csrfToken: string;
  notice?: string;
  error?: string;
}

export function profilePage(pc: PageContext, view: ProfileView): Html {
  const field = (id: string, label: MessageKey, value: string | null, autocomplete: string) =>
    html`<label for="${id}">${pc.t(label)}</label><input type="text" id="${id}" name="${id}" value="${value ?? ''}" autocomplete="${autocomplete}" maxlength="255">`;
  return accountLayout(pc, {
    section: 'profile',
    title: pc.t('account.section.profile'),
    notice: view.notice,
    error: view.error,
    body: html`<p>${pc.t('account.signed_in_as', { username: view.username })}</p>
<section aria-labelledby="details-heading">
<h2 id="details-heading">${pc.t('account.profile.details_heading')}</h2>
<form method="post" action="${ROUTES.accountProfile}">
${csrfField(view.csrfToken)}
${field('name', 'account.profile.name', view.name, 'name')}
${field('given_name', 'account.profile.given_name', view.givenName, 'given-name')}
${field('family_name', 'account.profile.family_name', view.familyName, 'family-name')}
<div class="actions"><button type="submit">${pc.t('account.profile.save')}</button></div>
</form>
</section>
<section aria-labelledby="email-heading">
<h2 id="email-heading">${pc.t('account.profile.email_heading')}</h2>
${
  view.email
    ? html`<p><span class="email">${view.email}</span> (${pc.t(view.emailVerified ? 'account.profile.email_verified' : 'account.profile.email_unverified')})</p>`
    : html`<p>${pc.t('account.profile.no_email')}</p>`
}
<p><a href="${ACCOUNT_EMAIL_PATH}">${pc.t('account.profile.email_manage')}</a></p>
</section>`,
  });
}

export interface SecurityView {
  username: string;
  hasPassword: boolean;
  csrfToken: string;
  /** The factors set up besides the password. */
  passkeyCount: number;
  totpEnabled: boolean;
  notice?: string;
  error?: string;
}

export function securityPage(pc: PageContext, view: SecurityView): Html {
  return accountLayout(pc, {
    section: 'security',
    title: pc.t('account.section.security'),
    notice: view.notice,
    error: view.error,
    body: html`<section aria-labelledby="password-heading">
<h2 id="password-heading">${pc.t('account.security.password_heading')}</h2>
${
  view.hasPassword
    ? html`<p>${pc.t('account.security.password_intro')}</p>
<form method="post" action="${ROUTES.accountPassword}">
${csrfField(view.csrfToken)}
<input type="text" name="username" value="${view.username}" autocomplete="username" hidden>
<label for="current_password">${pc.t('account.security.current_password')}</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>
<label for="new_password">${pc.t('account.security.new_password')}</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" required aria-describedby="new-password-hint">
<p id="new-password-hint" class="muted">${pc.t('account.security.password_hint', { min: PASSWORD_MIN_LENGTH })}</p>
<label for="confirm_password">${pc.t('account.security.confirm_password')}</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" required>
<div class="actions"><button type="submit">${pc.t('account.security.change_password')}</button></div>
</form>`
    : html`<p>${pc.t('account.security.no_password')}</p>`
}
</section>
<section aria-labelledby="passkeys-heading">
<h2 id="passkeys-heading">${pc.t('account.security.passkeys_heading')}</h2>
<p>${pc.t('account.security.passkeys_text')}</p>
<p><strong>${pc.t('account.security.passkeys_count', { count: view.passkeyCount })}</strong></p>
<p><a href="${ACCOUNT_PASSKEYS_PATH}">${pc.t('account.security.passkeys_link')}</a></p>
</section>
<section aria-labelledby="totp-heading">
<h2 id="totp-heading">${pc.t('account.security.totp_heading')}</h2>
<p>${pc.t('account.security.totp_text')}</p>
<p><strong>${view.totpEnabled ? pc.t('account.security.totp_on') : pc.t('account.security.totp_off')}</strong></p>
<p><a href="${ACCOUNT_TOTP_PATH}">${pc.t('account.security.totp_link')}</a></p>
</section>`,
  });
}

export interface SessionView {
  sid: string;
  createdAt: Date;
  authTime: Date;
  expiresAt: Date;
  amr: string[];
  current: boolean;
}

const METHOD_KEYS: Record<string, MessageKey> = {
  pwd: 'account.method.pwd',
  otp: 'account.method.otp',
  hwk: 'account.method.hwk',
  swk: 'account.method.swk',
  mfa: 'account.method.mfa',
  user: 'account.method.user',
};

function methods(pc: PageContext, amr: readonly string[]): string {
  return amr.map((m) => (METHOD_KEYS[m] ? pc.t(METHOD_KEYS[m]) : m)).join(', ');
}

export function sessionsPage(pc: PageContext, view: { sessions: SessionView[]; csrfToken: string; notice?: string; error?: string }): Html {
  const others = view.sessions.filter((s) => !s.current);
  const ordered = [...view.sessions.filter((s) => s.current), ...others];
  return accountLayout(pc, {
    section: 'sessions',
    title: pc.t('account.section.sessions'),
    notice: view.notice,
    error: view.error,
    body: html`<p>${pc.t('account.sessions.intro')}</p>
<ul class="sessions">${ordered.map(
      (s, i) => html`<li${s.current ? html` aria-current="true"` : ''}>
<h2 id="session-${i}">${pc.t(s.current ? 'account.sessions.this_one' : 'account.sessions.other')}</h2>
<p>${pc.t('account.sessions.started')} ${when(pc, s.authTime)}<br>
${pc.t('account.sessions.methods', { methods: methods(pc, s.amr) })}<br>
<span class="muted">${pc.t('account.sessions.expires')} ${when(pc, s.expiresAt)}</span></p>
${
  s.current
    ? ''
    : html`<form method="post" action="${ROUTES.accountSessionEnd}">
${csrfField(view.csrfToken)}<input type="hidden" name="sid" value="${s.sid}">
<button type="submit" class="secondary" aria-describedby="session-${i}">${pc.t('account.sessions.end')}</button>
</form>`
}
</li>`,
    )}</ul>
${
  others.length > 0
    ? html`<form method="post" action="${ROUTES.accountSessionsEndOthers}">
${csrfField(view.csrfToken)}
<div class="actions"><button type="submit">${pc.t('account.sessions.end_others')}</button></div>
</form>`
    : html`<p>${pc.t('account.sessions.none_other')}</p>`
}`,
  });
}

export interface ApplicationView {
  clientId: string;
  name: string;
  clientUri: string | null;
  scopes: { name: string; description: string | undefined }[];
  since: Date;
}

export function applicationsPage(pc: PageContext, view: { applications: ApplicationView[]; csrfToken: string; notice?: string; error?: string }): Html {
  return accountLayout(pc, {
    section: 'applications',
    title: pc.t('account.section.applications'),
    notice: view.notice,
    error: view.error,
    body: html`<p>${pc.t('account.applications.intro')}</p>
${
  view.applications.length === 0
    ? html`<p>${pc.t('account.applications.none')}</p>`
    : html`<ul class="applications">${view.applications.map(
        (app) => html`<li>
<h2>${app.name}</h2>
${app.clientUri ? html`<p><a href="${app.clientUri}" rel="noopener noreferrer">${pc.t('account.applications.website', { name: app.name })}</a></p>` : ''}
<p>${pc.t('account.applications.since')} ${when(pc, app.since)}</p>
<p>${pc.t('account.applications.may')}</p>
<ul class="scopes">${app.scopes.map((s) => html`<li>${s.description ?? s.name}</li>`)}</ul>
<form method="post" action="${ROUTES.accountApplicationRevoke}">
${csrfField(view.csrfToken)}<input type="hidden" name="client_id" value="${app.clientId}">
<button type="submit" class="secondary">${pc.t('account.applications.revoke', { name: app.name })}</button>
</form>
</li>`,
      )}</ul>`
}`,
  });
}

export function signOutPage(pc: PageContext, csrfToken: string): Html {
  return layout(
    pc,
    pc.t('account.sign_out_title'),
    html`<h1>${pc.t('account.sign_out_title')}</h1>
<p>${pc.t('account.sign_out_text', { product: pc.brand.productName })}</p>
<form method="post" action="${ROUTES.accountSignOut}">
${csrfField(csrfToken)}
<div class="actions"><a href="${ROUTES.account}">${pc.t('account.problem.back')}</a><button type="submit">${pc.t('account.sign_out')}</button></div>
</form>`,
  );
}

export function accountSignedOutPage(pc: PageContext): Html {
  return layout(
    pc,
    pc.t('account.signed_out_title'),
    html`<h1>${pc.t('account.signed_out_title')}</h1>
<p>${pc.t('account.signed_out_text')}</p>
<p><a href="${ROUTES.account}">${pc.t('account.sign_in_again')}</a></p>`,
  );
}

/** A problem on the account pages, written for the person, with a way back and the support reference. */
export function accountProblemPage(pc: PageContext, message: string, link: { href: string; label: string }): Html {
  return layout(
    pc,
    pc.t('account.problem.title'),
    html`<h1>${pc.t('account.problem.title')}</h1>
<p class="error" role="alert">${message}</p>
<p><a href="${link.href}">${link.label}</a></p>
<p class="muted">${pc.t('common.support_reference', { requestId: pc.requestId })}</p>`,
  );
}
