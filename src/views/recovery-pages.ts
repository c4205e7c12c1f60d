import { accountLayout } from './account-layout.js';
import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';
import type { Translate } from './i18n/catalogue.js';

/** The pages of recovery, email verification, sign-up and the email change (issue 12 §2). */

export interface Link {
  href: string;
  text: string;
}

const links = (items: readonly Link[] = []) => (items.length ? html`<ul class="links">${items.map((l) => html`<li><a href="${l.href}">${l.text}</a></li>`)}</ul>` : '');

const hidden = (fields: Record<string, string>) => Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);

/** A page that only tells something: a notice (success) or an error, with ways on. */
export function messagePage(pc: PageContext, view: { title: string; message: string; kind: 'notice' | 'error'; links?: readonly Link[] }): Html {
  const message = view.kind === 'error' ? html`<p class="error" role="alert">${view.message}</p>` : html`<p class="notice" role="status">${view.message}</p>`;
  return layout(pc, view.title, html`<h1>${view.title}</h1>
${message}
${links(view.links)}`);
}

/** "Forgot password?" and "resend the confirmation link": one field, the same answer whatever it names. */
export function loginRequestPage(
  pc: PageContext,
  view: { title: string; intro: string; action: string; fields: Record<string, string>; login?: string; sent?: string; error?: string; links?: readonly Link[] },
): Html {
  const { t } = pc;
  return layout(
    pc,
    view.title,
    html`<h1>${view.title}</h1>
${view.sent ? html`<p class="notice" role="status">${view.sent}</p>` : html`<p>${view.intro}</p>`}
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="${view.action}">
${hidden(view.fields)}
<label for="login">${t('recovery.login_label')}</label>
<input type="text" id="login" name="login" value="${view.login ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required>
<div class="actions"><button type="submit">${t('recovery.send_link')}</button></div>
</form>
${links(view.links)}`,
  );
}

/** The page a reset or invitation link opens: a new password, twice (the same rules as the admin API). */
export function setPasswordPage(
  pc: PageContext,
  view: { title: string; intro: string; username: string; action: string; fields: Record<string, string>; error?: string },
): Html {
  const { t } = pc;
  return layout(
    pc,
    view.title,
    html`<h1>${view.title}</h1>
<p>${view.intro}</p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="${view.action}">
${hidden(view.fields)}
<input type="text" name="username" value="${view.username}" autocomplete="username" hidden readonly>
<label for="password">${t('recovery.new_password')}</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="8" maxlength="1024" required aria-describedby="password-rules">
<p class="muted" id="password-rules">${t('recovery.password_rules')}</p>
<label for="password_confirm">${t('recovery.confirm_password')}</label>
<input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password" minlength="8" maxlength="1024" required>
<div class="actions"><button type="submit">${t('recovery.save_password')}</button></div>
</form>`,
  );
}

/** What a GET of a verification link shows: a button, because mail scanners follow links (only the POST uses it). */
export function confirmLinkPage(pc: PageContext, view: { title: string; intro: string; button: string; action: string; fields: Record<string, string> }): Html {
  return layout(
    pc,
    view.title,
    html`<h1>${view.title}</h1>
<p>${view.intro}</p>
<form method="post" action="${view.action}">
${hidden(view.fields)}
<div class="actions"><button type="submit">${view.button}</button></div>
</form>`,
  );
}

/** REQUIRE_EMAIL_VERIFICATION: the sign-in stops here, with a button that sends a new link. */
export function unverifiedPage(pc: PageContext, view: { action: string; fields: Record<string, string> }): Html {
  const { t } = pc;
  return layout(
    pc,
    t('recovery.unverified_title'),
    html`<h1>${t('recovery.unverified_title')}</h1>
<p class="error" role="alert">${t('recovery.unverified')}</p>
<form method="post" action="${view.action}">
${hidden(view.fields)}
<div class="actions"><button type="submit">${t('recovery.resend_button')}</button></div>
</form>`,
  );
}

export interface SignUpView {
  action: string;
  fields: Record<string, string>;
  username?: string;
  email?: string;
  error?: string;
  links?: readonly Link[];
}

export function signUpPage(pc: PageContext, view: SignUpView): Html {
  const { t } = pc;
  return layout(
    pc,
    t('recovery.sign_up_title'),
    html`<h1>${t('recovery.sign_up_title')}</h1>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="${view.action}">
${hidden(view.fields)}
<label for="username">${t('recovery.username')}</label>
<input type="text" id="username" name="username" value="${view.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="255" required aria-describedby="username-rules">
<p class="muted" id="username-rules">${t('recovery.username_rules')}</p>
<label for="email">${t('recovery.email')}</label>
<input type="email" id="email" name="email" value="${view.email ?? ''}" autocomplete="email" maxlength="320" required>
<label for="password">${t('recovery.password')}</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="8" maxlength="1024" required aria-describedby="password-rules">
<p class="muted" id="password-rules">${t('recovery.password_rules')}</p>
<label for="password_confirm">${t('recovery.repeat_password')}</label>
<input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password" minlength="8" maxlength="1024" required>
<div class="actions"><button type="submit">${t('recovery.create_button')}</button></div>
</form>
${links(view.links)}`,
  );
}

export interface AccountEmailView {
  email: string | null;
  emailVerified: boolean;
  action: string;
  csrfToken: string;
  newEmail?: string;
  notice?: string;
  error?: string;
}

/** /account/email: the address, its state, a resend button while unconfirmed, and the change form. */
export function accountEmailPage(pc: PageContext, view: AccountEmailView): Html {
  const { t } = pc;
  const current = view.email
    ? html`<p>${t('recovery.current_email', { email: view.email })} ${view.emailVerified ? t('recovery.email_confirmed') : t('recovery.email_unconfirmed')}</p>`
    : html`<p>${t('recovery.no_email')}</p>`;
  const resend =
    view.email && !view.emailVerified
      ? html`<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<input type="hidden" name="action" value="resend">
<div class="actions"><button type="submit" class="secondary">${t('recovery.resend_button')}</button></div>
</form>`
      : '';
  return accountLayout(pc, {
    section: 'profile',
    title: t('recovery.account_email_title'),
    notice: view.notice,
    body: html`${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${current}
${resend}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<input type="hidden" name="action" value="change">
<label for="email">${t('recovery.new_email')}</label>
<input type="email" id="email" name="email" value="${view.newEmail ?? ''}" autocomplete="email" maxlength="320" required>
<label for="current_password">${t('recovery.current_password')}</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>
<div class="actions"><button type="submit">${t('recovery.change_email_button')}</button></div>
</form>`,
  });
}
