import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCli, listenOnLoopback } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_ENV } from '../http/admin/admin-helpers.js';

describe('authly admin keys against a listening server', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp(ADMIN_ENV);
    url = await listenOnLoopback(t.app);
  });
  afterAll(() => t.close());

  const admin = adminCli(() => url);

  it('lists, rotates, refuses an early retire, and revokes with --emergency', async () => {
    const list = await admin('keys', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^KID +ALG +STATUS +CREATED_AT +ACTIVATED_AT +SIGNS_FROM +UNPUBLISH_AFTER\n\S+ +RS256 +active +/);

    const rotate = await admin('--json', 'keys', 'rotate');
    expect(rotate).toMatchObject({ code: 0, stderr: '' });
    const next = (JSON.parse(rotate.stdout) as { changes: { kind: string; kid: string }[] }).changes[0]!;
    expect(next.kind).toBe('create');
    const listed = JSON.parse((await admin('--json', 'keys', 'list')).stdout) as { items: { kid: string; status: string }[] };
    expect(listed.items.map((k) => k.status).sort()).toEqual(['active', 'next']);

    const active = listed.items.find((k) => k.status === 'active')!.kid;
    expect(await admin('keys', 'retire', active)).toMatchObject({ code: 1, stderr: expect.stringMatching(/is active: rotate first/) });

    const emergency = await admin('--json', 'keys', 'rotate', '--emergency');
    expect(emergency.code).toBe(0);
    const changes = (JSON.parse(emergency.stdout) as { changes: { kind: string; kid: string }[] }).changes;
    expect(changes.map((c) => [c.kind, c.kid])).toEqual([
      ['revoke', active],
      ['activate', next.kid],
    ]);
    const after = JSON.parse((await admin('--json', 'keys', 'list')).stdout) as { items: { kid: string; status: string }[] };
    expect(after.items.find((k) => k.kid === active)?.status).toBe('revoked');
    expect(after.items.find((k) => k.kid === next.kid)?.status).toBe('active');
    expect((await admin('keys', 'revoke', active)).code).toBe(1);
    expect((await admin('keys', 'rotate', '--help')).stdout).toMatch(/--emergency/);
  });
});
