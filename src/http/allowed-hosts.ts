import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../config/routes.js';

/**
 * ALLOWED_HOSTS: a request whose Host (or, behind a trusted proxy, X-Forwarded-Host) is not listed gets
 * 400 before any handler runs. Authly never builds URLs from the Host header (the issuer comes from
 * configuration), so this is defence in depth against host-header games and stray virtual hosts, as
 * Django's ALLOWED_HOSTS is. The port is ignored; "*.example.com" matches any subdomain of example.com
 * (not example.com itself). The health probes and /metrics are exempt: Kubernetes probes send
 * Host: <pod IP>:<port>, and Prometheus scrapes the pod or container address (authly:8000), never the
 * public name (/metrics is kept private by nginx, the Ingress and the NetworkPolicy instead).
 */
const EXEMPT_ROUTES: ReadonlySet<string> = new Set([ROUTES.health, ROUTES.healthReady, ROUTES.metrics]);

export function hostAllowed(hostname: string, allowedHosts: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === '') return false;
  return allowedHosts.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern));
}

export function registerAllowedHosts(app: FastifyInstance, allowedHosts: readonly string[]): void {
  if (allowedHosts.length === 0) return;
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route !== undefined && EXEMPT_ROUTES.has(route)) return;
    // request.hostname is the Host header without its port (X-Forwarded-Host only when the proxy is trusted).
    if (hostAllowed(request.hostname ?? '', allowedHosts)) return;
    return reply
      .code(400)
      .header('cache-control', 'no-store')
      .send({ error: 'invalid_request', error_description: 'the Host header names a host this server does not serve' });
  });
}
