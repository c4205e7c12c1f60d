import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { consoleShell } from '../../views/console-page.js';
import { brandFrom } from '../../views/page-context.js';

/** The console's files: the top-level console/ folder (src/routes/console and dist/routes/console sit three levels below). */
export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../console');

/**
 * The shell's CSP: the console's own modules and stylesheets only, fetches only to Authly (the admin API,
 * discovery, the token endpoint), no form posts, no framing, no <base>. No inline script or style at all.
 */
export function consoleContentSecurityPolicy(logoOrigin?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${logoOrigin ? ` ${logoOrigin}` : ''}`,
    "connect-src 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * The web console (issue 14 §3). GET /console and every deep link under it (a reload of
 * /console/clients/abc, the sign-in callback) answer the same server-rendered shell; the browser app in
 * console/ renders the page from the address and calls only the admin API with the operator's own token
 * (authorization code + PKCE by the built-in client authly-console). Its files are served under
 * /console/assets/ with an ETag and revalidated on every use (no-cache), so a new version shows at once.
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const brand = brandFrom(app.ctx.config);
  const shell = consoleShell(brand, ROUTES.consoleAssets).value;
  const csp = consoleContentSecurityPolicy(brand.logoOrigin);

  const sendShell = async (request: FastifyRequest, reply: FastifyReply) => {
    // The static files answer every existing asset; what is left under /console/assets/ is not found.
    if (request.url.startsWith(ROUTES.consoleAssets)) return reply.callNotFound();
    return reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('content-security-policy', csp)
      .send(shell);
  };
  app.get(ROUTES.console, sendShell);
  app.get(ROUTES.consoleDeepLink, sendShell);

  await app.register(fastifyStatic, {
    root: CONSOLE_DIR,
    prefix: ROUTES.consoleAssets,
    decorateReply: false,
    index: false,
    dotfiles: 'deny',
    etag: true,
    lastModified: false,
    cacheControl: false,
    // Only the browser's modules and stylesheet; anything else (a .ts, a map) is not found.
    allowedPath: (pathName) => /\.(js|css)$/.test(pathName),
    setHeaders: (res) => {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });
}
