import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

const PRODUCTION = {
  ENVIRONMENT: 'production',
  DEFAULT_ISSUER_URL: 'https://auth.example.com',
  DATABASE_URL: 'postgres://authly:pw@db.internal:5432/authly',
  JWT_SECRET_KEY: 'Zq8vN3rT6yW1xK4mP7sB0cF5hJ2lD9gA',
  AUTHLY_KEY_ENCRYPTION_KEY: 'Kq2vN8rT1yW6xK9mP4sB7cF0hJ5lD3gE',
};

function errorOf(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

/** Issue 12 §2: the account features that mail links, and their production rule (no SMTP, no start). */
describe('account link settings', () => {
  it('defaults: recovery on in development, sign-up and required verification off, lifetimes 24 h / 30 min / 72 h, re-authentication after 10 min', () => {
    expect(loadConfig({}).accounts).toEqual({
      mailAvailable: true,
      passwordRecovery: true,
      registrationEnabled: false,
      requireEmailVerification: false,
      verificationTtlSeconds: 86_400,
      resetTtlSeconds: 1_800,
      invitationTtlSeconds: 259_200,
      reauthSeconds: 600,
    });
  });

  it('production without SMTP: recovery is off unless asked for, and asking for a mail feature refuses to start', () => {
    expect(loadConfig(PRODUCTION).accounts).toMatchObject({ mailAvailable: false, passwordRecovery: false });
    expect(errorOf({ ...PRODUCTION, PASSWORD_RECOVERY_ENABLED: 'true' })).toBe('PASSWORD_RECOVERY_ENABLED: needs SMTP_HOST or SMTP_URL to send mail');
    expect(errorOf({ ...PRODUCTION, REGISTRATION_ENABLED: 'true' })).toBe('REGISTRATION_ENABLED: needs SMTP_HOST or SMTP_URL to send mail');
    expect(errorOf({ ...PRODUCTION, REQUIRE_EMAIL_VERIFICATION: 'true' })).toBe('REQUIRE_EMAIL_VERIFICATION: needs SMTP_HOST or SMTP_URL to send mail');
  });

  it('production with SMTP: recovery on by default, the others when asked', () => {
    const config = loadConfig({ ...PRODUCTION, SMTP_HOST: 'smtp.example.com', REGISTRATION_ENABLED: 'true', REQUIRE_EMAIL_VERIFICATION: 'true' });
    expect(config.accounts).toMatchObject({ mailAvailable: true, passwordRecovery: true, registrationEnabled: true, requireEmailVerification: true });
    expect(loadConfig({ ...PRODUCTION, SMTP_URL: 'smtp://smtp.example.com', PASSWORD_RECOVERY_ENABLED: 'false' }).accounts.passwordRecovery).toBe(false);
  });

  it('refuses lifetimes out of range', () => {
    expect(errorOf({ PASSWORD_RESET_EXPIRE_MINUTES: '1' })).toBe('PASSWORD_RESET_EXPIRE_MINUTES: expected at least 5 (got "1")');
    expect(errorOf({ EMAIL_VERIFICATION_EXPIRE_HOURS: '0' })).toBe('EMAIL_VERIFICATION_EXPIRE_HOURS: expected at least 1 (got "0")');
  });
});
