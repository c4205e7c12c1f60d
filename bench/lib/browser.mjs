// A minimal browser over fetch for the bench's set-up: a cookie jar that honours cookie paths, no
// automatic redirects, and a walk through whatever login and consent pages a server shows. Both servers
// (Authly and the peer) are driven through their real interaction endpoints with it.
import { createHash, randomBytes } from 'node:crypto';

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export function basicAuth(id, secret) {
  // RFC 6749 section 2.3.1: form-urlencode, then base64.
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

export class Browser {
  #cookies = new Map(); // name|path -> { name, value, path }

  constructor(base) {
    this.base = base;
  }

  cookieHeader(url) {
    const path = new URL(url, this.base).pathname;
    const pairs = [...this.#cookies.values()].filter((c) => path.startsWith(c.path)).map((c) => `${c.name}=${c.value}`);
    return pairs.join('; ');
  }

  #store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const key = `${name}|${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  async request(method, url, form) {
    const target = new URL(url, this.base).href;
    const headers = {};
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    this.#store(res);
    const body = await res.text();
    return { status: res.status, location: res.headers.get('location') ?? undefined, body, url: target };
  }
}

export function formAction(html) {
  const match = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html) ?? /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(html);
  if (!match) throw new Error(`no form on the page: ${html.slice(0, 300)}`);
  return match[1].replace(/&amp;/g, '&');
}

export function csrfToken(html) {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no csrf_token on the page');
  return match[1];
}

/**
 * Runs an authorization request to its end through the server's own pages: follows redirects, signs in
 * on a login form, allows on a consent form, and returns the code sent to the redirect URI.
 * `stopAtLogin` returns the login form instead (the login scenario posts it repeatedly).
 */
export async function authorize(browser, authorizeUrl, redirectUri, user, { stopAtLogin = false } = {}) {
  let res = await browser.request('GET', authorizeUrl);
  for (let step = 0; step < 12; step++) {
    if (res.status >= 300 && res.status < 400 && res.location) {
      if (res.location.startsWith(redirectUri)) {
        const params = new URL(res.location).searchParams;
        const code = params.get('code');
        if (!code) throw new Error(`authorization failed: ${res.location}`);
        return { code };
      }
      res = await browser.request('GET', new URL(res.location, res.url).href);
      continue;
    }
    if (res.status !== 200) throw new Error(`unexpected ${res.status} at ${res.url}: ${res.body.slice(0, 300)}`);
    const action = new URL(formAction(res.body), res.url).href;
    const csrf = csrfToken(res.body);
    if (res.body.includes('name="password"')) {
      const form = { csrf_token: csrf, username: user.username, password: user.password };
      if (stopAtLogin) return { login: { action, form, cookie: browser.cookieHeader(action) } };
      res = await browser.request('POST', action, form);
    } else {
      res = await browser.request('POST', action, { csrf_token: csrf, decision: 'allow' });
    }
  }
  throw new Error('authorization did not finish');
}
