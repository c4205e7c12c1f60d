import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';
import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../../../src/http/security-headers.js';

/** What helmet's middleware sets when it runs on a real response, the way @fastify/helmet ran it. */
function helmetOnRealResponse(options: HelmetOptions): Record<string, string> {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  helmet(options)(res.req, res, () => {});
  return Object.fromEntries(Object.entries(res.getHeaders()).map(([k, v]) => [k, String(v)]));
}

describe('securityHeaders', () => {
  const authly = (https: boolean): HelmetOptions => ({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    strictTransportSecurity: https,
  });

  it.each([false, true])('computes once exactly the headers helmet sets per request (HSTS %s)', (https) => {
    expect(securityHeaders(authly(https))).toEqual(helmetOnRealResponse(authly(https)));
  });

  it("carries Authly's policy: no framing, no content, HSTS only over https", () => {
    const headers = securityHeaders(authly(false));
    expect(headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers['strict-transport-security']).toBeUndefined();
    expect(securityHeaders(authly(true))['strict-transport-security']).toMatch(/^max-age=\d+/);
  });
});
