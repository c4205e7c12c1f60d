import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

const SECRET = 'Zq8vN3rT6yW1xK4mP7sB0cF5hJ2lD9gA';
const PRODUCTION = {
  ENVIRONMENT: 'production',
  DEFAULT_ISSUER_URL: 'https://auth.example.com',
  DATABASE_URL: 'postgres://authly:pw@db.internal:5432/authly',
  JWT_SECRET_KEY: SECRET,
  AUTHLY_KEY_ENCRYPTION_KEY: 'Kq2vN8rT1yW6xK9mP4sB7cF0hJ5lD3gE',
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

function secretFile(content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'authly-config-'));
  const file = path.join(dir, 'secret');
  writeFileSync(file, content);
  return file;
}

describe('loadConfig', () => {
  it('REGISTRATION_POLICY: closed by default in production, open in development; explicit values win', () => {
    expect(loadConfig({}).registrationPolicy).toBe('open');
    expect(loadConfig(PRODUCTION).registrationPolicy).toBe('closed');
    expect(loadConfig({ ...PRODUCTION, REGISTRATION_POLICY: 'initial-access-token' }).registrationPolicy).toBe('initial-access-token');
    expect(loadConfig({ REGISTRATION_POLICY: 'closed' }).registrationPolicy).toBe('closed');
    expect(errorOf({ REGISTRATION_POLICY: 'anyone' }).message).toBe(
      'REGISTRATION_POLICY: Invalid option: expected one of "closed"|"initial-access-token"|"open" (got "anyone")',
    );
    expect(loadConfig({}).dynamicClientIdleDays).toBe(90);
    expect(loadConfig({}).rateLimit.registrationPerMinute).toBe(20);
  });

  it('KEY_ROTATION_DAYS needs the cleanup job that runs it', () => {
    expect(loadConfig({ KEY_ROTATION_DAYS: '30' }).keyRotationDays).toBe(30);
    expect(errorOf({ KEY_ROTATION_DAYS: '30', CLEANUP_INTERVAL_MINUTES: '0' }).message).toMatch(/^KEY_ROTATION_DAYS: .*CLEANUP_INTERVAL_MINUTES/);
  });

  it('defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      environment: 'development',
      host: '127.0.0.1',
      port: 8000,
      issuer: 'http://localhost:8000',
      databaseUrl: undefined,
      databasePoolMax: 10,
      dataDir: path.resolve('./data'),
      autoMigrate: true,
      logLevel: 'info',
      accessTokenTtlSeconds: 15 * 60,
      refreshTokenTtlSeconds: 7 * 86400,
      authorizationCodeTtlSeconds: 10 * 60,
      idTokenTtlSeconds: 60 * 60,
      sessionTtlSeconds: 24 * 3600,
      requireUserConsent: true,
      jwtSecretKey: undefined,
      jwtAlgorithm: 'RS256',
      keyEncryptionKey: undefined,
    });
    expect(config.admin.bootstrapDevMode).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('the default issuer follows PORT', () => {
    expect(loadConfig({ PORT: '9000' }).issuer).toBe('http://localhost:9000');
  });

  it('an empty variable counts as unset', () => {
    expect(loadConfig({ PORT: '', LOG_LEVEL: '' })).toMatchObject({ port: 8000, logLevel: 'info' });
  });

  it('strips trailing slashes from the issuer', () => {
    expect(loadConfig({ DEFAULT_ISSUER_URL: 'https://auth.example.com/' }).issuer).toBe('https://auth.example.com');
    expect(loadConfig({ DEFAULT_ISSUER_URL: 'https://example.com/auth/' }).issuer).toBe('https://example.com/auth');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('booleans: %s → %s', (raw, value) => {
    expect(loadConfig({ REQUIRE_USER_CONSENT: raw }).requireUserConsent).toBe(value);
  });

  describe('each bad value names its variable', () => {
    it.each([
      [{ PORT: 'abc' }, 'PORT: expected a whole number (got "abc")'],
      [{ PORT: '-1' }, 'PORT: expected a whole number (got "-1")'],
      [{ PORT: '65536' }, 'PORT: expected at most 65535 (got "65536")'],
      [{ PORT: '80.5' }, 'PORT: expected a whole number (got "80.5")'],
      [{ ACCESS_TOKEN_EXPIRE_MINUTES: '0' }, 'ACCESS_TOKEN_EXPIRE_MINUTES: expected at least 1 (got "0")'],
      [{ ACCESS_TOKEN_EXPIRE_MINUTES: '1441' }, 'ACCESS_TOKEN_EXPIRE_MINUTES: expected at most 1440 (got "1441")'],
      [{ AUTHORIZATION_CODE_EXPIRE_MINUTES: '11' }, 'AUTHORIZATION_CODE_EXPIRE_MINUTES: expected at most 10 (got "11")'],
      [{ REFRESH_TOKEN_EXPIRE_DAYS: 'week' }, 'REFRESH_TOKEN_EXPIRE_DAYS: expected a whole number (got "week")'],
      [{ DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX: expected at least 1 (got "0")'],
      [{ REQUIRE_USER_CONSENT: 'maybe' }, 'REQUIRE_USER_CONSENT: expected true or false (got "maybe")'],
      [{ AUTOMIGRATE: 'TRUE' }, 'AUTOMIGRATE: expected true or false (got "TRUE")'],
      [{ ENVIRONMENT: 'staging' }, /^ENVIRONMENT: .* \(got "staging"\)$/],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: .* \(got "loud"\)$/],
      [{ JWT_ALGORITHM: 'none' }, /^JWT_ALGORITHM: .* \(got "none"\)$/],
      [{ DEFAULT_ISSUER_URL: 'not a url' }, 'DEFAULT_ISSUER_URL: expected an absolute http(s) URL (got "not a url")'],
      [{ DEFAULT_ISSUER_URL: 'ftp://auth.example.com' }, 'DEFAULT_ISSUER_URL: expected an http(s) URL'],
      [{ DEFAULT_ISSUER_URL: 'https://auth.example.com?tenant=a' }, 'DEFAULT_ISSUER_URL: must not contain a query or fragment (RFC 8414 section 2)'],
      [{ DEFAULT_ISSUER_URL: 'https://auth.example.com/#x' }, 'DEFAULT_ISSUER_URL: must not contain a query or fragment (RFC 8414 section 2)'],
      [{ AUTHLY_ADMIN_EMAIL: 'not-an-email' }, 'AUTHLY_ADMIN_EMAIL: expected an email address (got "not-an-email")'],
      [{ AUTHLY_ADMIN_CLIENT_ID: 'admin' }, /^AUTHLY_ADMIN_CLIENT_ID: .*AUTHLY_ADMIN_CLIENT_SECRET/],
      [{ AUTHLY_ADMIN_USERNAME: 'admin' }, /^AUTHLY_ADMIN_USERNAME: .*AUTHLY_ADMIN_PASSWORD/],
      [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL: expected a redis:// or rediss:// URL'],
      [{ CORS_ORIGINS: 'https://app.example.com/' }, 'CORS_ORIGINS: "https://app.example.com/" is not an origin like https://app.example.com'],
      [{ CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS: "app.example.com" is not an origin like https://app.example.com'],
      [{ CORS_ORIGINS: '*,https://a.example.com' }, 'CORS_ORIGINS: "*" cannot be combined with other origins'],
      [{ ALLOWED_HOSTS: 'auth.example.com:443' }, 'ALLOWED_HOSTS: "auth.example.com:443" is not a host name (no scheme or port)'],
      [{ TRUST_PROXY: 'nginx' }, 'TRUST_PROXY: "nginx" is not true, false, a hop count, an IP address or a CIDR'],
      [{ WORKERS: '0' }, 'WORKERS: expected at least 1 (got "0")'],
    ] as const)('%o', (env, message) => {
      const err = errorOf(env);
      if (typeof message === 'string') expect(err.message).toBe(message);
      else expect(err.message).toMatch(message);
    });
  });

  it('DEFAULT_RESOURCE is kept in canonical form; anything but an absolute URI without fragment is refused', () => {
    expect(loadConfig({}).defaultResource).toBeUndefined();
    expect(loadConfig({ DEFAULT_RESOURCE: 'HTTPS://API.Example.com:443/' }).defaultResource).toBe('https://api.example.com');
    expect(loadConfig({ DEFAULT_RESOURCE: 'https://api.example.com/mcp/' }).defaultResource).toBe('https://api.example.com/mcp/');
    expect(() => loadConfig({ DEFAULT_RESOURCE: 'https://api.example.com/#x' })).toThrow(
      new ConfigError('DEFAULT_RESOURCE: must not contain a fragment (expected an absolute URI like https://api.example.com)'),
    );
    expect(() => loadConfig({ DEFAULT_RESOURCE: 'api.example.com' })).toThrow(
      new ConfigError('DEFAULT_RESOURCE: is not an absolute URI (expected an absolute URI like https://api.example.com)'),
    );
  });

  it('JWT_ALGORITHM=HS256 is refused with the reason', () => {
    const err = errorOf({ JWT_ALGORITHM: 'HS256' });
    expect(err.message).toMatch(/^JWT_ALGORITHM: HS256 is refused: /);
    expect(err.message).toContain('JWKS');
    expect(err.message).toContain('RS256');
  });

  it('parses the list-valued HTTP settings', () => {
    const config = loadConfig({
      CORS_ORIGINS: ' https://app.example.com , http://localhost:3000',
      ALLOWED_HOSTS: 'Auth.Example.com,*.example.org',
    });
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(config.allowedHosts).toEqual(['auth.example.com', '*.example.org']);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });

  it('RATE_LIMIT_REQUESTS_PER_MINUTE is RATE_LIMIT_MAX_REQUESTS per 60 s, and refuses a contradiction', () => {
    expect(loadConfig({ RATE_LIMIT_REQUESTS_PER_MINUTE: '100' }).rateLimit).toMatchObject({ max: 100, windowSeconds: 60 });
    expect(loadConfig({ RATE_LIMIT_REQUESTS_PER_MINUTE: '100', RATE_LIMIT_MAX_REQUESTS: '100' }).rateLimit.max).toBe(100);
    expect(() => loadConfig({ RATE_LIMIT_REQUESTS_PER_MINUTE: '100', RATE_LIMIT_MAX_REQUESTS: '50' })).toThrow(/contradicts/);
    expect(() => loadConfig({ RATE_LIMIT_REQUESTS_PER_MINUTE: '100', RATE_LIMIT_WINDOW_SECONDS: '10' })).toThrow(/per minute/);
  });

  it.each([
    ['false', false],
    ['true', 1], // one hop, never "believe the leftmost X-Forwarded-For entry"
    ['2', 2],
    ['127.0.0.1, 10.0.0.0/8,::1', ['127.0.0.1', '10.0.0.0/8', '::1']],
    ['loopback', ['loopback']],
  ] as const)('TRUST_PROXY=%s', (raw, expected) => {
    expect(loadConfig({ TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it('WORKERS > 1 needs DATABASE_URL: an embedded PGlite cannot be shared between processes', () => {
    expect(errorOf({ WORKERS: '2' }).message).toBe(
      'WORKERS: more than one worker needs DATABASE_URL (the embedded database cannot be shared between processes)',
    );
    expect(loadConfig({ WORKERS: '2', DATABASE_URL: 'postgres://db/authly' }).workers).toBe(2);
    expect(loadConfig({ WORKERS: '1' }).workers).toBe(1);
  });

  it.each(['RS256', 'ES256', 'EdDSA'])('JWT_ALGORITHM=%s is accepted', (alg) => {
    expect(loadConfig({ JWT_ALGORITHM: alg }).jwtAlgorithm).toBe(alg);
  });

  describe('production', () => {
    it('accepts a complete https configuration and turns bootstrap dev mode off', () => {
      const config = loadConfig(PRODUCTION);
      expect(config.environment).toBe('production');
      expect(config.admin.bootstrapDevMode).toBe(false);
    });

    it('refuses an http issuer', () => {
      expect(errorOf({ ...PRODUCTION, DEFAULT_ISSUER_URL: 'http://auth.example.com' }).message).toBe(
        'DEFAULT_ISSUER_URL: production requires an https issuer (http only for loopback)',
      );
    });

    it('without DEFAULT_ISSUER_URL the loopback default http://localhost:PORT is accepted', () => {
      // No DEFAULT_ISSUER_URL: the default is http://localhost:PORT, a loopback issuer, which is allowed.
      const { DEFAULT_ISSUER_URL: _unused, ...rest } = PRODUCTION;
      expect(loadConfig(rest).issuer).toBe('http://localhost:8000');
    });

    it.each(['http://localhost:8000', 'http://127.0.0.1:8000', 'http://127.0.0.2', 'http://[::1]:8000'])('allows the loopback http issuer %s', (issuer) => {
      expect(loadConfig({ ...PRODUCTION, DEFAULT_ISSUER_URL: issuer }).issuer).toBe(issuer);
    });

    it.each(['http://localhost.evil.example', 'http://127.0.0.1.nip.io', 'http://10.0.0.1', 'http://[::2]'])('refuses the non-loopback http issuer %s', (issuer) => {
      expect(errorOf({ ...PRODUCTION, DEFAULT_ISSUER_URL: issuer }).message).toMatch(/^DEFAULT_ISSUER_URL: production requires an https issuer/);
    });

    it('refuses to start without AUTHLY_KEY_ENCRYPTION_KEY, naming the variable (private keys encrypted at rest)', () => {
      expect(errorOf({ ...PRODUCTION, AUTHLY_KEY_ENCRYPTION_KEY: undefined }).message).toBe(
        'AUTHLY_KEY_ENCRYPTION_KEY: required in production (private signing keys are encrypted at rest)',
      );
      expect(errorOf({ ...PRODUCTION, AUTHLY_KEY_ENCRYPTION_KEY: '' }).message).toMatch(/^AUTHLY_KEY_ENCRYPTION_KEY: /);
      expect(errorOf({ ...PRODUCTION, AUTHLY_KEY_ENCRYPTION_KEY: 'change-me-openssl-rand-base64-48' }).message).toBe(
        'AUTHLY_KEY_ENCRYPTION_KEY: looks like a development placeholder; generate a random value',
      );
    });

    it('refuses a missing JWT_SECRET_KEY', () => {
      expect(errorOf({ ...PRODUCTION, JWT_SECRET_KEY: undefined }).message).toBe('JWT_SECRET_KEY: required in production');
    });

    it.each(['change-me-change-me-change-me-change-me', 'dev-secret-dev-secret-dev-secret-dev', 'example-example-example-example-ex'])(
      'refuses a placeholder JWT_SECRET_KEY (%s) without echoing it',
      (secret) => {
        const err = errorOf({ ...PRODUCTION, JWT_SECRET_KEY: secret });
        expect(err.message).toMatch(/^JWT_SECRET_KEY: /);
        expect(err.message).not.toContain(secret);
      },
    );

    it('refuses a missing DATABASE_URL', () => {
      expect(errorOf({ ...PRODUCTION, DATABASE_URL: undefined }).message).toBe(
        'DATABASE_URL: required in production (the embedded database is for development)',
      );
    });

    it.each(['true', '1', 'yes'])('refuses AUTHLY_BOOTSTRAP_DEV_MODE=%s', (value) => {
      expect(errorOf({ ...PRODUCTION, AUTHLY_BOOTSTRAP_DEV_MODE: value }).message).toBe(
        'AUTHLY_BOOTSTRAP_DEV_MODE: development bootstrap is refused in production',
      );
    });

    it('accepts AUTHLY_BOOTSTRAP_DEV_MODE=false', () => {
      expect(loadConfig({ ...PRODUCTION, AUTHLY_BOOTSTRAP_DEV_MODE: 'false' }).admin.bootstrapDevMode).toBe(false);
    });

    it('refuses CIMD_ALLOW_LOOPBACK=true (loopback client_id URLs are for development and tests)', () => {
      expect(errorOf({ ...PRODUCTION, CIMD_ALLOW_LOOPBACK: 'true' }).message).toBe(
        'CIMD_ALLOW_LOOPBACK: development and tests only; refused in production',
      );
      expect(loadConfig(PRODUCTION).cimd).toMatchObject({ enabled: true, allowLoopback: false });
    });
    it('refuses OUTBOUND_ALLOW_LOOPBACK=true (client-registered URLs on loopback are for development and tests)', () => {
      expect(errorOf({ ...PRODUCTION, OUTBOUND_ALLOW_LOOPBACK: 'true' }).message).toBe(
        'OUTBOUND_ALLOW_LOOPBACK: development and tests only; refused in production',
      );
      expect(loadConfig(PRODUCTION).outboundAllowLoopback).toBe(false);
    });
  });

  describe('client ID metadata documents', () => {
    it('reads the domain lists lower-cased, and refuses what is not a domain name', () => {
      expect(loadConfig({ CIMD_ALLOWED_DOMAINS: 'MCP.Example.com, .tools.example.org', CIMD_DENIED_DOMAINS: '*.evil.example' }).cimd).toMatchObject({
        allowedDomains: ['mcp.example.com', 'tools.example.org'],
        deniedDomains: ['evil.example'],
      });
      expect(errorOf({ CIMD_ALLOWED_DOMAINS: 'https://mcp.example.com' }).message).toBe(
        'CIMD_ALLOWED_DOMAINS: "https://mcp.example.com" is not a domain name (no scheme, port or path)',
      );
    });

    it('refuses a minimum cache lifetime above the maximum', () => {
      expect(errorOf({ CIMD_CACHE_MIN_SECONDS: '600', CIMD_CACHE_MAX_SECONDS: '60' }).message).toBe(
        'CIMD_CACHE_MIN_SECONDS: must not exceed CIMD_CACHE_MAX_SECONDS',
      );
    });
  });

  describe('NAME_FILE', () => {
    it('reads a secret from a file, without the trailing newline', () => {
      const file = secretFile(`${SECRET}\n`);
      expect(loadConfig({ JWT_SECRET_KEY_FILE: file }).jwtSecretKey).toBe(SECRET);
    });

    it('strips a CRLF line end too', () => {
      expect(loadConfig({ JWT_SECRET_KEY_FILE: secretFile(`${SECRET}\r\n`) }).jwtSecretKey).toBe(SECRET);
    });

    it('wins over NAME', () => {
      const file = secretFile(SECRET);
      expect(loadConfig({ JWT_SECRET_KEY: 'x'.repeat(40), JWT_SECRET_KEY_FILE: file }).jwtSecretKey).toBe(SECRET);
    });

    it('works for any variable and in production', () => {
      const db = secretFile('postgres://authly:pw@db/authly\n');
      const config = loadConfig({ ...PRODUCTION, DATABASE_URL: undefined, DATABASE_URL_FILE: db, PORT_FILE: secretFile('9001') });
      expect(config.databaseUrl).toBe('postgres://authly:pw@db/authly');
      expect(config.port).toBe(9001);
    });

    it('an unreadable file names the _FILE variable', () => {
      expect(errorOf({ JWT_SECRET_KEY_FILE: '/nonexistent/secret' }).message).toBe('JWT_SECRET_KEY_FILE: cannot read /nonexistent/secret (ENOENT)');
    });

    it('a bad value read from a file does not appear in the message', () => {
      const err = errorOf({ JWT_SECRET_KEY_FILE: secretFile('short-secret-value') });
      expect(err.message).toBe('JWT_SECRET_KEY: expected at least 32 characters');
    });
  });

  describe("secrets' values never appear in error messages", () => {
    it.each([
      ['JWT_SECRET_KEY', 'tooshort-jwt-secret'],
      ['AUTHLY_KEY_ENCRYPTION_KEY', 'tooshort-kek-value'],
      ['AUTHLY_ADMIN_CLIENT_SECRET', 'short-cs'],
      ['AUTHLY_ADMIN_PASSWORD', 'pw-1234'],
      ['DATABASE_URL', 'mysql://root:hunter2-db-pass@db/authly'],
    ])('%s', (name, value) => {
      const env: Record<string, string> = { [name]: value };
      if (name === 'AUTHLY_ADMIN_CLIENT_SECRET') env.AUTHLY_ADMIN_CLIENT_ID = 'admin';
      if (name === 'AUTHLY_ADMIN_PASSWORD') env.AUTHLY_ADMIN_USERNAME = 'admin';
      const err = errorOf(env);
      expect(err.message.startsWith(`${name}: `)).toBe(true);
      expect(err.message).not.toContain(value);
      expect(err.message).not.toContain('hunter2');
    });

    it('a production refusal of one variable never prints another secret', () => {
      const err = errorOf({ ...PRODUCTION, DEFAULT_ISSUER_URL: 'http://auth.example.com' });
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain('pw@');
    });
  });
});
