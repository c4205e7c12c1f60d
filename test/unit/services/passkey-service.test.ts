import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { parseAssertion, parseAttestation } from '../../../src/http/webauthn-input.js';
import { passkeyMethods, relyingParty } from '../../../src/services/passkey-service.js';
import { contentSecurityPolicy } from '../../../src/views/page.js';

describe('passkey methods (RFC 8176 amr)', () => {
  it.each([
    ['singleDevice', true, false, ['hwk', 'user', 'mfa']],
    ['multiDevice', true, false, ['swk', 'user', 'mfa']],
    ['singleDevice', false, false, ['hwk']],
    ['singleDevice', false, true, ['hwk', 'mfa']],
    ['multiDevice', true, true, ['swk', 'user', 'mfa']],
  ] as const)('%s, user verified %s, second factor %s → %j', (deviceType, verified, second, amr) => {
    expect(passkeyMethods({ deviceType }, verified, second)).toEqual(amr);
  });
});

describe('the relying party', () => {
  it.each([
    ['https://login.example.com', 'login.example.com', 'https://login.example.com'],
    ['https://example.com:8443/auth', 'example.com', 'https://example.com:8443'],
    ['http://localhost:8000', 'localhost', 'http://localhost:8000'],
  ])('issuer %s → RP ID %s, origin %s', (issuer, rpId, origin) => {
    expect(relyingParty(loadConfig({ DEFAULT_ISSUER_URL: issuer }))).toEqual({ rpId, origin });
  });
});

describe('passkey responses at the edge', () => {
  const assertion = {
    id: 'abc',
    rawId: 'abc',
    type: 'public-key',
    response: { clientDataJSON: 'eyJ9', authenticatorData: 'AAAA', signature: 'MEUC' },
  };

  it('accepts a well-formed assertion, with clientExtensionResults defaulted', () => {
    expect(parseAssertion(JSON.stringify(assertion))).toEqual({ ...assertion, clientExtensionResults: {} });
  });

  it.each([
    ['not JSON', '{'],
    ['no response', JSON.stringify({ ...assertion, response: undefined })],
    ['not base64url', JSON.stringify({ ...assertion, response: { ...assertion.response, signature: 'a+b/' } })],
    ['another type', JSON.stringify({ ...assertion, type: 'password' })],
    ['an over-long credential id', JSON.stringify({ ...assertion, id: 'a'.repeat(1365) })],
    ['an over-long user handle', JSON.stringify({ ...assertion, response: { ...assertion.response, userHandle: 'a'.repeat(89) } })],
    ['absent', undefined],
  ])('refuses %s', (_name, text) => {
    expect(parseAssertion(text)).toBeUndefined();
  });

  it('an attestation needs attestationObject, an assertion does not pass as one', () => {
    expect(parseAttestation(JSON.stringify(assertion))).toBeUndefined();
    const attestation = { ...assertion, response: { clientDataJSON: 'eyJ9', attestationObject: 'o2Nm', transports: ['internal'] } };
    expect(parseAttestation(JSON.stringify(attestation))).toEqual({ ...attestation, clientExtensionResults: {} });
  });
});

describe('the passkey pages’ CSP', () => {
  it('connect-src only when a page asks for it', () => {
    expect(contentSecurityPolicy({ formAction: ["'self'"] })).not.toContain('connect-src');
    expect(contentSecurityPolicy({ formAction: ["'self'"], scriptNonce: 'n', connectSrc: ["'self'"] })).toContain("script-src 'nonce-n'; connect-src 'self'; form-action 'self'");
  });
});
