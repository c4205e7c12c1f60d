import type { LightMyRequestResponse } from 'fastify';
import { csrfToken, formAction, InjectBrowser } from '../../helpers/browser.js';
import type { TestApp } from '../../helpers/test-app.js';

export interface OutboxRow {
  recipient: string;
  template: string;
  locale: string;
  data: Record<string, string>;
}

/** The queued mail, oldest first: the contract between the parts is this table (recipient, template, data.link). */
export async function outbox(t: TestApp, template?: string): Promise<OutboxRow[]> {
  const { rows } = await t.testDb.db.query<OutboxRow>(
    `SELECT recipient, template, locale, data FROM mail_outbox ${template ? 'WHERE template = $1' : ''} ORDER BY created_at, id`,
    template ? [template] : [],
  );
  return rows.map((r) => ({ ...r, data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, string>) : r.data }));
}

/** The latest link mailed to `recipient` with `template`: its path and query, ready for inject. */
export async function latestLink(t: TestApp, recipient: string, template: string): Promise<string> {
  const rows = (await outbox(t, template)).filter((r) => r.recipient === recipient);
  const link = rows.at(-1)?.data.link;
  if (!link) throw new Error(`no ${template} mail to ${recipient}`);
  const url = new URL(link);
  return url.pathname + url.search;
}

export function tokenOf(path: string): string {
  return new URL(path, 'http://x').searchParams.get('token')!;
}

/** GETs a page with a form and posts it with `fields` (the page's hidden fields first). */
export async function submit(browser: InjectBrowser, url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  const page = await browser.get(url);
  if (page.statusCode !== 200) throw new Error(`GET ${url}: ${page.statusCode} ${page.body.slice(0, 300)}`);
  return browser.post(formAction(page.body), { ...hiddenFields(page.body), ...fields });
}

/** Every hidden input of the first form. */
export function hiddenFields(html: string): Record<string, string> {
  const form = html.slice(html.indexOf('<form'));
  const out: Record<string, string> = {};
  for (const m of form.slice(0, form.indexOf('</form>')).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1]!] = m[2]!.replace(/&amp;/g, '&');
  }
  if (!('csrf_token' in out)) out.csrf_token = csrfToken(html);
  return out;
}
