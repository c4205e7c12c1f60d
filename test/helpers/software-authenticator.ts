import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A software WebAuthn authenticator for tests (W3C WebAuthn Level 3): P-256 keys from node:crypto,
 * "none" attestation, authenticator data and clientDataJSON built by hand, so the server's ceremonies
 * are checked against bytes the test controls (flags, counter, origin, RP ID, challenge).
 */

type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor> | { [key: string]: Cbor };

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(value, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

/** The small subset of CBOR (RFC 8949) WebAuthn needs: integers, byte and text strings, arrays, maps. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  cosePublicKey: Buffer;
  userHandle?: string;
  signCount: number;
}

export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  flags?: number;
  signCount?: number;
  /** Sign with another key (a forged assertion). */
  privateKey?: KeyObject;
  userHandle?: string | null;
}

export class SoftwareAuthenticator {
  readonly credentials = new Map<string, SoftCredential>();

  constructor(
    readonly origin: string,
    readonly rpId: string = new URL(origin).hostname,
    /** Synced passkey (BE and BS set) or device-bound. */
    readonly synced = false,
  ) {}

  private rpIdHash(rpId: string): Buffer {
    return createHash('sha256').update(rpId).digest();
  }

  private baseFlags(): number {
    return FLAGS.UP | FLAGS.UV | (this.synced ? FLAGS.BE | FLAGS.BS : 0);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create() for creation options JSON from the server; the RegistrationResponseJSON. */
  create(options: { challenge: string; user: { id: string }; rp: { id?: string } }, o: CeremonyOverrides = {}): Record<string, unknown> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cosePublicKey = cbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const idBytes = randomBytes(16);
    const id = b64url(idBytes);
    const signCount = o.signCount ?? 0;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(signCount);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(idBytes.length);
    const authData = Buffer.concat([
      this.rpIdHash(o.rpId ?? options.rp.id ?? this.rpId),
      Buffer.from([o.flags ?? this.baseFlags() | FLAGS.AT]),
      count,
      Buffer.alloc(16), // AAGUID: zeros, as "none" attestation allows
      idLength,
      idBytes,
      cosePublicKey,
    ]);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    this.credentials.set(id, { id, privateKey, cosePublicKey, userHandle: options.user.id, signCount });
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(this.clientData(o.type ?? 'webauthn.create', o.challenge ?? options.challenge, o.origin ?? this.origin)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
    };
  }

  /** navigator.credentials.get() with one of this authenticator's credentials; the AuthenticationResponseJSON. */
  get(options: { challenge: string; rpId?: string }, credentialId?: string, o: CeremonyOverrides = {}): Record<string, unknown> {
    const credential = credentialId ? this.credentials.get(credentialId) : [...this.credentials.values()][0];
    if (!credential) throw new Error('no such credential');
    credential.signCount = o.signCount ?? (this.synced ? 0 : credential.signCount + 1);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(credential.signCount);
    const authenticatorData = Buffer.concat([
      this.rpIdHash(o.rpId ?? options.rpId ?? this.rpId),
      Buffer.from([o.flags ?? this.baseFlags()]),
      count,
    ]);
    const clientDataJSON = this.clientData(o.type ?? 'webauthn.get', o.challenge ?? options.challenge, o.origin ?? this.origin);
    const signature = sign('sha256', Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]), o.privateKey ?? credential.privateKey);
    const userHandle = o.userHandle === undefined ? credential.userHandle : o.userHandle;
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        ...(userHandle ? { userHandle } : {}),
      },
    };
  }
}
