import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const linesFor = (id: string) => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id);

  it('generates a UUID when none is sent, echoes it and logs it', async () => {
    const res = await t.app.inject('/health');
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    expect(linesFor(id).map((l) => l.msg)).toEqual(['request completed']);
  });

  it.each(['abc-123', 'trace:0af7651916cd43dd8448eb211c80319c', 'a.b_c-d', 'x'.repeat(128)])('echoes a well-formed X-Request-ID %s and logs it', async (id) => {
    const res = await t.app.inject({ url: '/health', headers: { 'x-request-id': id } });
    expect(res.headers['x-request-id']).toBe(id);
    const lines = linesFor(id);
    expect(lines.map((l) => l.msg)).toEqual(['request completed']);
    expect(lines[0]).toMatchObject({ req: { method: 'GET', url: '/health' }, res: { statusCode: 200 }, responseTime: expect.any(Number) });
  });

  it('accepts X-Correlation-ID too', async () => {
    const res = await t.app.inject({ url: '/health', headers: { 'x-correlation-id': 'corr-42' } });
    expect(res.headers['x-request-id']).toBe('corr-42');
  });

  it.each([
    ['with spaces', 'has spaces'],
    ['with quotes', 'a"b'],
    ['with a newline escape', 'a\\nb'],
    ['too long', 'x'.repeat(129)],
    ['with a log-injection attempt', '{"level":60}'],
    ['non-ASCII', 'é'],
  ])('replaces a malformed X-Request-ID (%s) by a generated one', async (_name, id) => {
    const res = await t.app.inject({ url: '/health', headers: { 'x-request-id': id } });
    const echoed = res.headers['x-request-id'] as string;
    expect(echoed).toMatch(UUID);
    expect(linesFor(id)).toEqual([]);
    expect(linesFor(echoed).length).toBe(1);
  });

  it('error responses carry the request id too', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'x-request-id': 'err-1' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-request-id']).toBe('err-1');
    const notFound = await t.app.inject({ url: '/nope', headers: { 'x-request-id': 'err-2' } });
    expect(notFound.headers['x-request-id']).toBe('err-2');
  });
});
