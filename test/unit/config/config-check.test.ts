import { describe, expect, it } from 'vitest';
import { variableProblems } from '../../../src/config/config-check.js';

/** Issue 14 §4: `authly config check` names every problem at once (src/config/config-check.ts). */
describe('variableProblems', () => {
  it('finds nothing in an empty environment (every default is valid in development)', () => {
    expect(variableProblems({})).toEqual({ errors: [], warnings: [] });
  });

  it('names every invalid value, not only the first, with the variable and why', () => {
    const { errors } = variableProblems({ PORT: '80a', AUTOMIGRATE: 'maybe', BRAND_PRIMARY_COLOR: 'blue', JWT_SECRET_KEY: 'short' });
    expect(errors).toEqual([
      { variable: 'PORT', message: 'expected a whole number (got "80a")' },
      { variable: 'BRAND_PRIMARY_COLOR', message: 'expected a hex colour like #2f66d8 (got "blue")' },
      { variable: 'AUTOMIGRATE', message: 'expected true or false (got "maybe")' },
      // A secret's value is never echoed.
      { variable: 'JWT_SECRET_KEY', message: 'expected at least 32 characters' },
    ]);
  });

  it('a NAME_FILE that cannot be read is an error of NAME_FILE', () => {
    expect(variableProblems({ JWT_SECRET_KEY_FILE: '/nonexistent/authly-secret' }).errors).toEqual([
      { variable: 'JWT_SECRET_KEY_FILE', message: 'cannot read /nonexistent/authly-secret (ENOENT)' },
    ]);
  });

  it('checks the rules between variables once every value is valid, as the server would next', () => {
    expect(variableProblems({ ENVIRONMENT: 'production' }).errors).toEqual([
      { variable: 'DATABASE_URL', message: 'required in production (the embedded database is for development)' },
    ]);
    expect(variableProblems({ SMTP_USERNAME: 'u', SMTP_HOST: 'smtp.example.com' }).errors).toEqual([
      { variable: 'SMTP_USERNAME', message: 'SMTP_USERNAME and SMTP_PASSWORD go together' },
    ]);
    // With a bad value the cross-variable rules wait: the list names what to fix first.
    expect(variableProblems({ ENVIRONMENT: 'production', PORT: 'x' }).errors.map((e) => e.variable)).toEqual(['PORT']);
  });

  it('warns about unknown names that look like Authly\'s: a near miss names the variable it resembles', () => {
    expect(variableProblems({ ACCES_TOKEN_EXPIRE_MINUTES: '30' }).warnings).toEqual([
      { variable: 'ACCES_TOKEN_EXPIRE_MINUTES', message: 'ACCES_TOKEN_EXPIRE_MINUTES is not a variable Authly reads; did you mean ACCESS_TOKEN_EXPIRE_MINUTES?' },
    ]);
    expect(variableProblems({ ACCES_TOKEN_EXPIRE_MINUTES: '30' }, ['ACCES_TOKEN_EXPIRE_MINUTES']).warnings[0]!.message).toBe(
      'ACCES_TOKEN_EXPIRE_MINUTES (set in .env) is not a variable Authly reads; did you mean ACCESS_TOKEN_EXPIRE_MINUTES?',
    );
  });

  it("warns about unknown names in a family of Authly's variables (SMTP_*, BRAND_*, …) even when no name is close", () => {
    expect(variableProblems({ SMTP_HOSTNAME: 'mail', BRAND_COLOUR: 'red', CIMD_ENABLED_FOR_ALL: 'true' }).warnings).toEqual([
      { variable: 'SMTP_HOSTNAME', message: 'SMTP_HOSTNAME is not a variable Authly reads (Authly reads other SMTP_* variables)' },
      { variable: 'BRAND_COLOUR', message: 'BRAND_COLOUR is not a variable Authly reads (Authly reads other BRAND_* variables)' },
      { variable: 'CIMD_ENABLED_FOR_ALL', message: 'CIMD_ENABLED_FOR_ALL is not a variable Authly reads (Authly reads other CIMD_* variables)' },
    ]);
  });

  it('leaves the rest of a process environment alone', () => {
    const env = { HOME: '/root', PATH: '/bin', HOSTNAME: 'pod-1', LANG: 'C', NODE_ENV: 'production', HTTP_PROXY: 'http://proxy:3128', npm_config_cache: '/x' };
    expect(variableProblems(env)).toEqual({ errors: [], warnings: [] });
  });

  it("names the guides' variables Authly ignores, with why (as at start-up)", () => {
    expect(variableProblems({ CACHE_TTL: '300' }).warnings).toEqual([
      { variable: 'CACHE_TTL', message: expect.stringMatching(/^CACHE_TTL is ignored: /) },
    ]);
  });
});
