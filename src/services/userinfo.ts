import type { User } from '../repositories/users-repository.js';
import { epochSeconds } from '../lib/time.js';

/** OIDC Core section 5.4: the claims each standard scope releases. */
export function claimsForScopes(user: User, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.id };
  const set = (name: string, value: unknown) => {
    if (value !== null && value !== undefined) claims[name] = value;
  };
  if (scopes.includes('profile')) {
    set('name', user.name);
    set('given_name', user.givenName);
    set('family_name', user.familyName);
    set('middle_name', user.middleName);
    set('nickname', user.nickname);
    set('preferred_username', user.username);
    set('picture', user.picture);
    set('website', user.website);
    set('gender', user.gender);
    set('birthdate', user.birthdate);
    set('zoneinfo', user.zoneinfo);
    set('locale', user.locale);
    set('updated_at', epochSeconds(user.updatedAt));
  }
  if (scopes.includes('email') && user.email) {
    set('email', user.email);
    set('email_verified', user.emailVerified);
  }
  if (scopes.includes('phone') && user.phoneNumber) {
    set('phone_number', user.phoneNumber);
    set('phone_number_verified', user.phoneNumberVerified);
  }
  if (scopes.includes('address')) set('address', user.address);
  return claims;
}
