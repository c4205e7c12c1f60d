import { describe, expect, it } from 'vitest';
import { classifySendError } from '../../../../src/services/mail/mail-transport.js';

/** What the worker does with each kind of failure nodemailer reports (RFC 5321 section 4.2.1 reply classes). */
describe('classifySendError', () => {
  it.each([
    [{ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user' }, 'rejected', true, 'EENVELOPE 550: 550 5.1.1 No such user'],
    [{ code: 'EMESSAGE', responseCode: 554, response: '554 Message refused' }, 'rejected', true, 'EMESSAGE 554: 554 Message refused'],
    [{ code: 'EENVELOPE', responseCode: 451, response: '451 4.7.1 Greylisted' }, 'temporary', false, 'EENVELOPE 451: 451 4.7.1 Greylisted'],
    [{ code: 'EMESSAGE', responseCode: 452, response: '452 Mailbox full' }, 'temporary', false, 'EMESSAGE 452: 452 Mailbox full'],
    // Credentials and TLS are the deployment's problem: retried even on a 5xx, so nothing is lost while they are fixed.
    [{ code: 'EAUTH', responseCode: 535, response: '535 Invalid credentials' }, 'auth', false, 'EAUTH 535: 535 Invalid credentials'],
    [{ code: 'ETLS', message: 'STARTTLS failed' }, 'tls', false, 'ETLS: STARTTLS failed'],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, 'timeout', false, 'ETIMEDOUT: Greeting never received'],
    [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'connection', false, 'ECONNECTION: connect ECONNREFUSED 127.0.0.1:25'],
    [{ code: 'ESOCKET', message: 'read ECONNRESET' }, 'connection', false, 'ESOCKET: read ECONNRESET'],
    [new Error('something odd'), 'connection', false, 'ERROR: something odd'],
    [undefined, 'connection', false, 'ERROR: unknown error'],
  ])('%j → %s (permanent: %s)', (err, cls, permanent, detail) => {
    expect(classifySendError(err)).toEqual({ class: cls, permanent, detail });
  });

  it('keeps the detail to one line of at most 300 characters of the reply', () => {
    const { detail } = classifySendError({ code: 'EMESSAGE', responseCode: 421, response: `421 ${'x'.repeat(500)}\r\nmore` });
    expect(detail).toBe(`EMESSAGE 421: ${`421 ${'x'.repeat(500)}`.slice(0, 300)}`);
  });
});
