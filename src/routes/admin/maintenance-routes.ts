import type { FastifyInstance } from 'fastify';
import { runCleanup } from '../../services/cleanup-service.js';
import { audit } from './admin-auth.js';

/** On-demand maintenance (`authly admin cleanup`): full admin only. */
export async function maintenanceRoutes(app: FastifyInstance): Promise<void> {
  app.post('/maintenance/cleanup', { config: { adminScope: 'authly:admin' } }, async (request) => {
    const result = await runCleanup(app.ctx, { log: request.log });
    audit(request, 'maintenance.cleanup', {});
    return result;
  });
}
