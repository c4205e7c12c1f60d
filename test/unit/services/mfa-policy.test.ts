import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { acrFor, completeAmr, effectiveMfaPolicy, sessionSatisfiesMfaPolicy } from '../../../src/services/mfa-policy.js';

const MFA = 'urn:authly:acr:mfa';
const PAPE = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

function config(policy: string) {
  return loadConfig({ DEFAULT_ISSUER_URL: 'http://localhost:8000', JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters', MFA_POLICY: policy });
}

describe('the MFA policy: MFA_POLICY × clients.mfa_policy × acr_values', () => {
  const rows: [string, 'off' | 'optional' | 'required' | null, string[] | undefined, string][] = [];
  for (const global of ['off', 'optional', 'required']) {
    for (const client of [null, 'off', 'optional', 'required'] as const) {
      rows.push([global, client, undefined, client ?? global]);
      rows.push([global, client, ['urn:authly:acr:sf'], client ?? global]);
      rows.push([global, client, [MFA], 'required']);
      rows.push([global, client, ['urn:unknown', PAPE], 'required']);
    }
  }
  it.each(rows)('global %s, client %s, acr_values %j: %s', (global, client, acrValues, expected) => {
    expect(effectiveMfaPolicy(config(global), { mfaPolicy: client }, { acrValues })).toBe(expected);
  });

  it('MFA_POLICY defaults to optional and refuses other values', () => {
    expect(loadConfig({ DEFAULT_ISSUER_URL: 'http://localhost:8000', JWT_SECRET_KEY: 'test-secret-key-that-is-at-least-32-characters' }).mfaPolicy).toBe('optional');
    expect(() => config('sometimes')).toThrow(/MFA_POLICY/);
  });

  it('a session without mfa does not satisfy a request that requires it', () => {
    const c = config('optional');
    expect(sessionSatisfiesMfaPolicy(c, { mfaPolicy: null }, {}, { amr: ['pwd'] })).toBe(true);
    expect(sessionSatisfiesMfaPolicy(c, { mfaPolicy: 'required' }, {}, { amr: ['pwd'] })).toBe(false);
    expect(sessionSatisfiesMfaPolicy(c, { mfaPolicy: null }, { acrValues: [MFA] }, { amr: ['pwd'] })).toBe(false);
    expect(sessionSatisfiesMfaPolicy(c, { mfaPolicy: 'required' }, {}, { amr: ['pwd', 'otp', 'mfa'] })).toBe(true);
  });
});

describe('amr and acr', () => {
  it.each([
    [['pwd'], ['pwd']],
    [['otp', 'pwd'], ['pwd', 'otp', 'mfa']],
    [['pwd', 'hwk'], ['pwd', 'hwk', 'mfa']],
    [['swk', 'user', 'mfa'], ['swk', 'user', 'mfa']],
    [['hwk', 'otp'], ['otp', 'hwk']],
  ])('completeAmr(%j) = %j', (amr, expected) => {
    expect(completeAmr(amr)).toEqual(expected);
  });

  it('acr: single-factor without mfa; with mfa the first multi-factor value asked for, else Authly’s', () => {
    expect(acrFor(['pwd'], [MFA])).toBe('urn:authly:acr:sf');
    expect(acrFor(['pwd', 'otp', 'mfa'], undefined)).toBe(MFA);
    expect(acrFor(['pwd', 'otp', 'mfa'], ['urn:x', PAPE, MFA])).toBe(PAPE);
  });
});
