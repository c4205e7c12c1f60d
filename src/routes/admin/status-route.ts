import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminStatus } from '../../services/admin/admin-status-service.js';
import { adminRoute } from './admin-schema.js';

const statusView = z.strictObject({
  version: z.string(),
  database: z.enum(['postgres', 'pglite']),
  counts: z.strictObject({ clients: z.number().int().min(0), users: z.number().int().min(0) }),
});

export async function statusRoutes(app: FastifyInstance): Promise<void> {
  app.get('/status', adminRoute({ scope: 'any', tags: ['meta'], summary: 'Version, database and counts', responses: { 200: statusView } }), async () => adminStatus(app.ctx));
}
