import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAdmissionControl } from '../../../src/http/admission-control.js';

/**
 * AUTHLY_MAX_INFLIGHT_EXPENSIVE: token and login posts beyond the cap are refused at once with 503 +
 * Retry-After (OAuth body), the slot is given back when a response ends, and other routes are never capped.
 */
describe('admission control', () => {
  let app: FastifyInstance;
  afterEach(() => app.close());

  async function appWithCap(max: number) {
    const gates: (() => void)[] = [];
    const refused: string[] = [];
    app = Fastify();
    registerAdmissionControl(app, max, (route) => refused.push(route));
    const held = () => new Promise<{ ok: true }>((resolve) => gates.push(() => resolve({ ok: true })));
    app.post('/oauth/token', held);
    app.post('/interaction/:uid/login', held);
    app.get('/health', async () => ({ status: 'ok' }));
    await app.ready();
    return { gates, refused };
  }

  it('refuses beyond the cap with 503 temporarily_unavailable and Retry-After, then admits again', async () => {
    const { gates, refused } = await appWithCap(2);
    const first = [app.inject({ method: 'POST', url: '/oauth/token' }), app.inject({ method: 'POST', url: '/interaction/u1/login' })];
    await expect.poll(() => gates.length).toBe(2);

    const over = await app.inject({ method: 'POST', url: '/oauth/token' });
    expect(over.statusCode).toBe(503);
    expect(over.headers['retry-after']).toBe('1');
    expect(over.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'too many requests in progress; retry' });
    expect(refused).toEqual(['/oauth/token']);
    // Probes are not capped.
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    for (const open of gates.splice(0)) open();
    expect((await Promise.all(first)).map((r) => r.statusCode)).toEqual([200, 200]);
    const again = app.inject({ method: 'POST', url: '/oauth/token' });
    await expect.poll(() => gates.length).toBe(1);
    gates[0]!();
    expect((await again).statusCode).toBe(200);
  });

  it('0 disables the cap', async () => {
    const { gates } = await appWithCap(0);
    const all = Array.from({ length: 5 }, () => app.inject({ method: 'POST', url: '/oauth/token' }));
    await expect.poll(() => gates.length).toBe(5);
    for (const open of gates) open();
    expect((await Promise.all(all)).every((r) => r.statusCode === 200)).toBe(true);
  });
});
