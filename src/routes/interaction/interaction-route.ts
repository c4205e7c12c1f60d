import type { FastifyInstance } from 'fastify';
export async function interactionRoutes(_app: FastifyInstance): Promise<void> {}
