import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { InjectBrowser } from '../../helpers/browser.js';
import { TEST_ISSUER } from '../../helpers/test-app.js';
import { completeInteraction } from '../../helpers/oauth-flow.js';

/** The path of an absolute URL on the test issuer (the authorization redirect and the callback are absolute). */
export function local(location: string | string[] | undefined): string {
  if (typeof location !== 'string') throw new Error(`expected a location, got ${String(location)}`);
  return location.startsWith(TEST_ISSUER) ? location.slice(TEST_ISSUER.length) : location;
}

/**
 * Signs in to the account the way a browser does: the page asked for sends to /account/sign-in, which
 * starts an authorization of the built-in client; the login form (unless a session exists), then the
 * callback, which returns to the page. Returns the callback's response (303 to the page).
 */
export async function signInToAccount(b: InjectBrowser, username: string, page = '/account', password?: string): Promise<LightMyRequestResponse> {
  const first = await b.get(page);
  expect(first.statusCode).toBe(303);
  expect(first.headers.location).toBe(`/account/sign-in?return_to=${encodeURIComponent(page)}`);
  const start = await b.get(local(first.headers.location));
  expect(start.statusCode).toBe(303);
  const authorize = await b.get(local(start.headers.location));
  const done = await completeInteraction(b, authorize, { username, password });
  expect(done.statusCode).toBe(303);
  expect(local(done.headers.location).startsWith('/account/callback?')).toBe(true);
  const callback = await b.get(local(done.headers.location));
  expect(callback.statusCode, callback.body).toBe(303);
  expect(callback.headers.location).toBe(page);
  return callback;
}

/** The hidden CSRF field of the form posting to `action`. */
export function csrfOf(body: string, action: string): string {
  const form = body.split('<form').find((f) => f.includes(`action="${action}"`));
  const match = form && /name="csrf_token" value="([^"]+)"/.exec(form);
  if (!match) throw new Error(`no form posting to ${action}`);
  return match[1]!;
}
