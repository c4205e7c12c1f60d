import { describe, expect, it } from 'vitest';
import type { User } from '../../../src/repositories/users-repository.js';
import { claimsForScopes } from '../../../src/services/userinfo.js';

const user: User = {
  id: '7f0c1c7e-0000-4000-8000-000000000001',
  username: 'alice',
  email: 'alice@example.com',
  emailVerified: true,
  passwordHash: '$argon2id$secret',
  name: 'Alice A',
  givenName: 'Alice',
  familyName: 'A',
  middleName: null,
  nickname: null,
  picture: null,
  website: null,
  gender: null,
  birthdate: null,
  zoneinfo: null,
  locale: 'en',
  phoneNumber: '+1 555 0100',
  phoneNumberVerified: false,
  address: { country: 'US' },
  isAdmin: true,
  isActive: true,
  lastLoginAt: null,
  createdAt: new Date(0),
  updatedAt: new Date(1_700_000_000_000),
};

describe('claimsForScopes (OIDC Core section 5.4)', () => {
  it.each([
    [['openid'], ['sub']],
    [['openid', 'profile'], ['sub', 'name', 'given_name', 'family_name', 'preferred_username', 'locale', 'updated_at']],
    [['openid', 'email'], ['sub', 'email', 'email_verified']],
    [['openid', 'phone'], ['sub', 'phone_number', 'phone_number_verified']],
    [['openid', 'address'], ['sub', 'address']],
    [['openid', 'offline_access', 'authly:admin'], ['sub']],
  ])('%j releases %j', (scopes, claims) => {
    expect(Object.keys(claimsForScopes(user, scopes)).sort()).toEqual([...claims].sort());
  });

  it('omits null claims and never releases internal fields', () => {
    const all = claimsForScopes(user, ['openid', 'profile', 'email', 'phone', 'address']);
    expect(all).not.toHaveProperty('middle_name');
    for (const internal of ['passwordHash', 'password_hash', 'isAdmin', 'is_admin', 'isActive', 'lastLoginAt']) expect(all).not.toHaveProperty(internal);
    expect(all.updated_at).toBe(1_700_000_000);
    expect(all.preferred_username).toBe('alice');
  });

  it('no email claims for a user without an email', () => {
    expect(claimsForScopes({ ...user, email: null }, ['openid', 'email'])).toEqual({ sub: user.id });
  });
});
