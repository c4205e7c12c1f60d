import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { InjectBrowser, csrfToken, formAction } from './browser.js';
import { hiddenInputs } from './e2e-server.js';
import { createClient, type TestClient } from './fixtures.js';
import { completeInteraction, tokenRequest, type TokenAuth } from './oauth-flow.js';
import type { NewClient } from '../../src/repositories/clients-repository.js';

/** Steps of the device authorization grant (RFC 8628) over app.inject, each returning the raw response. */

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A client registered for the device grant (and refresh_token); public unless told otherwise. */
export function createDeviceClient(app: FastifyInstance, overrides: Partial<NewClient> = {}): Promise<TestClient> {
  return createClient(app, {
    tokenEndpointAuthMethod: 'none',
    grantTypes: [DEVICE_GRANT, 'refresh_token'],
    responseTypes: [],
    redirectUris: [],
    clientName: 'Living Room TV',
    ...overrides,
  });
}

export interface DeviceAuthorizationBody {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** POST /oauth/device_authorization, the client authenticating as registered. */
export function deviceAuthorizationRequest(app: FastifyInstance, client: TestClient, form: Record<string, string> = {}, auth: TokenAuth = {}) {
  const method = auth.method ?? (client.clientSecret ? 'basic' : 'none');
  const body: Record<string, string> = { ...form };
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...auth.headers };
  if (method === 'basic') headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret!)}`).toString('base64')}`;
  if (method === 'post') Object.assign(body, { client_id: client.clientId, client_secret: client.clientSecret! });
  if (method === 'none') body.client_id = client.clientId;
  return app.inject({ method: 'POST', url: '/oauth/device_authorization', headers, payload: new URLSearchParams(body).toString() });
}

export async function startDevice(app: FastifyInstance, client: TestClient, form: Record<string, string> = {}): Promise<DeviceAuthorizationBody> {
  const res = await deviceAuthorizationRequest(app, client, form);
  if (res.statusCode !== 200) throw new Error(`device authorization failed: ${res.statusCode} ${res.body}`);
  return res.json() as DeviceAuthorizationBody;
}

/** One poll of the token endpoint with the device code. */
export function poll(app: FastifyInstance, client: TestClient, deviceCode: string): Promise<LightMyRequestResponse> {
  return tokenRequest(app, client, { grant_type: DEVICE_GRANT, device_code: deviceCode });
}

/** Lets the next poll come "later": the previous poll is moved back beyond any interval. */
export async function forgetLastPoll(app: FastifyInstance): Promise<void> {
  await app.ctx.db.query(`UPDATE device_authorizations SET last_polled_at = now() - interval '1 hour'`);
}

/** Enters `userCode` on /device and answers the confirmation page with `decision`; returns the response to that answer. */
export async function enterUserCode(browser: InjectBrowser, userCode: string, decision: 'allow' | 'deny' = 'allow'): Promise<LightMyRequestResponse> {
  const form = await browser.get('/device');
  const confirm = await browser.post('/device', { csrf_token: csrfToken(form.body), user_code: userCode });
  if (confirm.statusCode !== 200) return confirm;
  return browser.post(formAction(confirm.body), { ...Object.fromEntries(hiddenInputs(confirm.body)), decision });
}

/** The person's whole part: code, confirmation, sign-in and consent; returns the last page. */
export async function approveDevice(
  browser: InjectBrowser,
  userCode: string,
  username: string,
  decision: 'allow' | 'deny' = 'allow',
): Promise<LightMyRequestResponse> {
  const started = await enterUserCode(browser, userCode, 'allow');
  return completeInteraction(browser, started, { username }, decision);
}
