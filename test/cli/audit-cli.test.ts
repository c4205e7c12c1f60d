import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCli, listenOnLoopback, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

/** Issue 14 §2 and §4: `authly admin audit list|export` against a listening server. */
describe('authly admin audit', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    url = await listenOnLoopback(t.app);
  });
  afterAll(() => t.close());

  const admin = adminCli(() => url);

  it('lists events as a table, filters them, pages with --cursor and prints JSON with --json', async () => {
    for (const name of ['cli-audit:a', 'cli-audit:b', 'cli-audit:c']) expect((await admin('scope', 'create', name, '--description', name)).code).toBe(0);

    const table = await admin('audit', 'list', '--event', 'admin.scope.*');
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^OCCURRED_AT +EVENT +ACTOR +SUBJECT +CLIENT_ID +IP +REQUEST_ID$/);
    expect(lines.slice(1).map((line) => line.split(/ +/).slice(1, 4))).toEqual(
      ['cli-audit:c', 'cli-audit:b', 'cli-audit:a'].map((name) => ['admin.scope.created', ADMIN_ENV.AUTHLY_ADMIN_CLIENT_ID, name]),
    );

    const first = await admin('audit', 'list', '--event', 'admin.scope.created', '--limit', '2');
    const next = /\(next: --cursor (\S+)\)/.exec(first.stdout)?.[1];
    expect(next).toBeDefined();
    const second = await admin('--json', 'audit', 'list', '--event', 'admin.scope.created', '--limit', '2', '--cursor', next!);
    const page = JSON.parse(second.stdout) as { items: { subject: string; changes: unknown }[]; next_cursor: string | null };
    expect(page.items.map((i) => i.subject)).toEqual(['cli-audit:a']);
    expect(page.items[0]!.changes).toEqual({ description: { to: 'cli-audit:a' }, is_default: { to: false } });
    expect(page.next_cursor).toBeNull();

    const bySubject = JSON.parse((await admin('--json', 'audit', 'list', '--subject', 'cli-audit:b')).stdout) as { items: { event: string }[] };
    expect(bySubject.items.map((i) => i.event)).toEqual(['admin.scope.created']);
    const none = await admin('audit', 'list', '--actor', 'nobody');
    expect(none.stdout).toContain('(none)');
  });

  it('exports JSON lines to stdout, every matching event', async () => {
    const exported = await admin('audit', 'export', '--event', 'admin.scope.created');
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const events = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { event: string; subject: string });
    expect(events.map((e) => e.subject)).toEqual(['cli-audit:c', 'cli-audit:b', 'cli-audit:a']);
  });

  it('reports bad input as the API does, and documents the commands', async () => {
    expect(await admin('audit', 'list', '--since', 'yesterday')).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/since/) });
    expect(await admin('audit', 'export', '--until', 'soon')).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/until/) });
    expect((await admin('audit', 'export', '--limit', '5')).code).toBe(2);
    const help = (await runCli(['admin', 'audit', 'list', '--help'])).stdout;
    expect(help).toMatch(/^ {2}--event VALUE\s+an event name/m);
    expect(help).toMatch(/^ {2}--request-id VALUE\s/m);
    expect((await runCli(['admin', '--help'])).stdout).toMatch(/^ {2}audit export\s/m);
  });
});
