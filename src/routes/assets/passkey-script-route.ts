import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { PASSKEY_SCRIPT } from '../../views/passkey-script.js';

/**
 * GET /assets/webauthn.js: the passkey pages' script. Pages link it with `?v=<content hash>` and an
 * integrity attribute, so it can be cached for a year: a new version has a new URL, and a changed file
 * under an old URL would not run.
 */
export async function passkeyScriptRoutes(app: FastifyInstance): Promise<void> {
  app.get(ROUTES.passkeyScript, async (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(PASSKEY_SCRIPT),
  );
}
