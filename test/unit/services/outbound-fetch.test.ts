import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientMetadataRefused } from '../../../src/errors/client-metadata-errors.js';
import { OutboundFetcher, type GuardedRequest, type ResolveAll } from '../../../src/services/outbound-fetch.js';
import { MetadataDocumentServer } from '../../helpers/metadata-document-server.js';
import { LogoutReceiver } from '../../helpers/logout-receiver.js';

/** The SSRF-guarded fetcher (src/services/outbound-fetch.ts) against a real server on 127.0.0.1. */
describe('OutboundFetcher', () => {
  let docs: MetadataDocumentServer;
  let port: string;

  beforeAll(async () => {
    docs = await MetadataDocumentServer.start();
    port = new URL(docs.base).port;
  });
  afterAll(() => docs.close());

  const request = (url: string, overrides: Partial<GuardedRequest> = {}): GuardedRequest => ({
    url: new URL(url),
    allowLoopback: true,
    timeoutMs: 10_000,
    maxBytes: 5120,
    accept: 'application/json',
    contentTypeOk: () => true,
    ...overrides,
  });

  async function refusal(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (err) {
      if (err instanceof ClientMetadataRefused) return err.reason;
      throw err;
    }
    throw new Error('expected a refusal');
  }

  /** A resolver answering fixed addresses and counting its calls. */
  function resolver(addresses: string[]): ResolveAll & { calls: string[] } {
    const calls: string[] = [];
    const resolve = async (hostname: string) => {
      calls.push(hostname);
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    return Object.assign(resolve, { calls });
  }

  it('refuses a name that resolves to a private address, before connecting', async () => {
    const resolve = resolver(['10.0.0.5']);
    const fetcher = new OutboundFetcher({ maxPerHost: 4, resolve });
    expect(await refusal(fetcher.fetch(request('https://metadata.example.com/client.json')))).toBe('forbidden_address');
    expect(resolve.calls).toEqual(['metadata.example.com']);
  });

  it.each([
    [['93.184.216.34', '10.0.0.5']],
    [['2606:2800:220:1::1', 'fe80::1']],
    [['::ffff:192.168.0.1']],
    [['169.254.169.254']],
    [['64:ff9b::a00:1']],
  ])('refuses when any address of the name is not public: %j', async (addresses) => {
    const fetcher = new OutboundFetcher({ maxPerHost: 4, resolve: resolver(addresses) });
    expect(await refusal(fetcher.fetch(request('https://metadata.example.com/client.json')))).toBe('forbidden_address');
  });

  it('refuses loopback for any host but the loopback names, even with the loopback allowance (DNS rebinding to 127.0.0.1)', async () => {
    const fetcher = new OutboundFetcher({ maxPerHost: 4, resolve: resolver(['127.0.0.1']) });
    expect(await refusal(fetcher.fetch(request(`https://rebind.example.com:${port}/client.json`)))).toBe('forbidden_address');
    expect(await refusal(fetcher.fetch(request(`http://rebind.example.com:${port}/client.json`)))).toBe('invalid_url');
  });

  it('refuses loopback without the allowance, and http for any other host', async () => {
    const fetcher = new OutboundFetcher({ maxPerHost: 4 });
    docs.document('/loop.json');
    expect(await refusal(fetcher.fetch(request(`${docs.base}/loop.json`, { allowLoopback: false })))).toBe('invalid_url');
    expect(await refusal(fetcher.fetch(request(`https://127.0.0.1:${port}/loop.json`, { allowLoopback: false })))).toBe('forbidden_address');
    expect(docs.count('/loop.json')).toBe(0);
  });

  it('resolves once and connects to the address it checked', async () => {
    const resolve = resolver(['127.0.0.1']);
    const fetcher = new OutboundFetcher({ maxPerHost: 4, resolve });
    docs.document('/pinned.json');
    const response = await fetcher.fetch(request(`http://localhost:${port}/pinned.json`));
    expect(JSON.parse(response.body.toString()).client_name).toBe('MCP Test Client');
    expect(resolve.calls).toEqual(['localhost']);
    expect(docs.count('/pinned.json')).toBe(1);
  });

  it('gives up after the timeout', async () => {
    const fetcher = new OutboundFetcher({ maxPerHost: 4 });
    docs.serve('/slow.json', { hang: true });
    const started = Date.now();
    expect(await refusal(fetcher.fetch(request(`${docs.base}/slow.json`, { timeoutMs: 300 })))).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('keeps at most maxPerHost fetches in flight to one host; the others wait their turn', async () => {
    const fetcher = new OutboundFetcher({ maxPerHost: 2 });
    docs.serve('/held.json', { hang: true });
    const fetches = Array.from({ length: 5 }, () => refusal(fetcher.fetch(request(`${docs.base}/held.json`, { timeoutMs: 6000 }))));
    // Wait until the server holds the allowed two, then give the others time to (wrongly) arrive.
    for (let i = 0; i < 500 && docs.count('/held.json') < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    expect(docs.count('/held.json')).toBe(2);
    expect(await Promise.all(fetches)).toEqual(['timeout', 'timeout', 'timeout', 'timeout', 'timeout']);
  });

  it('refuses a refused connection as a network error', async () => {
    const fetcher = new OutboundFetcher({ maxPerHost: 4 });
    // Port 1 on loopback: nothing listens there.
    expect(await refusal(fetcher.fetch(request('http://127.0.0.1:1/client.json')))).toBe('network_error');
  });

  it('refuses a name that does not resolve', async () => {
    const fetcher = new OutboundFetcher({ maxPerHost: 4, resolve: async () => Promise.reject(new Error('ENOTFOUND')) });
    expect(await refusal(fetcher.fetch(request('https://nowhere.example.com/client.json')))).toBe('dns_failed');
    const empty = new OutboundFetcher({ maxPerHost: 4, resolve: resolver([]) });
    expect(await refusal(empty.fetch(request('https://nowhere.example.com/client.json')))).toBe('dns_failed');
  });
});

/** post(): the back-channel logout's form POST, through the same guard. */
describe('OutboundFetcher.post', () => {
  const receiver = new LogoutReceiver();
  beforeAll(() => receiver.listen());
  afterAll(() => receiver.close());

  const post = (fetcher: OutboundFetcher, url: string, allowLoopback = true) =>
    fetcher.post({ url: new URL(url), allowLoopback, timeoutMs: 2000, form: new URLSearchParams({ logout_token: 'a.b.c' }), maxResponseBytes: 1024, userAgent: 'test' });

  it('sends the form and reports the status, whatever it is', async () => {
    const fetcher = new OutboundFetcher({ maxPerHost: 2 });
    expect(await post(fetcher, receiver.url('/p?x=1'))).toEqual({ status: 200 });
    receiver.status = 503;
    expect(await post(fetcher, receiver.url('/p?x=1'))).toEqual({ status: 503 });
    receiver.status = 200;
    expect(receiver.at('/p?x=1').map((r) => [r.contentType, r.form])).toEqual([
      ['application/x-www-form-urlencoded', [['logout_token', 'a.b.c']]],
      ['application/x-www-form-urlencoded', [['logout_token', 'a.b.c']]],
    ]);
  });

  it('refuses loopback without the development setting, and a name resolving to a private address, before connecting', async () => {
    const before = receiver.received.length;
    const calls: string[] = [];
    const fetcher = new OutboundFetcher({ maxPerHost: 2, resolve: async (host) => (calls.push(host), [{ address: '192.168.1.10', family: 4 }]) });
    await expect(post(fetcher, receiver.url('/p'), false)).rejects.toMatchObject({ reason: 'invalid_url' });
    await expect(post(fetcher, `https://127.0.0.1:${receiver.port}/p`, false)).rejects.toMatchObject({ reason: 'forbidden_address' });
    await expect(post(fetcher, 'https://rp.example.com/p')).rejects.toMatchObject({ reason: 'forbidden_address' });
    expect(calls).toEqual(['rp.example.com']);
    expect(receiver.received.length).toBe(before);
  });

  it('times out a client that never answers', async () => {
    receiver.hang = true;
    try {
      await expect(post(new OutboundFetcher({ maxPerHost: 2 }), receiver.url('/hang'))).rejects.toMatchObject({ reason: 'timeout' });
    } finally {
      receiver.hang = false;
    }
  });
});
