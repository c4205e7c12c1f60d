import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, mailDelivery, requireMailFor } from '../../../src/config/config.js';

const PRODUCTION = {
  ENVIRONMENT: 'production',
  DEFAULT_ISSUER_URL: 'https://auth.example.com',
  DATABASE_URL: 'postgres://authly:pw@db.internal:5432/authly',
  JWT_SECRET_KEY: 'Zq8vN3rT6yW1xK4mP7sB0cF5hJ2lD9gA',
  AUTHLY_KEY_ENCRYPTION_KEY: 'Kq2vN8rT1yW6xK9mP4sB7cF0hJ5lD3gE',
};

function messageOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** Issue 12 §1: SMTP settings, and production's refusal to run a mail feature without SMTP. */
describe('mail configuration', () => {
  it('without SMTP, development writes .eml files into AUTHLY_DATA_DIR/mail; the sender is no-reply@ the issuer host', () => {
    const config = loadConfig({ AUTHLY_DATA_DIR: '/srv/authly', DEFAULT_ISSUER_URL: 'http://localhost:8000' });
    expect(mailDelivery(config)).toBe('dev-files');
    expect(config.mail).toEqual({
      smtp: undefined,
      fromEmail: 'no-reply@localhost',
      fromName: undefined,
      devDir: '/srv/authly/mail',
      workerEnabled: true,
      maxAttempts: 12,
      retryBaseSeconds: 30,
      sendTimeoutSeconds: 30,
    });
    expect(loadConfig({ DEFAULT_ISSUER_URL: 'http://127.0.0.1:8000', MAIL_DEV_DIR: '/tmp/m' }).mail).toMatchObject({ fromEmail: 'no-reply@[127.0.0.1]', devDir: '/tmp/m' });
  });

  it('SMTP_HOST and its companions; STARTTLS opportunistic in development, required in production', () => {
    const dev = loadConfig({ SMTP_HOST: 'mailpit', SMTP_PORT: '1025', SMTP_FROM_EMAIL: 'auth@example.com', SMTP_FROM_NAME: 'Example Login' });
    expect(mailDelivery(dev)).toBe('smtp');
    expect(dev.mail.smtp).toEqual({ host: 'mailpit', port: 1025, secure: false, startTls: 'opportunistic', username: undefined, password: undefined });
    expect(dev.mail).toMatchObject({ fromEmail: 'auth@example.com', fromName: 'Example Login' });
    const prod = loadConfig({ ...PRODUCTION, SMTP_HOST: 'smtp.example.com', SMTP_USERNAME: 'authly', SMTP_PASSWORD: 'pw' });
    expect(prod.mail.smtp).toEqual({ host: 'smtp.example.com', port: 587, secure: false, startTls: 'required', username: 'authly', password: 'pw' });
    expect(loadConfig({ SMTP_HOST: 'smtp.example.com', SMTP_SECURE: 'true' }).mail.smtp).toMatchObject({ port: 465, secure: true });
    expect(loadConfig({ SMTP_HOST: 'smtp.example.com', SMTP_STARTTLS: 'off' }).mail.smtp).toMatchObject({ startTls: 'off' });
  });

  it('SMTP_URL is the alternative: smtps:// means implicit TLS, credentials percent-decoded', () => {
    const config = loadConfig({ SMTP_URL: 'smtps://us%40er:p%3Ass@smtp.example.com' });
    expect(config.mail.smtp).toEqual({ host: 'smtp.example.com', port: 465, secure: true, startTls: 'opportunistic', username: 'us@er', password: 'p:ss' });
    expect(loadConfig({ SMTP_URL: 'smtp://relay.internal:2525' }).mail.smtp).toMatchObject({ host: 'relay.internal', port: 2525, secure: false });
  });

  it('SMTP_PASSWORD_FILE works like every secret', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'authly-mail-config-'));
    writeFileSync(path.join(dir, 'pw'), 's3cret\n');
    const config = loadConfig({ SMTP_HOST: 'smtp.example.com', SMTP_USERNAME: 'authly', SMTP_PASSWORD_FILE: path.join(dir, 'pw') });
    expect(config.mail.smtp?.password).toBe('s3cret');
  });

  it.each([
    [{ SMTP_URL: 'http://smtp.example.com' }, 'SMTP_URL: expected smtp://[user:password@]host[:port] or smtps://…'],
    [{ SMTP_URL: 'smtp://smtp.example.com', SMTP_HOST: 'other' }, 'SMTP_URL: set either SMTP_URL or SMTP_HOST, not both'],
    [{ SMTP_URL: 'smtp://smtp.example.com', SMTP_SECURE: 'true' }, 'SMTP_URL: set either SMTP_URL or SMTP_SECURE, not both'],
    [{ SMTP_URL: 'smtp://user@smtp.example.com' }, 'SMTP_URL: a user name goes with a password'],
    [{ SMTP_HOST: 'smtp.example.com', SMTP_USERNAME: 'u' }, 'SMTP_USERNAME: SMTP_USERNAME and SMTP_PASSWORD go together'],
    [{ SMTP_PORT: '25' }, 'SMTP_PORT: set SMTP_HOST (or SMTP_URL) too'],
    [{ SMTP_HOST: 'smtp://x' }, 'SMTP_HOST: expected a host name or IP address (got "smtp://x")'],
    [{ SMTP_HOST: 'x', SMTP_PORT: '0' }, 'SMTP_PORT: expected at least 1 (got "0")'],
    [{ SMTP_HOST: 'x', SMTP_STARTTLS: 'maybe' }, expect.stringMatching(/^SMTP_STARTTLS: /)],
    [{ SMTP_FROM_EMAIL: 'not an address' }, 'SMTP_FROM_EMAIL: expected an email address (got "not an address")'],
    [{ MAIL_MAX_ATTEMPTS: '0' }, 'MAIL_MAX_ATTEMPTS: expected at least 1 (got "0")'],
  ])('refuses %j', (env, message) => {
    expect(messageOf(env as Record<string, string>)).toEqual(message);
  });

  it('a secret in a refused SMTP_URL is never echoed', () => {
    expect(messageOf({ SMTP_URL: 'ftp://user:hunter2@x' })).not.toContain('hunter2');
  });

  it('production: sending a password in clear text to a remote server is refused', () => {
    expect(messageOf({ ...PRODUCTION, SMTP_HOST: 'smtp.example.com', SMTP_USERNAME: 'u', SMTP_PASSWORD: 'p', SMTP_STARTTLS: 'off' })).toBe(
      'SMTP_STARTTLS: off would send SMTP_PASSWORD in clear text; use required, or SMTP_SECURE=true',
    );
    expect(loadConfig({ ...PRODUCTION, SMTP_HOST: '127.0.0.1', SMTP_USERNAME: 'u', SMTP_PASSWORD: 'p', SMTP_STARTTLS: 'off' }).mail.smtp?.startTls).toBe('off');
  });

  describe('requireMailFor (called by loadConfig for each feature that sends mail)', () => {
    it('production without SMTP: a one-line reason naming the feature variable', () => {
      const config = loadConfig(PRODUCTION);
      expect(() => requireMailFor(config, 'REGISTRATION_ENABLED')).toThrow(new ConfigError('REGISTRATION_ENABLED: needs SMTP_HOST or SMTP_URL to send mail'));
    });

    it('production without SMTP delivers nothing (never .eml files with links on a server), development writes files', () => {
      expect(mailDelivery(loadConfig(PRODUCTION))).toBe('none');
      expect(mailDelivery(loadConfig({}))).toBe('dev-files');
      expect(mailDelivery(loadConfig({ ...PRODUCTION, SMTP_HOST: 'smtp.example.com' }))).toBe('smtp');
    });

    it('production with SMTP, and development without it (the .eml files), pass', () => {
      expect(() => requireMailFor(loadConfig({ ...PRODUCTION, SMTP_URL: 'smtps://u:p@smtp.example.com' }), 'REGISTRATION_ENABLED')).not.toThrow();
      expect(() => requireMailFor(loadConfig({}), 'REGISTRATION_ENABLED')).not.toThrow();
    });
  });
});
