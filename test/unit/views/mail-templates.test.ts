import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { MailTemplateError } from '../../../src/errors/mail-errors.js';
import { MAIL_TEMPLATE_NAMES, mailRenderer } from '../../../src/views/mail/mail-templates.js';

const ISSUER = 'https://auth.example.com';
const render = mailRenderer(loadConfig({ DEFAULT_ISSUER_URL: ISSUER }));
const ACCOUNT = `${ISSUER}/account`;

/** The data each template's callers pass (issue 12 §1 fixes these keys). */
const DATA: Record<string, Record<string, string>> = {
  email_verification: { username: 'alice', link: `${ISSUER}/verify/t0k3n`, expiresMinutes: '60' },
  password_reset: { username: 'alice', link: `${ISSUER}/recover/t0k3n`, expiresMinutes: '30' },
  password_changed: { username: 'alice', accountUrl: ACCOUNT },
  invitation: { username: 'alice', link: `${ISSUER}/invite/t0k3n`, expiresHours: '72' },
  email_changed: { username: 'alice', newEmail: 'new@example.com', accountUrl: ACCOUNT },
  passkey_added: { username: 'alice', passkeyName: 'Laptop', accountUrl: ACCOUNT },
  passkey_removed: { username: 'alice', passkeyName: 'Laptop', accountUrl: ACCOUNT },
  mfa_changed: { username: 'alice', change: 'totp_enabled', accountUrl: ACCOUNT },
};

describe('mail templates', () => {
  it('there is one template for every MailTemplateName, and a data sample for each here', () => {
    expect([...MAIL_TEMPLATE_NAMES].sort()).toEqual(Object.keys(DATA).sort());
  });

  describe.each(MAIL_TEMPLATE_NAMES)('%s', (name) => {
    it.each(['en', 'de'])('in %s: subject, text and HTML from the same strings, with its link, the brand, no placeholder left', (locale) => {
      const mail = render(name, locale, DATA[name]!);
      const link = DATA[name]!.link ?? DATA[name]!.accountUrl!;
      expect(mail.subject).toContain('Authly');
      expect(mail.text).toContain(link);
      expect(mail.text.startsWith(locale === 'de' ? 'Hallo alice,' : 'Hello alice,')).toBe(true);
      expect(mail.html).toContain(`<html lang="${locale}">`);
      expect(mail.html).toContain(`href="${link}"`);
      expect(mail.html).toContain(`<title>${mail.subject}</title>`);
      for (const part of [mail.subject, mail.text, mail.html]) expect(part).not.toMatch(/\{\w+\}|mail\.\w/);
    });

    it('refuses a row without one of its data keys (a programming error: the worker fails the row)', () => {
      const { username: _drop, ...rest } = DATA[name]!;
      expect(() => render(name, 'en', rest)).toThrow(new MailTemplateError(`${name}: missing data key "username"`));
    });

    it('refuses a link that is not absolute on the issuer', () => {
      const key = 'link' in DATA[name]! ? 'link' : 'accountUrl';
      expect(() => render(name, 'en', { ...DATA[name]!, [key]: '/account' })).toThrow(MailTemplateError);
      expect(() => render(name, 'en', { ...DATA[name]!, [key]: 'https://evil.example/account' })).toThrow(
        new MailTemplateError(`${name}: "${key}" is not an absolute URL on the issuer`),
      );
    });
  });

  it('escapes user-controlled text in the HTML, and keeps it as typed in the text', () => {
    const mail = render('passkey_added', 'en', { ...DATA.passkey_added!, username: '<b>al&ice</b>', passkeyName: '"><script>x</script>' });
    expect(mail.html).toContain('Hello &lt;b&gt;al&amp;ice&lt;/b&gt;,');
    expect(mail.html).toContain('“&quot;&gt;&lt;script&gt;x&lt;/script&gt;”');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain('Hello <b>al&ice</b>,');
  });

  it('says which sign-in factor changed, and refuses an unknown change', () => {
    const said = (change: string, locale = 'en') => render('mfa_changed', locale, { ...DATA.mfa_changed!, change }).text.split('\n\n')[1];
    expect(said('totp_enabled')).toBe('An authenticator app (one-time codes) was set up for your account.');
    expect(said('totp_disabled')).toBe('The authenticator app (one-time codes) was removed from your account.');
    expect(said('recovery_codes_regenerated')).toBe('New recovery codes were created for your account; the old ones no longer work.');
    expect(said('factors_reset', 'de')).toBe('Ein Administrator hat die Anmeldefaktoren Ihres Kontos zurückgesetzt.');
    expect(() => said('password_reset')).toThrow(MailTemplateError);
  });

  it('an unknown template or locale: the template is refused, the locale falls back to English', () => {
    expect(() => render('welcome', 'en', {})).toThrow(new MailTemplateError('unknown template "welcome"'));
    expect(() => render('toString', 'en', {})).toThrow(MailTemplateError);
    expect(render('password_changed', 'fr', DATA.password_changed!).subject).toBe('Your Authly password was changed');
  });

  it('the whole text of one message, as a reader sees it', () => {
    expect(render('invitation', 'de', DATA.invitation!)).toMatchObject({
      subject: 'Sie sind zu Authly eingeladen',
      text: [
        'Hallo alice,',
        'Für Sie wurde ein Konto angelegt. Wählen Sie Ihr Passwort, um zu beginnen.',
        `Passwort festlegen:\n${ISSUER}/invite/t0k3n`,
        'Der Link funktioniert einmal und läuft in 72 Stunden ab.',
        '-- \nDiese Nachricht wurde von Authly gesendet.',
      ].join('\n\n') + '\n',
    });
  });
});
