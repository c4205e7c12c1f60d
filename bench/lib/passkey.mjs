// The passkey sign-in scenario's set-up: a software authenticator (P-256 from node:crypto, "none"
// attestation, W3C WebAuthn Level 3 byte layouts) registers one passkey for the bench user on Authly's
// account page, then answers the options of many fresh sign-ins, so that the measured request is only the
// assertion POST. Authly only: the peer (oidc-provider) has no passkeys.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { Browser, csrfToken, formAction, pkcePair } from './browser.mjs';

function head(major, value) {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  const b = Buffer.alloc(3);
  b[0] = (major << 5) | 25;
  b.writeUInt16BE(value, 1);
  return b;
}

/** The CBOR (RFC 8949) WebAuthn needs here: small integers, byte and text strings, maps. */
function cbor(value) {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64url = (b) => Buffer.from(b).toString('base64url');
// User present and verified, backup eligible and backed up: a synced passkey, as most are. Synced
// passkeys report a signature counter of 0 (W3C WebAuthn §6.1.1), so parallel sign-ins with one
// credential do not race on the counter; a device-bound key's counter would order them.
const FLAGS = 0x01 | 0x04 | 0x08 | 0x10;

class SoftwarePasskey {
  constructor(origin, rpId) {
    this.origin = origin;
    this.rpIdHash = createHash('sha256').update(rpId).digest();
  }

  clientData(type, challenge) {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  create(options) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]));
    const idBytes = randomBytes(16);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(idBytes.length);
    const authData = Buffer.concat([this.rpIdHash, Buffer.from([FLAGS | 0x40]), Buffer.alloc(4), Buffer.alloc(16), idLength, idBytes, cose]);
    this.id = b64url(idBytes);
    this.privateKey = privateKey;
    this.userHandle = options.user.id;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge)),
        attestationObject: b64url(cbor({ fmt: 'none', attStmt: {}, authData })),
        transports: ['internal'],
      },
    };
  }

  get(options) {
    const authenticatorData = Buffer.concat([this.rpIdHash, Buffer.from([FLAGS]), Buffer.alloc(4)]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge);
    const signature = sign('sha256', Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]), this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        userHandle: this.userHandle,
      },
    };
  }
}

/** Registers the bench user's passkey on the account page of a signed-in browser. */
export async function registerBenchPasskey(t, browser) {
  const issuer = new URL(t.issuer);
  const passkey = new SoftwarePasskey(issuer.origin, issuer.hostname);
  const page = await browser.request('GET', '/account/security/passkeys');
  if (page.status !== 200) throw new Error(`the account passkeys page answered ${page.status}`);
  const csrf = csrfToken(page.body);
  const options = await browser.request('POST', '/account/security/passkeys/options', { csrf_token: csrf });
  if (options.status !== 200) throw new Error(`registration options answered ${options.status}`);
  const credential = JSON.stringify(passkey.create(JSON.parse(options.body)));
  const done = await browser.request('POST', '/account/security/passkeys', { csrf_token: csrf, name: 'Bench passkey', credential });
  if (done.status !== 303) throw new Error(`passkey registration answered ${done.status}: ${done.body.slice(0, 200)}`);
  return passkey;
}

/** How many challenges Authly keeps outstanding per interaction (src/repositories/webauthn-repository.ts). */
const PER_INTERACTION = 5;

/**
 * `count` ready assertion requests ({ path, headers, body }), each answering its own challenge: fresh
 * authorizations by the `login` client (never consented, so a sign-in goes on to consent and leaves the
 * interaction open), five challenges each. `workers` mint in parallel.
 */
export async function mintPasskeyAssertions(t, passkey, count, workers = 8) {
  const out = [];
  const worker = async () => {
    while (out.length + active * PER_INTERACTION < count) {
      active++;
      const browser = new Browser(t.issuer);
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: t.clients.login.id,
        redirect_uri: t.clients.redirectUri,
        scope: 'openid',
        state: randomBytes(8).toString('base64url'),
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      });
      const start = await browser.request('GET', `${t.discovery.authorization_endpoint}?${q}`);
      const page = await browser.request('GET', new URL(start.location, start.url).href);
      const csrf = csrfToken(page.body);
      const passkeyAction = new URL(formAction(page.body), page.url).pathname.replace(/\/login$/, '/passkey');
      const cookie = browser.cookieHeader(passkeyAction);
      const batch = [];
      for (let i = 0; i < PER_INTERACTION; i++) {
        const options = await browser.request('POST', `${passkeyAction}/options`, { csrf_token: csrf });
        if (options.status !== 200) throw new Error(`sign-in options answered ${options.status}`);
        batch.push(JSON.parse(options.body));
      }
      for (const options of batch) {
        out.push({
          path: passkeyAction,
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf_token: csrf, credential: JSON.stringify(passkey.get(options)) }).toString(),
        });
      }
      active--;
    }
  };
  let active = 0;
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}
