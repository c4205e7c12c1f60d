import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../config/routes.js';
import { brandAssets } from '../../views/brand-assets.js';

/**
 * The pages' stylesheet and the operator's logo file. Each name carries its content hash, so a response
 * never changes and is cached for a year (RFC 8246 immutable); a new stylesheet or logo is a new name.
 * Pages link the stylesheet with its integrity hash (W3C Subresource Integrity).
 */
export async function assetsRoutes(app: FastifyInstance): Promise<void> {
  const assets = brandAssets(app.ctx.config);
  app.get<{ Params: { file: string } }>(ROUTES.asset, async (request, reply) => {
    const asset = assets.files.get(request.params.file);
    if (!asset) return reply.callNotFound();
    return reply
      .code(200)
      .header('content-type', asset.contentType)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      // An SVG logo opened on its own renders as a document: it may run nothing and load nothing.
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
      .send(asset.body);
  });
}
