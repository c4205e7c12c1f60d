import { describe, expect, it } from 'vitest';
import { redirectUriMatches } from '../../../src/routes/authorize/steps/check-redirect-uri.js';

const WEB = ['https://app.example.com/callback'];
const LOOPBACK = ['http://127.0.0.1/cb', 'http://[::1]/cb'];
const LOOPBACK_WITH_PORT = ['http://127.0.0.1:3000/cb'];
const NATIVE = ['com.example.app:/oauth2redirect'];

describe('redirectUriMatches (RFC 9700 section 2.1, RFC 8252 section 7.3)', () => {
  it.each([
    [WEB, 'https://app.example.com/callback', true],
    [WEB, 'https://app.example.com/callback/', false],
    [WEB, 'https://APP.example.com/callback', false],
    [WEB, 'https://app.example.com/Callback', false],
    [WEB, 'https://app.example.com/callback?x=1', false],
    [WEB, 'https://app.example.com/callback?', false],
    [WEB, 'https://app.example.com/callback#', false],
    [WEB, 'https://app.example.com:443/callback', false],
    [WEB, 'https://app.example.com:8443/callback', false],
    [WEB, 'http://app.example.com/callback', false],
    [WEB, 'https://app.example.com.evil.example/callback', false],
    [WEB, ' https://app.example.com/callback', false],
    [WEB, '', false],
    [LOOPBACK, 'http://127.0.0.1/cb', true],
    [LOOPBACK, 'http://127.0.0.1:1/cb', true],
    [LOOPBACK, 'http://127.0.0.1:51234/cb', true],
    [LOOPBACK, 'http://[::1]:51234/cb', true],
    [LOOPBACK, 'http://127.0.0.1:51234/cb2', false],
    [LOOPBACK, 'http://127.0.0.1:51234/cb/', false],
    [LOOPBACK, 'http://127.0.0.1:51234/cb?code=x', false],
    [LOOPBACK, 'http://127.0.0.1:51234/cb#x', false],
    [LOOPBACK, 'http://localhost:51234/cb', false],
    [LOOPBACK, 'http://127.0.0.2:51234/cb', false],
    [LOOPBACK, 'https://127.0.0.1:51234/cb', false],
    [LOOPBACK, 'http://user@127.0.0.1:51234/cb', false],
    // Spellings a URL parser would normalize to the registered URI are not exact matches.
    [LOOPBACK, 'HTTP://127.0.0.1:5000/cb', false],
    [LOOPBACK, 'http://127.0.0.1:5000/a/../cb', false],
    [LOOPBACK, 'http://127.0.0.1:5000/./cb', false],
    [LOOPBACK, 'http://0x7f.0.0.1:5000/cb', false],
    [LOOPBACK, 'http://127.1:5000/cb', false],
    [LOOPBACK, 'http://127.0.0.1:05000/cb', false],
    [LOOPBACK, 'http://127.0.0.1:/cb', false],
    [LOOPBACK, 'http://127.0.0.1:99999/cb', false],
    [LOOPBACK_WITH_PORT, 'http://127.0.0.1:3000/cb', true],
    [LOOPBACK_WITH_PORT, 'http://127.0.0.1:3001/cb', false],
    [NATIVE, 'com.example.app:/oauth2redirect', true],
    [NATIVE, 'com.example.app:/oauth2redirect/', false],
    [NATIVE, 'com.example.evil:/oauth2redirect', false],
    [['http://localhost/cb'], 'http://localhost:5000/cb', false],
  ])('%j ∋ %s → %s', (registered, candidate, ok) => {
    expect(redirectUriMatches(registered, candidate)).toBe(ok);
  });
});
