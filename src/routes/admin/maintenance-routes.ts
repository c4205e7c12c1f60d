import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CLEANUP_TABLES, runCleanup } from '../../services/cleanup-service.js';
import { audit } from './admin-auth.js';
import { adminRoute } from './admin-schema.js';

/** On-demand maintenance (`authly admin cleanup`): full admin only. */
export async function maintenanceRoutes(app: FastifyInstance): Promise<void> {
  app.post('/maintenance/cleanup', adminRoute({
    scope: 'authly:admin', tags: ['maintenance'], summary: 'Run the cleanup job now', description: '`skipped`: another run held the lock; nothing was done.',
    responses: {
      200: z.strictObject({
        skipped: z.boolean(),
        deleted: z.strictObject(Object.fromEntries(CLEANUP_TABLES.map((table) => [table, z.number().int().min(0)]))),
      }),
    },
  }), async (request) => {
    const result = await runCleanup(app.ctx, { log: request.log });
    audit(request, 'maintenance.cleanup', {});
    return result;
  });
}
