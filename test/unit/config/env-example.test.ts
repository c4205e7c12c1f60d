import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../../src/config/config.js';
import { renderEnvExample } from '../../../src/config/env-example.js';

describe('.env.example', () => {
  it('is the generated documentation of every variable (run npm run env:example after changing config)', () => {
    expect(readFileSync('.env.example', 'utf8')).toBe(renderEnvExample());
  });

  it('README documents every variable', () => {
    const readme = readFileSync('README.md', 'utf8');
    const missing = Object.keys(ENV_VARS).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('documents only variables that change the loaded config', () => {
    // Each variable, set to a valid non-default value, must change what loadConfig returns.
    const samples: Record<string, string> = {
      ENVIRONMENT: 'production',
      HOST: '127.0.0.1',
      PORT: '9000',
      DEFAULT_ISSUER_URL: 'https://auth.example.com',
      DATABASE_URL: 'postgres://db.example.com/authly',
      DATABASE_POOL_MAX: '3',
      AUTHLY_DATA_DIR: '/tmp/authly-elsewhere',
      AUTOMIGRATE: 'false',
      LOG_LEVEL: 'debug',
      DEBUG: 'true',
      METRICS_ENABLED: 'false',
      ACCESS_TOKEN_EXPIRE_MINUTES: '5',
      REFRESH_TOKEN_EXPIRE_DAYS: '2',
      REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0',
      AUTHORIZATION_CODE_EXPIRE_MINUTES: '1',
      PAR_ENABLED: 'false',
      REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: 'true',
      PAR_EXPIRE_SECONDS: '30',
      REQUEST_OBJECTS_ENABLED: 'false',
      ID_TOKEN_EXPIRE_MINUTES: '30',
      DPOP_ENABLED: 'false',
      DPOP_SIGNING_ALGS: 'ES256',
      DPOP_PROOF_MAX_AGE_SECONDS: '120',
      DPOP_CLOCK_SKEW_SECONDS: '0',
      DPOP_REQUIRE_NONCE: 'true',
      DPOP_NONCE_LIFETIME_SECONDS: '60',
      SESSION_EXPIRE_HOURS: '2',
      MFA_POLICY: 'required',
      CLEANUP_INTERVAL_MINUTES: '0',
      REQUIRE_USER_CONSENT: 'false',
      PASSWORD_RECOVERY_ENABLED: 'false',
      REGISTRATION_ENABLED: 'true',
      REQUIRE_EMAIL_VERIFICATION: 'true',
      EMAIL_VERIFICATION_EXPIRE_HOURS: '12',
      PASSWORD_RESET_EXPIRE_MINUTES: '15',
      INVITATION_EXPIRE_HOURS: '24',
      ACCOUNT_REAUTH_MINUTES: '5',
      AUTHLY_LOCKOUT_MAX_ATTEMPTS: '9',
      AUTHLY_LOCKOUT_DURATION_SECONDS: '60',
      RATE_LIMIT_REQUESTS_PER_MINUTE: '77',
      RATE_LIMIT_LOGIN_PER_MINUTE: '0',
      RATE_LIMIT_TOKEN_PER_MINUTE: '50',
      RATE_LIMIT_ADMIN_PER_MINUTE: '40',
      RATE_LIMIT_REGISTRATION_PER_MINUTE: '5',
      REGISTRATION_POLICY: 'initial-access-token',
      DYNAMIC_CLIENT_IDLE_DAYS: '30',
      AUDIT_RETENTION_DAYS: '30',
      AUDIT_STORE_TOKEN_EVENTS: 'true',
      JWT_SECRET_KEY: 'k'.repeat(40),
      JWT_ALGORITHM: 'ES256',
      ACCESS_TOKEN_FORMAT: 'opaque',
      DEFAULT_RESOURCE: 'https://api.example.com',
      AUTHLY_KEY_ENCRYPTION_KEY: 'e'.repeat(40),
      KEY_ROTATION_DAYS: '30',
      AUTHLY_ADMIN_CLIENT_ID: 'admin-client',
      AUTHLY_ADMIN_CLIENT_SECRET: 's'.repeat(20),
      AUTHLY_ADMIN_USERNAME: 'root',
      AUTHLY_ADMIN_EMAIL: 'root@example.com',
      AUTHLY_ADMIN_PASSWORD: 'p'.repeat(12),
      AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
      REDIS_URL: 'redis://127.0.0.1:6379/1',
      AUTHLY_REDIS_CACHE: 'false',
      AUTHLY_REDIS_RATE_LIMIT: 'false',
      AUTHLY_REDIS_KEY_PREFIX: 'authly-staging:',
      RATE_LIMIT_ENABLED: 'false',
      RATE_LIMIT_MAX_REQUESTS: '50',
      RATE_LIMIT_WINDOW_SECONDS: '10',
      CORS_ORIGINS: 'https://app.example.com',
      ALLOWED_HOSTS: 'auth.example.com',
      TRUST_PROXY: '10.0.0.0/8',
      WORKERS: '2',
      SHUTDOWN_TIMEOUT_SECONDS: '5',
      HTTP_REQUEST_TIMEOUT_SECONDS: '3',
      HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '30',
      AUTHLY_MAX_INFLIGHT_EXPENSIVE: '0',
      CIMD_ENABLED: 'false',
      CIMD_ALLOW_LOOPBACK: 'true',
      OUTBOUND_ALLOW_LOOPBACK: 'true',
      BACKCHANNEL_LOGOUT_ENABLED: 'false',
      BACKCHANNEL_LOGOUT_WORKER_ENABLED: 'false',
      BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: '3',
      BACKCHANNEL_LOGOUT_RETRY_BASE_SECONDS: '5',
      BACKCHANNEL_LOGOUT_TIMEOUT_MS: '2000',
      DEVICE_GRANT_ENABLED: 'false',
      DEVICE_CODE_EXPIRE_MINUTES: '15',
      DEVICE_CODE_INTERVAL_SECONDS: '7',
      CIMD_ALLOWED_DOMAINS: 'mcp.example.com',
      CIMD_DENIED_DOMAINS: 'evil.example',
      CIMD_CACHE_MIN_SECONDS: '60',
      CIMD_CACHE_MAX_SECONDS: '3600',
      CIMD_FETCH_TIMEOUT_MS: '2000',
      CIMD_MAX_FETCHES_PER_HOST: '2',
      CLIENT_ASSERTION_MAX_LIFETIME_SECONDS: '60',
      CLIENT_JWKS_CACHE_MIN_SECONDS: '30',
      CLIENT_JWKS_CACHE_MAX_SECONDS: '600',
      CLIENT_JWKS_REFETCH_INTERVAL_SECONDS: '10',
      CLIENT_JWKS_FETCH_TIMEOUT_MS: '2000',
      SMTP_URL: 'smtps://u:p@smtp.example.com',
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '2525',
      SMTP_USERNAME: 'authly',
      SMTP_PASSWORD: 'mail-password',
      SMTP_SECURE: 'true',
      SMTP_STARTTLS: 'off',
      SMTP_FROM_EMAIL: 'login@example.com',
      SMTP_FROM_NAME: 'Example Login',
      MAIL_DEV_DIR: '/tmp/authly-mail-elsewhere',
      MAIL_WORKER_ENABLED: 'false',
      MAIL_MAX_ATTEMPTS: '3',
      MAIL_RETRY_BASE_SECONDS: '5',
      MAIL_SEND_TIMEOUT_SECONDS: '10',
      BRAND_PRODUCT_NAME: 'Example ID',
      BRAND_LOGO_URL: 'https://cdn.example.com/logo.svg',
      BRAND_LOGO_FILE: 'test/fixtures/brand/logo.svg',
      BRAND_PRIMARY_COLOR: '#0a7d38',
      BRAND_SUPPORT_URL: 'https://help.example.com',
      BRAND_SUPPORT_EMAIL: 'help@example.com',
      BRAND_TEMPLATES_DIR: 'test/fixtures/brand',
    };
    expect(Object.keys(samples).sort()).toEqual(Object.keys(ENV_VARS).sort());
    // Variables that only load together with others: the baseline sets them all to other valid values.
    const adminClient = { AUTHLY_ADMIN_CLIENT_ID: 'other', AUTHLY_ADMIN_CLIENT_SECRET: 'o'.repeat(20) };
    const adminUser = { AUTHLY_ADMIN_USERNAME: 'other', AUTHLY_ADMIN_PASSWORD: 'o'.repeat(12) };
    const partners: Record<string, Record<string, string>> = {
      ENVIRONMENT: {
        DEFAULT_ISSUER_URL: 'https://a.example.com',
        JWT_SECRET_KEY: 'k'.repeat(40),
        DATABASE_URL: 'postgres://x/y',
        AUTHLY_BOOTSTRAP_DEV_MODE: 'false',
        AUTHLY_KEY_ENCRYPTION_KEY: 'e'.repeat(40),
      },
      AUTHLY_ADMIN_CLIENT_ID: adminClient,
      AUTHLY_ADMIN_CLIENT_SECRET: adminClient,
      AUTHLY_ADMIN_USERNAME: adminUser,
      AUTHLY_ADMIN_PASSWORD: adminUser,
      WORKERS: { DATABASE_URL: 'postgres://x/y' },
      // The SMTP server's settings change nothing without a server.
      SMTP_PORT: { SMTP_HOST: 'smtp.example.com' },
      SMTP_USERNAME: { SMTP_HOST: 'smtp.example.com', SMTP_USERNAME: 'other', SMTP_PASSWORD: 'other' },
      SMTP_PASSWORD: { SMTP_HOST: 'smtp.example.com', SMTP_USERNAME: 'other', SMTP_PASSWORD: 'other' },
      SMTP_SECURE: { SMTP_HOST: 'smtp.example.com' },
      SMTP_STARTTLS: { SMTP_HOST: 'smtp.example.com' },
    };
    for (const [name, value] of Object.entries(samples)) {
      const base = partners[name] ?? {};
      expect(loadConfig({ ...base, [name]: value }), name).not.toEqual(loadConfig(base));
    }
  });
});
