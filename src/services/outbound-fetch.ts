import { promises as dns } from 'node:dns';
import type { IncomingHttpHeaders } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { ClientMetadataRefused } from '../errors/client-metadata-errors.js';
import { classifyAddress } from '../lib/special-use-addresses.js';

/**
 * GET (and POST) of a URL that a client supplied, guarded against SSRF (SECURITY.md, "Everywhere"): the host is
 * resolved here and every address it resolves to must be public unicast (src/lib/special-use-addresses.ts);
 * the connection goes to the address that was checked (a pinned lookup, so a second DNS answer — DNS
 * rebinding — cannot swap it); no redirect is followed, nothing but 200 is read, the body is bounded and
 * the whole exchange has one deadline. No cookies are sent or kept, no connection is reused.
 */

export type ResolveAll = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface OutboundFetcherOptions {
  /** Fetches in flight to one host; more wait (within their deadline). */
  maxPerHost: number;
  /** Tests resolve names of their own; default dns.promises.lookup with all addresses. */
  resolve?: ResolveAll;
}

export interface GuardedRequest {
  url: URL;
  /** Loopback is allowed only for this request's loopback host (CIMD_ALLOW_LOOPBACK, development). */
  allowLoopback: boolean;
  timeoutMs: number;
  maxBytes: number;
  accept: string;
  /** Checked on the headers, before the body is read. */
  contentTypeOk: (contentType: string | undefined) => boolean;
}

export interface GuardedResponse {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A form POST to a client's URL (back-channel logout): the same guard, any status reported. */
export interface GuardedPost {
  url: URL;
  /** Loopback is allowed only for this request's loopback host (OUTBOUND_ALLOW_LOOPBACK, development). */
  allowLoopback: boolean;
  timeoutMs: number;
  /** application/x-www-form-urlencoded. */
  form: URLSearchParams;
  /** At most this much of the answer is read (and thrown away); the status is what counts. */
  maxResponseBytes: number;
  userAgent: string;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const defaultResolve: ResolveAll = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export class OutboundFetcher {
  private readonly perHost = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly options: OutboundFetcherOptions) {}

  /** The body of a 200 response, or ClientMetadataRefused naming why not. */
  async fetch(request: GuardedRequest): Promise<GuardedResponse> {
    const deadline = Date.now() + request.timeoutMs;
    return this.guarded(request.url, request.allowLoopback, deadline, (address) => this.get(request, address, deadline));
  }

  /**
   * POSTs the form and resolves with the answer's status, whatever it is (a 3xx is reported, never
   * followed); ClientMetadataRefused when the guard refuses the URL or no answer came in time.
   */
  async post(request: GuardedPost): Promise<{ status: number }> {
    const deadline = Date.now() + request.timeoutMs;
    return this.guarded(request.url, request.allowLoopback, deadline, (address) => this.postForm(request, address, deadline));
  }

  private async guarded<T>(url: URL, allowLoopback: boolean, deadline: number, exchange: (address: { address: string; family: number }) => Promise<T>): Promise<T> {
    const loopbackAllowed = allowLoopback && LOOPBACK_HOSTS.has(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackAllowed)) {
      throw new ClientMetadataRefused('invalid_url', 'The client_id URL must use https.');
    }
    const address = await this.checkedAddress(url.hostname, loopbackAllowed, deadline);
    const release = await this.acquire(url.host, deadline);
    try {
      return await exchange(address);
    } finally {
      release();
    }
  }

  /** The address to connect to: every address of the host must be allowed, the first is used. */
  private async checkedAddress(hostname: string, loopbackAllowed: boolean, deadline: number): Promise<{ address: string; family: number }> {
    const literal = hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string; family: number }[];
    if (isIP(literal)) {
      addresses = [{ address: literal, family: isIP(literal) }];
    } else {
      try {
        addresses = await withDeadline((this.options.resolve ?? defaultResolve)(hostname), deadline);
      } catch (err) {
        if (err instanceof ClientMetadataRefused) throw err;
        throw new ClientMetadataRefused('dns_failed', 'The client_id URL host could not be resolved.');
      }
    }
    if (addresses.length === 0) throw new ClientMetadataRefused('dns_failed', 'The client_id URL host could not be resolved.');
    for (const { address } of addresses) {
      const kind = classifyAddress(address);
      if (kind === 'public' || (kind === 'loopback' && loopbackAllowed)) continue;
      throw new ClientMetadataRefused('forbidden_address', 'The client_id URL host is not a public internet address.');
    }
    return addresses[0]!;
  }

  private async acquire(host: string, deadline: number): Promise<() => void> {
    let slot = this.perHost.get(host);
    if (!slot) this.perHost.set(host, (slot = { active: 0, waiting: [] }));
    const s = slot;
    if (s.active >= this.options.maxPerHost) {
      let resume!: () => void;
      const turn = new Promise<void>((resolve) => (resume = resolve));
      s.waiting.push(resume);
      try {
        await withDeadline(turn, deadline);
      } catch (err) {
        const at = s.waiting.indexOf(resume);
        if (at >= 0) s.waiting.splice(at, 1);
        else this.releaseSlot(host, s); // the turn came as the deadline passed: hand it on
        throw err;
      }
    } else {
      s.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseSlot(host, s);
    };
  }

  private releaseSlot(host: string, slot: { active: number; waiting: (() => void)[] }): void {
    const next = slot.waiting.shift();
    // The slot passes straight to the next waiter (active stays the same).
    if (next) return next();
    slot.active--;
    if (slot.active === 0) this.perHost.delete(host);
  }

  private postForm(request: GuardedPost, target: { address: string; family: number }, deadline: number): Promise<{ status: number }> {
    const body = request.form.toString();
    const req = pinnedRequest(request.url, target, 'POST', {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': request.userAgent,
    });
    return new Promise<{ status: number }>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: { status: number } | ClientMetadataRefused) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        if (outcome instanceof ClientMetadataRefused) reject(outcome);
        else resolve(outcome);
      };
      const timer = setTimeout(() => settle(new ClientMetadataRefused('timeout', 'The request timed out.')), Math.max(deadline - Date.now(), 1));
      req.on('error', () => settle(new ClientMetadataRefused('network_error', 'The URL could not be reached.')));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        let size = 0;
        // The answer is read to its end (or the bound) so the status is that of a complete exchange.
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > request.maxResponseBytes) settle({ status });
        });
        res.on('error', () => settle(new ClientMetadataRefused('network_error', 'The URL could not be reached.')));
        res.on('end', () => settle({ status }));
      });
      req.end(body);
    });
  }

  private get(request: GuardedRequest, target: { address: string; family: number }, deadline: number): Promise<GuardedResponse> {
    return new Promise<GuardedResponse>((resolve, reject) => {
      const remaining = Math.max(deadline - Date.now(), 1);
      const req = pinnedRequest(request.url, target, 'GET', { accept: request.accept, 'user-agent': 'Authly (client metadata fetcher)' });
      let settled = false;
      const fail = (err: ClientMetadataRefused) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new ClientMetadataRefused('timeout', 'Fetching the client metadata document timed out.')), remaining);
      req.on('error', () => fail(new ClientMetadataRefused('network_error', 'The client metadata document could not be fetched.')));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        // draft-ietf-oauth-client-id-metadata-document section 4: no redirects; anything but 200 is an error.
        if (status >= 300 && status < 400) {
          return fail(new ClientMetadataRefused('redirect', 'The client metadata document URL redirects; redirects are not followed.'));
        }
        if (status !== 200) return fail(new ClientMetadataRefused('status', `Fetching the client metadata document returned HTTP ${status}.`));
        if (!request.contentTypeOk(res.headers['content-type'])) {
          return fail(new ClientMetadataRefused('content_type', 'The client metadata document is not served as application/json.'));
        }
        const tooLarge = () => fail(new ClientMetadataRefused('too_large', `The client metadata document is larger than ${request.maxBytes} bytes.`));
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > request.maxBytes) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // Reading stops here: the rest of an oversized body is never buffered.
          if (size > request.maxBytes) return tooLarge();
          chunks.push(chunk);
        });
        res.on('error', () => fail(new ClientMetadataRefused('network_error', 'The client metadata document could not be fetched.')));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end();
    });
  }
}

/**
 * A request to the checked address whatever the resolver would answer now (a pinned lookup), with the
 * URL's host name for TLS (SNI, certificate) and the Host header; no agent: no connection is reused.
 */
function pinnedRequest(url: URL, target: { address: string; family: number }, method: 'GET' | 'POST', headers: Record<string, string>): http.ClientRequest {
  const pinned: LookupFunction = (_hostname, options, callback) => {
    const cb = callback as (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void;
    if ((options as { all?: boolean }).all) cb(null, [target]);
    else cb(null, target.address, target.family);
  };
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const client = url.protocol === 'https:' ? https : http;
  return client.request({
    protocol: url.protocol,
    host: hostname,
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    method,
    lookup: pinned,
    agent: false,
    ...(url.protocol === 'https:' && !isIP(hostname) ? { servername: hostname } : {}),
    headers,
  });
}

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ClientMetadataRefused('timeout', 'Fetching the client metadata document timed out.')),
      Math.max(deadline - Date.now(), 1),
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
