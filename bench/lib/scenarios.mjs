// The scenarios: one autocannon request each, with a check of every response body (a fast error is not
// a result). `build(target)` gets a seeded server (its discovery document, clients and token pools).
import { basicAuth } from './browser.mjs';
import { dpopSigner } from './dpop.mjs';

const FORM = 'application/x-www-form-urlencoded';

function parse(body) {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const path = (url) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

/** A queue shared by all connections: single-use values (codes, refresh tokens) are taken once. */
export class Pool {
  constructor(values = []) {
    this.values = [...values];
  }
  take() {
    return this.values.pop();
  }
  put(v) {
    this.values.unshift(v);
  }
  get size() {
    return this.values.length;
  }
}

/** The scenario definitions; `bound` says what limits each, for the report. */
export const SCENARIO_DEFS = {
  client_credentials: {
    bound: 'one access-token signature + one INSERT (Authly: JWT recorded by jti; peer: opaque token in memory)',
    build: (t) => ({
      method: 'POST',
      path: path(t.discovery.token_endpoint),
      headers: { authorization: basicAuth(t.clients.cc.id, t.clients.cc.secret), 'content-type': FORM },
      body: 'grant_type=client_credentials&scope=api%3Aread',
      verify: (status, body) => {
        const j = status === 200 && parse(body);
        return Boolean(j) && typeof j.access_token === 'string' && /^bearer$/i.test(j.token_type);
      },
    }),
  },
  client_credentials_dpop: {
    bound: 'client_credentials with a DPoP proof (RFC 9449): + the proof verified (ES256), its jti recorded once, cnf.jkt in the token',
    build: (t) => {
      const signer = dpopSigner();
      const tokenEndpoint = t.discovery.token_endpoint;
      return {
        method: 'POST',
        path: path(tokenEndpoint),
        headers: { authorization: basicAuth(t.clients.cc.id, t.clients.cc.secret), 'content-type': FORM },
        body: 'grant_type=client_credentials&scope=api%3Aread',
        takeHeaders: () => ({ dpop: signer.proof('POST', tokenEndpoint) }),
        verify: (status, body) => {
          const j = status === 200 && parse(body);
          return Boolean(j) && typeof j.access_token === 'string' && /^dpop$/i.test(j.token_type);
        },
      };
    },
  },
  client_credentials_resource: {
    bound: 'client_credentials with an RFC 8707 resource: + the resource lookup (cached) and the scope narrowing',
    build: (t) => ({
      method: 'POST',
      path: path(t.discovery.token_endpoint),
      headers: { authorization: basicAuth(t.clients.cc.id, t.clients.cc.secret), 'content-type': FORM },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: t.resource }).toString(),
      verify: (status, body) => {
        const j = status === 200 && parse(body);
        return Boolean(j) && typeof j.access_token === 'string' && /^bearer$/i.test(j.token_type) && j.scope === 'api:read';
      },
    }),
  },
  authorization_code: {
    bound: 'two signatures (access token, RS256 ID token) + code consumption and three writes in one transaction',
    singleUse: 'codes',
    build: (t) => ({
      method: 'POST',
      path: path(t.discovery.token_endpoint),
      headers: { authorization: basicAuth(t.clients.web.id, t.clients.web.secret), 'content-type': FORM },
      take: () => {
        const c = t.pools.codes.take();
        return (
          c &&
          new URLSearchParams({ grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: t.clients.redirectUri }).toString()
        );
      },
      verify: (status, body) => {
        const j = status === 200 && parse(body);
        return Boolean(j) && typeof j.access_token === 'string' && typeof j.id_token === 'string' && typeof j.refresh_token === 'string';
      },
    }),
  },
  refresh_token: {
    bound: 'two signatures (access token, RS256 ID token) + a row lock, the rotation and two inserts in one transaction',
    singleUse: 'refresh',
    build: (t) => ({
      method: 'POST',
      path: path(t.discovery.token_endpoint),
      headers: { authorization: basicAuth(t.clients.web.id, t.clients.web.secret), 'content-type': FORM },
      take: () => {
        const r = t.pools.refresh.take();
        return r && new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r }).toString();
      },
      verify: (status, body) => {
        const j = status === 200 && parse(body);
        if (!j || typeof j.access_token !== 'string' || typeof j.refresh_token !== 'string') return false;
        // Rotation makes each refresh token single-use: the new one goes back into the pool.
        t.pools.refresh.put(j.refresh_token);
        return true;
      },
    }),
  },
  refresh_token_dpop: {
    bound: 'refresh_token with a DPoP proof (RFC 9449): + the proof verified (ES256), its jti recorded once, the access token bound',
    singleUse: 'refresh',
    build: (t) => {
      const signer = dpopSigner();
      const tokenEndpoint = t.discovery.token_endpoint;
      return {
        method: 'POST',
        path: path(tokenEndpoint),
        headers: { authorization: basicAuth(t.clients.web.id, t.clients.web.secret), 'content-type': FORM },
        take: () => {
          const r = t.pools.refresh.take();
          return r && new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r }).toString();
        },
        takeHeaders: () => ({ dpop: signer.proof('POST', tokenEndpoint) }),
        verify: (status, body) => {
          const j = status === 200 && parse(body);
          if (!j || typeof j.access_token !== 'string' || typeof j.refresh_token !== 'string' || !/^dpop$/i.test(j.token_type)) return false;
          t.pools.refresh.put(j.refresh_token);
          return true;
        },
      };
    },
  },
  introspection: {
    bound: 'one signature verification + one indexed SELECT (Authly); a memory lookup (peer, opaque tokens)',
    build: (t) => {
      let i = 0;
      return {
        method: 'POST',
        path: path(t.discovery.introspection_endpoint),
        headers: { authorization: basicAuth(t.clients.web.id, t.clients.web.secret), 'content-type': FORM },
        take: () => `token=${encodeURIComponent(t.pools.access[i++ % t.pools.access.length])}&token_type_hint=access_token`,
        verify: (status, body) => {
          const j = status === 200 && parse(body);
          return Boolean(j) && j.active === true && j.client_id === t.clients.web.id;
        },
      };
    },
  },
  userinfo: {
    bound: 'one signature verification + the live-token SELECT + the user row (Authly); memory lookups (peer)',
    build: (t) => {
      let i = 0;
      return {
        method: 'GET',
        path: path(t.discovery.userinfo_endpoint),
        headers: {},
        takeHeaders: () => ({ authorization: `Bearer ${t.pools.access[i++ % t.pools.access.length]}` }),
        verify: (status, body) => {
          const j = status === 200 && parse(body);
          return Boolean(j) && j.sub === t.userId && j.email === t.user.email;
        },
      };
    },
  },
  jwks: {
    bound: 'HTTP and JSON serialization only',
    build: (t) => ({
      method: 'GET',
      path: path(t.discovery.jwks_uri),
      headers: {},
      verify: (status, body) => {
        const j = status === 200 && parse(body);
        return Boolean(j) && Array.isArray(j.keys) && j.keys.length >= 1 && j.keys.every((k) => !('d' in k));
      },
    }),
  },
  discovery: {
    bound: 'HTTP and JSON serialization only',
    build: (t) => ({
      method: 'GET',
      path: '/.well-known/openid-configuration',
      headers: {},
      verify: (status, body) => {
        const j = status === 200 && parse(body);
        return Boolean(j) && j.issuer === t.issuer && typeof j.token_endpoint === 'string';
      },
    }),
  },
  login: {
    bound: 'one argon2id verification in the libuv thread pool per request',
    build: (t) => ({
      method: 'POST',
      path: path(t.pools.login.action),
      headers: { cookie: t.pools.login.cookie, 'content-type': FORM },
      body: new URLSearchParams(t.pools.login.form).toString(),
      // A successful sign-in answers 303 to the next step (consent); a failure re-renders the form (200).
      verify: (status, _body, headers) => status === 303 && typeof headers.location === 'string' && !headers.location.includes('error='),
    }),
  },
  passkey_sign_in: {
    bound: 'one ECDSA P-256 verification + the challenge consumed, the throttle counted and cleared, the credential and a session written',
    // The peer (oidc-provider) has no passkeys: measured on Authly only.
    authlyOnly: 'the peer (oidc-provider) has no passkeys',
    singleUse: 'passkeys',
    build: (t) => ({
      method: 'POST',
      path: '/',
      headers: { 'content-type': FORM },
      // Each assertion answers its own challenge of its own interaction (bench/lib/passkey.mjs).
      take: () => t.pools.passkeys.take(),
      // A verified passkey answers 303 onward to consent (a refused one re-renders the login page with 200).
      verify: (status, _body, headers) => status === 303 && typeof headers.location === 'string' && headers.location.startsWith('/interaction/'),
    }),
  },
};
