// The peer: panva's oidc-provider (OpenID-certified), configured like Authly for the benchmark, on its
// in-memory adapter. Run as its own process by bench/servers/peer.mjs; prints one JSON line when ready.
//
// Equivalences with Authly: RS256 ID tokens (plus a key of BENCH_ALG when that is not RS256, as in
// Authly's JWKS), PKCE S256 required for every client, every refresh rotated, introspection, revocation,
// client_credentials, userinfo, and a login form that checks an argon2id hash with Authly's parameters
// and a CSRF token, then a consent form. Access tokens stay the peer's default (opaque); lifetimes match
// Authly's defaults.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import argon2 from 'argon2';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { setStorage } from 'oidc-provider/lib/adapters/memory_adapter.js';

// The default in-memory adapter is an LRU of 1,000 entries: under load it evicts live grants, sessions and
// interactions (invalid_grant, lost logins). Same adapter, unbounded store with the same expiry rules.
class ExpiringMap {
  #map = new Map();
  get(key) {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expiresAt && e.expiresAt <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key, value, maxAgeMs) {
    this.#map.set(key, { value, expiresAt: maxAgeMs ? Date.now() + maxAgeMs : 0 });
  }
  delete(key) {
    this.#map.delete(key);
  }
}
setStorage(new ExpiringMap());

const config = JSON.parse(process.env.BENCH_PEER_CONFIG ?? '{}');
const { port, alg, clients, user, argon2Params, resource } = config;
const issuer = `http://127.0.0.1:${port}`;

async function privateJwk(algorithm) {
  const options = algorithm === 'RS256' ? { modulusLength: 2048 } : algorithm === 'EdDSA' ? { crv: 'Ed25519' } : {};
  const { privateKey } = await generateKeyPair(algorithm, { extractable: true, ...options });
  return { ...(await exportJWK(privateKey)), alg: algorithm, use: 'sig' };
}

const keys = [await privateJwk('RS256')];
if (alg !== 'RS256') keys.push(await privateJwk(alg));

const passwordHash = await argon2.hash(user.password, { ...argon2Params, type: argon2.argon2id });
const account = {
  id: user.id,
  claims: {
    sub: user.id,
    name: user.name,
    preferred_username: user.username,
    email: user.email,
    email_verified: true,
  },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clients.cc.id,
      client_secret: clients.cc.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api:read',
    },
    ...[clients.web, clients.login].map((c) => ({
      client_id: c.id,
      client_secret: c.secret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [clients.redirectUri],
      id_token_signed_response_alg: 'RS256',
    })),
  ],
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    // RFC 9449, for the *_dpop scenarios (on by default only from oidc-provider 9; no server nonces, as Authly's default).
    dPoP: { enabled: true },
    userinfo: { enabled: true },
    // RFC 8707, as Authly has it for the bench: one API accepting api:read, opaque tokens of the usual
    // lifetime; without resource, tokens are for the issuer as before (no defaultResource).
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return { scope: 'api:read', accessTokenFormat: 'opaque', accessTokenTTL: 15 * 60 };
      },
    },
  },
  pkce: { methods: ['S256'], required: () => true },
  // Authly rotates every refresh token, and issues one when offline_access was asked for; the peer drops
  // offline_access without prompt=consent, so it issues one to every client allowed the grant instead.
  rotateRefreshToken: () => true,
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: {
    AccessToken: 15 * 60,
    ClientCredentials: 15 * 60,
    AuthorizationCode: 10 * 60,
    IdToken: 60 * 60,
    RefreshToken: 7 * 24 * 3600,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 7 * 24 * 3600,
  },
  findAccount: async (_ctx, id) => (id === account.id ? { accountId: id, claims: async () => account.claims } : undefined),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// Signed per interaction, like Authly's CSRF token.
const csrfKey = randomBytes(32);
const csrfFor = (uid) => createHmac('sha256', csrfKey).update(uid).digest('base64url');
const csrfOk = (uid, token) => {
  const expected = Buffer.from(csrfFor(uid));
  const given = Buffer.from(String(token ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
};

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (uid, kind, error = '') =>
  `<!doctype html><html><body>${error ? `<p>${esc(error)}</p>` : ''}<form method="post" action="/interaction/${esc(uid)}/${kind}">` +
  `<input type="hidden" name="csrf_token" value="${csrfFor(uid)}">` +
  (kind === 'login'
    ? '<input name="username"><input type="password" name="password"><button>Sign in</button>'
    : '<button name="decision" value="allow">Allow</button>') +
  '</form></body></html>';

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'interaction mismatch');
  if (req.method === 'GET' && !action) return send(res, 200, page(uid, details.prompt.name === 'login' ? 'login' : 'confirm'));
  if (req.method !== 'POST') return send(res, 405, 'method not allowed');
  const form = await readForm(req);
  if (!csrfOk(uid, form.get('csrf_token'))) return send(res, 403, 'csrf');
  if (action === 'login') {
    const ok = form.get('username') === user.username && (await argon2.verify(passwordHash, form.get('password') ?? ''));
    if (!ok) return send(res, 200, page(uid, 'login', 'Invalid username or password.'));
    return provider.interactionFinished(req, res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  }
  const { prompt, params, session, grantId } = details;
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const saved = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm))?$/.exec(req.url.split('?')[0]);
  if (!match) return callback(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    if (!res.headersSent) send(res, 400, esc(err.message));
  });
});
server.keepAliveTimeout = 72_000; // as Fastify's default, so neither side drops idle bench connections first
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, issuer, pid: process.pid })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
