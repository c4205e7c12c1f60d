import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { atHash } from '../../../src/tokens/jwt.js';

describe('tokens/jwt atHash (OIDC Core section 3.1.3.6)', () => {
  it('matches the example of OIDC Core appendix A.3 (RS256)', () => {
    expect(atHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y', 'RS256')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
  });

  it('uses SHA-256 for ES256 and SHA-512 for EdDSA (Ed25519)', () => {
    const token = 'some.access.token';
    expect(atHash(token, 'ES256')).toBe(createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url'));
    expect(atHash(token, 'EdDSA')).toBe(createHash('sha512').update(token).digest().subarray(0, 32).toString('base64url'));
  });
});
