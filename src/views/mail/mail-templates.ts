import type { Config } from '../../config/config.js';
import { MailTemplateError } from '../../errors/mail-errors.js';
import { DEFAULT_LOCALE, LOCALES, type Locale } from '../../lib/locales.js';
import type { RenderedMail, RenderMail } from '../../services/mail/mail-message.js';
import type { MailTemplateName } from '../../services/mail/mail-outbox.js';
import { html, type Html } from '../html.js';
import { translator, type MessageKey, type Translate } from '../i18n/catalogue.js';
import { brandFrom, type Brand } from '../page-context.js';

/** What one template says, in the message's language: the text and HTML bodies are both built from it. */
interface MailContent {
  subject: string;
  /** Paragraphs before the button. */
  lead: string[];
  action?: { label: string; url: string };
  /** Paragraphs after the button (expiry, "not you?"). */
  after: string[];
}

interface Template {
  /** The data keys its callers pass (fixed by issue 12 §1; a missing one is a programming error). */
  keys: readonly string[];
  /** Data keys holding links: absolute URLs on the issuer. */
  links: readonly string[];
  content(t: Translate, data: Readonly<Record<string, string>>, brand: Brand): MailContent;
}

const MFA_CHANGES = ['totp_enabled', 'totp_disabled', 'recovery_codes_regenerated', 'factors_reset'] as const;

const accountAction = (t: Translate, data: Readonly<Record<string, string>>) => ({ label: t('mail.open_account'), url: data.accountUrl! });

/** One template per MailTemplateName (src/services/mail/mail-outbox.ts); the Record keeps the two lists equal. */
const TEMPLATES: Record<MailTemplateName, Template> = {
  email_verification: {
    keys: ['username', 'link', 'expiresMinutes'],
    links: ['link'],
    content: (t, d, b) => ({
      subject: t('mail.email_verification.subject', { product: b.productName }),
      lead: [t('mail.email_verification.body')],
      action: { label: t('mail.email_verification.action'), url: d.link! },
      after: [t('mail.expires_minutes', { minutes: d.expiresMinutes! }), t('mail.email_verification.ignore')],
    }),
  },
  password_reset: {
    keys: ['username', 'link', 'expiresMinutes'],
    links: ['link'],
    content: (t, d, b) => ({
      subject: t('mail.password_reset.subject', { product: b.productName }),
      lead: [t('mail.password_reset.body')],
      action: { label: t('mail.password_reset.action'), url: d.link! },
      after: [t('mail.expires_minutes', { minutes: d.expiresMinutes! }), t('mail.password_reset.ignore')],
    }),
  },
  password_changed: {
    keys: ['username', 'accountUrl'],
    links: ['accountUrl'],
    content: (t, d, b) => ({
      subject: t('mail.password_changed.subject', { product: b.productName }),
      lead: [t('mail.password_changed.body'), t('mail.not_you')],
      action: accountAction(t, d),
      after: [],
    }),
  },
  invitation: {
    keys: ['username', 'link', 'expiresHours'],
    links: ['link'],
    content: (t, d, b) => ({
      subject: t('mail.invitation.subject', { product: b.productName }),
      lead: [t('mail.invitation.body')],
      action: { label: t('mail.invitation.action'), url: d.link! },
      after: [t('mail.expires_hours', { hours: d.expiresHours! })],
    }),
  },
  email_changed: {
    keys: ['username', 'newEmail', 'accountUrl'],
    links: ['accountUrl'],
    content: (t, d, b) => ({
      subject: t('mail.email_changed.subject', { product: b.productName }),
      lead: [t('mail.email_changed.body', { newEmail: d.newEmail! }), t('mail.not_you')],
      action: accountAction(t, d),
      after: [],
    }),
  },
  passkey_added: {
    keys: ['username', 'passkeyName', 'accountUrl'],
    links: ['accountUrl'],
    content: (t, d, b) => ({
      subject: t('mail.passkey_added.subject', { product: b.productName }),
      lead: [t('mail.passkey_added.body', { passkeyName: d.passkeyName! }), t('mail.not_you')],
      action: accountAction(t, d),
      after: [],
    }),
  },
  passkey_removed: {
    keys: ['username', 'passkeyName', 'accountUrl'],
    links: ['accountUrl'],
    content: (t, d, b) => ({
      subject: t('mail.passkey_removed.subject', { product: b.productName }),
      lead: [t('mail.passkey_removed.body', { passkeyName: d.passkeyName! }), t('mail.not_you')],
      action: accountAction(t, d),
      after: [],
    }),
  },
  mfa_changed: {
    keys: ['username', 'change', 'accountUrl'],
    links: ['accountUrl'],
    content: (t, d, b) => {
      const change = MFA_CHANGES.find((c) => c === d.change);
      if (!change) throw new MailTemplateError(`mfa_changed: unknown change "${d.change}" (expected ${MFA_CHANGES.join(', ')})`);
      return {
        subject: t('mail.mfa_changed.subject', { product: b.productName }),
        lead: [t(`mail.mfa_changed.${change}` satisfies MessageKey), t('mail.not_you')],
        action: accountAction(t, d),
        after: [],
      };
    },
  },
};

export const MAIL_TEMPLATE_NAMES = Object.keys(TEMPLATES) as MailTemplateName[];

function textBody(t: Translate, username: string, content: MailContent, brand: Brand): string {
  const parts = [t('mail.greeting', { username }), ...content.lead];
  if (content.action) parts.push(`${content.action.label}:\n${content.action.url}`);
  parts.push(...content.after, `-- \n${t('mail.sent_by', { product: brand.productName })}`);
  return `${parts.join('\n\n')}\n`;
}

/** Plain HTML with inline styles (mail clients drop stylesheets); every value is escaped. */
function htmlBody(locale: Locale, t: Translate, username: string, content: MailContent, brand: Brand): string {
  const p = (text: string): Html => html`<p style="margin:0 0 16px;line-height:1.5">${text}</p>`;
  const action = content.action
    ? html`<p style="margin:24px 0"><a href="${content.action.url}" style="background:#2f66d8;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">${content.action.label}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#5b6475">${t('mail.link_fallback')}<br><a href="${content.action.url}" style="color:#2456c4;word-break:break-all">${content.action.url}</a></p>`
    : '';
  return html`<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${content.subject}</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;padding:24px">
<p style="margin:0 0 16px;font-weight:600">${brand.productName}</p>
${p(t('mail.greeting', { username }))}
${content.lead.map(p)}
${action}
${content.after.map(p)}
<p style="margin:24px 0 0;font-size:13px;color:#5b6475">${t('mail.sent_by', { product: brand.productName })}</p>
</div></body></html>
`.value;
}

/**
 * The renderer the mail worker uses: one template per message kind, subject, plain text and HTML from the
 * same catalogue strings (area `mail`) in the row's language, with the brand's name. Links must be
 * absolute on the issuer: a mail is read outside the browser that asked for it, so a relative link would
 * resolve nowhere, and a link elsewhere is a bug worth stopping.
 */
export function mailRenderer(config: Readonly<Config>): RenderMail {
  const brand = brandFrom(config);
  return (name, localeTag, data): RenderedMail => {
    const template = (TEMPLATES as Record<string, Template | undefined>)[name];
    if (!template || !Object.hasOwn(TEMPLATES, name)) throw new MailTemplateError(`unknown template "${name}"`);
    for (const key of template.keys) {
      if (typeof data[key] !== 'string' || data[key] === '') throw new MailTemplateError(`${name}: missing data key "${key}"`);
    }
    for (const key of template.links) {
      if (!data[key]!.startsWith(`${config.issuer}/`)) throw new MailTemplateError(`${name}: "${key}" is not an absolute URL on the issuer`);
    }
    const locale = LOCALES.find((l) => l === localeTag) ?? DEFAULT_LOCALE;
    const t = translator(locale);
    const content = template.content(t, data, brand);
    const username = data.username!;
    return { subject: content.subject, text: textBody(t, username, content, brand), html: htmlBody(locale, t, username, content, brand) };
  };
}
