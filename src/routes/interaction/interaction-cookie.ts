import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { pathFor } from '../../config/routes.js';
import { constantTimeEqual } from '../../lib/crypto.js';
import { INTERACTION_TTL_SECONDS } from '../../services/interaction-service.js';

/**
 * Binds an interaction to the browser that started it: a cookie scoped to the interaction's path. A form
 * posted from another browser (login CSRF with an attacker's own interaction) lacks it.
 */
const INTERACTION_COOKIE = 'authly_interaction';

const secure = (config: Pick<Config, 'issuer'>) => config.issuer.startsWith('https:');

export function setInteractionCookie(reply: FastifyReply, config: Pick<Config, 'issuer'>, uid: string): void {
  reply.setCookie(INTERACTION_COOKIE, uid, {
    path: pathFor('interaction', { uid }),
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(config),
    maxAge: INTERACTION_TTL_SECONDS,
  });
}

export function clearInteractionCookie(reply: FastifyReply, config: Pick<Config, 'issuer'>, uid: string): void {
  reply.clearCookie(INTERACTION_COOKIE, { path: pathFor('interaction', { uid }), httpOnly: true, sameSite: 'lax', secure: secure(config) });
}

export function hasInteractionCookie(request: FastifyRequest, uid: string): boolean {
  const value = request.cookies[INTERACTION_COOKIE];
  return value !== undefined && constantTimeEqual(value, uid);
}
