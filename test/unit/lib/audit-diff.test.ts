import { describe, expect, it } from 'vitest';
import { auditDiff, isSecretField, REDACTED } from '../../../src/lib/audit-diff.js';

describe('auditDiff', () => {
  const allowed = ['name', 'scopes', 'is_active', 'updated_at', 'client_secret', 'password', 'address'];

  it('names each changed allowed field with from and to; unchanged fields are left out', () => {
    expect(
      auditDiff(
        { name: 'A', scopes: ['x', 'y'], is_active: true, address: { locality: 'Bern', country: 'CH' } },
        { name: 'B', scopes: ['x', 'y'], is_active: false, address: { country: 'CH', locality: 'Bern' } },
        allowed,
      ),
    ).toEqual({ name: { from: 'A', to: 'B' }, is_active: { from: true, to: false } });
  });

  it('is null when nothing allowed changed', () => {
    expect(auditDiff({ name: 'A', other: 1 }, { name: 'A', other: 2 }, allowed)).toBeNull();
    expect(auditDiff(undefined, undefined, allowed)).toBeNull();
  });

  it('a create has only to values, a delete only from values', () => {
    expect(auditDiff(undefined, { name: 'A', is_active: true }, allowed)).toEqual({ name: { to: 'A' }, is_active: { to: true } });
    expect(auditDiff({ name: 'A', is_active: true }, undefined, allowed)).toEqual({ name: { from: 'A' }, is_active: { from: true } });
  });

  it('stores Dates as ISO strings and null for a field that became absent', () => {
    const at = new Date('2026-12-06T10:00:00.000Z');
    expect(auditDiff({ updated_at: at }, { updated_at: null }, allowed)).toEqual({ updated_at: { from: '2026-12-06T10:00:00.000Z', to: null } });
  });

  it('never stores a secret, a hash or a password: only {changed: true}', () => {
    const changes = auditDiff(
      { client_secret: 'hash-one', password: '$argon2id$one', name: 'A' },
      { client_secret: 'hash-two', password: '$argon2id$two', name: 'A' },
      allowed,
    );
    expect(changes).toEqual({ client_secret: { changed: true }, password: { changed: true } });
    expect(auditDiff(undefined, { client_secret: 'hash-one' }, allowed)).toEqual({ client_secret: { changed: true } });
    expect(JSON.stringify(auditDiff(undefined, { password: 'hunter2' }, allowed))).not.toContain('hunter2');
  });

  it('compares only allowed fields: an unknown field is never stored, whatever it holds', () => {
    expect(auditDiff({ name: 'A', mystery: 'one' }, { name: 'A', mystery: 'two' }, allowed)).toBeNull();
  });

  it('a secret-looking field is redacted even when it is on the allow-list by mistake', () => {
    const careless = ['client_secret_hash', 'token_hash', 'private_jwk', 'access_token', 'refresh_token', 'totp_secret'];
    const before = Object.fromEntries(careless.map((f) => [f, 'old']));
    const after = Object.fromEntries(careless.map((f) => [f, 'new']));
    expect(auditDiff(before, after, careless)).toEqual(Object.fromEntries(careless.map((f) => [f, { changed: true }])));
  });

  it('removes private JWK members nested inside a stored value (a client jwks)', () => {
    const key = { kty: 'RSA', kid: 'k1', n: 'modulus', e: 'AQAB', d: 'PRIVATE-D', p: 'PRIVATE-P', q: 'PRIVATE-Q', dp: 'x', dq: 'y', qi: 'z' };
    const changes = auditDiff({ jwks: null }, { jwks: { keys: [key] } }, ['jwks']);
    expect(JSON.stringify(changes)).not.toMatch(/PRIVATE/);
    expect(changes).toEqual({
      jwks: { from: null, to: { keys: [{ kty: 'RSA', kid: 'k1', n: 'modulus', e: 'AQAB', d: REDACTED, p: REDACTED, q: REDACTED, dp: REDACTED, dq: REDACTED, qi: REDACTED }] } },
    });
  });

  it.each([
    ['client_secret', true],
    ['client_secret_hash', true],
    ['password', true],
    ['password_hash', true],
    ['private_jwk', true],
    ['token', true],
    ['registration_access_token', true],
    ['totp_secret', true],
    ['recovery_codes', true],
    ['d', true],
    ['k', true],
    ['token_endpoint_auth_method', false],
    ['access_token_format', false],
    ['name', false],
    ['redirect_uris', false],
    ['kid', false],
    ['description', false],
  ])('isSecretField(%s) is %s', (name, secret) => {
    expect(isSecretField(name)).toBe(secret);
  });
});
