import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A minimal browser over app.inject: keeps cookies per path, follows nothing by itself, and can read the
 * hidden CSRF field of a page, so tests can walk the login and consent forms as a user would.
 */
export class InjectBrowser {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  /** remoteAddress: the address the browser's requests come from (default: light-my-request's 127.0.0.1). */
  constructor(
    private readonly app: FastifyInstance,
    private readonly remoteAddress?: string,
  ) {}

  private cookieHeader(url: string): string | undefined {
    const path = new URL(url, 'http://localhost').pathname;
    const pairs = [...this.cookies.entries()]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([key, c]) => `${key.split('|')[0]}=${c.value}`);
    return pairs.length ? pairs.join('; ') : undefined;
  }

  private store(res: LightMyRequestResponse): void {
    for (const c of res.cookies as { name: string; value: string; path?: string; maxAge?: number; expires?: Date }[]) {
      const key = `${c.name}|${c.path ?? '/'}`;
      const expired = c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now()) || c.value === '';
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { value: c.value, path: c.path ?? '/' });
    }
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader(url);
    const res = await this.app.inject({ method: 'GET', url, remoteAddress: this.remoteAddress, headers: cookie ? { cookie } : {} });
    this.store(res);
    return res;
  }

  async post(url: string, form: Record<string, string>): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader(url);
    const res = await this.app.inject({
      method: 'POST',
      url,
      remoteAddress: this.remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      payload: new URLSearchParams(form).toString(),
    });
    this.store(res);
    return res;
  }

  /** The value of a cookie the browser holds (for requests made outside it), or undefined. */
  cookieValue(name: string): string | undefined {
    return [...this.cookies.entries()].find(([k]) => k.startsWith(`${name}|`))?.[1].value;
  }

  hasCookie(name: string): boolean {
    return [...this.cookies.keys()].some((k) => k.startsWith(`${name}|`));
  }
}

export function formAction(html: string): string {
  const match = /<form method="post" action="([^"]+)"/.exec(html);
  if (!match) throw new Error('no form on the page');
  return match[1]!.replace(/&amp;/g, '&');
}

export function csrfToken(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no csrf_token on the page');
  return match[1]!;
}

/** The parameters of a 303 redirect to the client. */
export function redirectParams(res: LightMyRequestResponse): URLSearchParams {
  const location = res.headers.location;
  if (typeof location !== 'string') throw new Error(`expected a redirect, got ${res.statusCode}: ${res.body.slice(0, 200)}`);
  return new URL(location).searchParams;
}
