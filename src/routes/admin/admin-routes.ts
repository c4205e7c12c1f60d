import type { FastifyInstance } from 'fastify';

// TODO(admin helper): the admin API.
export async function adminRoutes(_app: FastifyInstance): Promise<void> {}
