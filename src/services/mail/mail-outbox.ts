import type { Queryable } from '../../db/db.js';
import type { Locale } from '../../lib/locales.js';
import { insertMail } from '../../repositories/mail-outbox-repository.js';

/**
 * The messages Authly sends. Each name has one template (subject, plain text and HTML from the same
 * strings) in src/services/mail/templates/; `data` holds its variables, links absolute on the issuer.
 */
export type MailTemplateName =
  | 'email_verification'
  | 'password_reset'
  | 'password_changed'
  | 'invitation'
  | 'email_changed'
  | 'passkey_added'
  | 'passkey_removed'
  | 'mfa_changed';

export interface OutgoingMail {
  to: string;
  template: MailTemplateName;
  locale: Locale;
  data: Record<string, string>;
}

/**
 * Queues a message for the mail worker: the request never waits for SMTP and an SMTP outage loses
 * nothing. `db` is the transaction of the change the mail reports, when there is one.
 */
export async function enqueueMail(db: Queryable, mail: OutgoingMail): Promise<string> {
  return insertMail(db, { recipient: mail.to, template: mail.template, locale: mail.locale, data: mail.data });
}
