import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { configWarnings } from '../../../src/config/config-warnings.js';

const named = (env: Record<string, string>, dotEnv: string[] = []) => configWarnings(env, dotEnv).map((w) => w.variable);

/** Issue 10 §5: a setting that changes nothing is named at start-up, with why. */
describe('configuration warnings', () => {
  it("names the deployment guides' variables Authly does not read, with the reason", () => {
    const warnings = configWarnings({ CACHE_TTL: '300', JWT_REFRESH_SECRET_KEY: 'x', DB_PASSWORD: 'x' });
    expect(warnings.map((w) => w.variable)).toEqual(['CACHE_TTL', 'JWT_REFRESH_SECRET_KEY', 'DB_PASSWORD']);
    expect(warnings[1]!.message).toMatch(/^JWT_REFRESH_SECRET_KEY is ignored: refresh tokens are random opaque strings/);
  });

  it('the SMTP_* variables of the deployment guides are read now (mail is sent), and a misspelt one is named', () => {
    expect(named({ SMTP_HOST: 'smtp.example.com', SMTP_PORT: '587', SMTP_USERNAME: 'u', SMTP_PASSWORD_FILE: '/run/secrets/smtp' })).toEqual([]);
    const [warning] = configWarnings({ SMTP_PORTT: '587' });
    expect(warning!.message).toBe('SMTP_PORTT is not a variable Authly reads; did you mean SMTP_PORT?');
  });

  it('says nothing when the value describes what Authly does anyway, and names a value it cannot honour', () => {
    expect(named({ PKCE_REQUIRED: 'true', OAUTH_ENABLED: 'true', HEALTH_CHECK_ENABLED: 'true' })).toEqual([]);
    const [pkce] = configWarnings({ PKCE_REQUIRED: 'false' });
    expect(pkce!.message).toMatch(/^PKCE_REQUIRED is ignored: PKCE is always required/);
    expect(named({ OAUTH_ENABLED: 'false', HEALTH_CHECK_ENABLED: 'no' })).toEqual(['OAUTH_ENABLED', 'HEALTH_CHECK_ENABLED']);
  });

  it('a misspelled variable in .env is named with the closest one Authly reads', () => {
    const [warning] = configWarnings({ ACCES_TOKEN_EXPIRE_MINUTES: '30' }, ['ACCES_TOKEN_EXPIRE_MINUTES']);
    expect(warning!.message).toBe('ACCES_TOKEN_EXPIRE_MINUTES (set in .env) is not a variable Authly reads; did you mean ACCESS_TOKEN_EXPIRE_MINUTES?');
  });

  it('every unknown name in .env is named; in the process environment only AUTHLY_* names and near misses', () => {
    expect(named({ FAVOURITE_COLOUR: 'blue' }, ['FAVOURITE_COLOUR'])).toEqual(['FAVOURITE_COLOUR']);
    expect(named({ HOME: '/root', PATH: '/bin', HOSTNAME: 'pod-1', FAVOURITE_COLOUR: 'blue', LANG: 'C' })).toEqual([]);
    expect(named({ AUTHLY_ADMIN_CLIENTID: 'x', REDIS_URI: 'redis://r', DATABSE_URL: 'postgres://x' })).toEqual(['AUTHLY_ADMIN_CLIENTID', 'REDIS_URI', 'DATABSE_URL']);
  });

  it('variables Authly reads, and their _FILE forms, are never named', () => {
    expect(named({ ACCESS_TOKEN_EXPIRE_MINUTES: '30', JWT_SECRET_KEY_FILE: '/run/secrets/jwt', DEBUG: 'true', METRICS_ENABLED: 'false' }, ['ACCESS_TOKEN_EXPIRE_MINUTES'])).toEqual([]);
  });
});

describe("the guides' DEBUG and METRICS_ENABLED are honoured", () => {
  it('DEBUG=true logs at debug level unless LOG_LEVEL is set', () => {
    expect(loadConfig({ DEBUG: 'true' }).logLevel).toBe('debug');
    expect(loadConfig({ DEBUG: 'true', LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
    expect(loadConfig({ DEBUG: 'false' }).logLevel).toBe('info');
  });

  it('METRICS_ENABLED defaults to true and accepts false', () => {
    expect(loadConfig({}).metricsEnabled).toBe(true);
    expect(loadConfig({ METRICS_ENABLED: 'false' }).metricsEnabled).toBe(false);
  });
});
