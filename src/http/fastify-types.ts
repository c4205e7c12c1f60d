import type { ServiceContext } from '../services/context.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The services' context, decorated once on the root instance by buildApp. */
    ctx: ServiceContext;
  }
}
