import { existsSync } from 'node:fs';
import * as client from 'openid-client';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/repositories/users-repository.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/axe.js';
import { createDeviceClient } from '../helpers/device-flow.js';
import { startE2eServer, type E2eServer } from '../helpers/e2e-server.js';
import { createUser, TEST_PASSWORD } from '../helpers/fixtures.js';
import { discover } from './openid-client-support.js';

/**
 * RFC 8628 in a real browser: a device (openid-client, polling) shows its verification_uri_complete; a person
 * opens it in Chromium, checks the code, signs in, allows, and reads "you may return to your device" while
 * the device gets its tokens. The pages' CSP must let every form of the way post (no violation in the
 * console). Needs Chromium at /usr/bin/chromium (or AUTHLY_CHROMIUM_PATH); AUTHLY_SKIP_BROWSER=1 skips.
 */
const SKIP_BROWSER = process.env.AUTHLY_SKIP_BROWSER === '1';

describe.skipIf(SKIP_BROWSER)('a person approves a device in headless Chromium', () => {
  let server: E2eServer;
  let browser: Browser;
  let user: User;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (AUTHLY_SKIP_BROWSER=1 skips the browser tests explicitly)`);
    server = await startE2eServer({ DEVICE_CODE_INTERVAL_SECONDS: '1' });
    user = await createUser(server.app);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('verification_uri_complete → confirm the code → sign in → allow → the device gets its tokens', async () => {
    const { clientId } = await createDeviceClient(server.app);
    const config = await discover(server.issuer, clientId, client.None());
    const started = await client.initiateDeviceAuthorization(config, { scope: 'openid offline_access' });
    const polling = client.pollDeviceAuthorizationGrant(config, started);

    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));

    await page.goto(started.verification_uri_complete!);
    // Prefilled, but nothing happens until the person presses Continue.
    expect(await page.inputValue('#user_code')).toBe(started.user_code);
    await page.click('button[type="submit"]');
    expect(await page.textContent('h1')).toBe('Is this your device?');
    expect(await page.textContent('strong.user-code')).toBe(started.user_code);
    expect(await page.textContent('main')).toContain('Living Room TV on a device asks for access to your account.');
    await page.click('button[value="allow"]');

    await page.fill('#username', user.username);
    await page.fill('#password', TEST_PASSWORD);
    await page.click('button[type="submit"]');
    await page.click('button[value="allow"]');
    await page.locator('p.notice').waitFor();
    expect(await page.textContent('h1')).toBe('Device connected');
    expect(await page.textContent('p.notice')).toContain('You may return to your device');

    const tokens = await polling;
    expect(tokens.claims()).toMatchObject({ sub: user.id, aud: clientId });
    expect(messages.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([]);
    await context.close();
  }, 60_000);
});
