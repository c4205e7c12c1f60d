import type { Queryable } from '../db/db.js';

export interface QueuedMail {
  recipient: string;
  template: string;
  locale: string;
  data: Record<string, string>;
}

/** Queues one message; pass the transaction of the change it reports, so both commit or neither. */
export async function insertMail(db: Queryable, mail: QueuedMail): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO mail_outbox (recipient, template, locale, data) VALUES ($1, $2, $3, $4) RETURNING id',
    [mail.recipient, mail.template, mail.locale, JSON.stringify(mail.data)],
  );
  return rows[0]!.id;
}
