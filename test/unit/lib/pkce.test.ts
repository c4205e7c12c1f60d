import { describe, expect, it } from 'vitest';
import { PKCE_VALUE, verifyS256 } from '../../../src/lib/pkce.js';

describe('lib/pkce', () => {
  // RFC 7636 Appendix B.
  const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('verifies the RFC 7636 Appendix B example', () => {
    expect(verifyS256(VERIFIER, CHALLENGE)).toBe(true);
  });

  it.each([
    ['another verifier', `${VERIFIER.slice(0, -1)}l`, CHALLENGE],
    ['the challenge as its own verifier (plain)', CHALLENGE, CHALLENGE],
    ['a padded challenge', VERIFIER, `${CHALLENGE}=`],
    ['standard base64 instead of base64url', VERIFIER, CHALLENGE.replace(/-/g, '+')],
    ['an empty challenge', VERIFIER, ''],
  ])('rejects %s', (_name, verifier, challenge) => {
    expect(verifyS256(verifier, challenge)).toBe(false);
  });

  it.each([
    ['42 characters', 'a'.repeat(42), false],
    ['43 characters', 'a'.repeat(43), true],
    ['128 characters', 'a'.repeat(128), true],
    ['129 characters', 'a'.repeat(129), false],
    ['all unreserved characters', `${'aZ09'.repeat(10)}-._~`, true],
    ['a plus sign', `${'a'.repeat(43)}+`, false],
    ['a slash', `${'a'.repeat(43)}/`, false],
    ['padding', `${'a'.repeat(43)}=`, false],
    ['a space', `${'a'.repeat(43)} `, false],
    ['a trailing newline', `${'a'.repeat(43)}\n`, false],
    ['non-ASCII', `${'a'.repeat(43)}é`, false],
  ])('PKCE_VALUE with %s → %s', (_name, value, ok) => {
    expect(PKCE_VALUE.test(value)).toBe(ok);
  });
});
