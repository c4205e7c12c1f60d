import type { FastifyInstance } from 'fastify';
import { adminStatus } from '../../services/admin/admin-status-service.js';

export async function statusRoutes(app: FastifyInstance): Promise<void> {
  app.get('/status', { config: { adminScope: 'any' } }, async () => adminStatus(app.ctx));
}
