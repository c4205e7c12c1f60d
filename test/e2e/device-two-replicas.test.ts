import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectBrowser } from '../helpers/browser.js';
import { createUser, type TestClient } from '../helpers/fixtures.js';
import { approveDevice, createDeviceClient, enterUserCode, forgetLastPoll, poll, startDevice } from '../helpers/device-flow.js';
import { startReplica, type Replica } from '../helpers/redis.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import type { User } from '../../src/repositories/users-repository.js';

/**
 * RFC 8628 across two replicas on one database (no Redis: the polling state and the user code throttle live
 * in the database). A device may poll either replica; they agree on slow_down and issue tokens once.
 */
describe('device grant on two replicas over one database', () => {
  let testDb: TestDb;
  let a: Replica;
  let b: Replica;
  let client: TestClient;
  let user: User;

  beforeAll(async () => {
    testDb = await createTestDb();
    const env = { RATE_LIMIT_ENABLED: 'false', AUTHLY_LOCKOUT_MAX_ATTEMPTS: '1' };
    a = await startReplica(testDb.db, env);
    b = await startReplica(testDb.db, env);
    client = await createDeviceClient(a.app);
    user = await createUser(a.app);
  });
  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await testDb?.drop();
  });

  it('slow_down and a single issue of tokens hold across two replicas', async () => {
    const started = await startDevice(a.app, client, { scope: 'openid' });
    expect((await poll(a.app, client, started.device_code)).json().error).toBe('authorization_pending');
    // The second poll reaches the other replica at once: too fast all the same.
    expect((await poll(b.app, client, started.device_code)).json().error).toBe('slow_down');

    // Started on A, approved through B's pages.
    const page = await approveDevice(new InjectBrowser(b.app), started.user_code, user.username);
    expect(page.statusCode).toBe(200);
    await forgetLastPoll(a.app);
    const answers = await Promise.all([poll(a.app, client, started.device_code), poll(b.app, client, started.device_code)]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    await forgetLastPoll(a.app);
    const late = await poll(b.app, client, started.device_code);
    expect(late.json()).toEqual({ error: 'invalid_grant', error_description: 'device_code was already used' });
  });

  it('user code guesses from one address count on both replicas together', async () => {
    const started = await startDevice(b.app, client);
    for (let i = 0; i < 10; i++) {
      const replica = i % 2 === 0 ? a : b;
      expect((await enterUserCode(new InjectBrowser(replica.app, '203.0.113.50'), 'ZZZZ-ZZZZ')).statusCode).toBe(400);
    }
    expect((await enterUserCode(new InjectBrowser(a.app, '203.0.113.50'), started.user_code)).statusCode).toBe(429);
    expect((await enterUserCode(new InjectBrowser(b.app, '203.0.113.50'), started.user_code)).statusCode).toBe(429);
  });
});
