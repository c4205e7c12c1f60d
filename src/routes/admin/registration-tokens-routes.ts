import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { InitialAccessToken } from '../../repositories/initial-access-tokens-repository.js';
import {
  createInitialAccessToken,
  listInitialAccessTokens,
  revokeInitialAccessToken,
} from '../../services/registration/initial-access-token-service.js';
import { audited } from './admin-auth.js';
import { page, pageQuery, parseInput, toWire } from './admin-wire.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const MAX_EXPIRY_SECONDS = 3650 * 86400;

/** JSON numbers and the CLI's strings alike: a whole number is read as its digits. */
const digits = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? String(value) : value);

/** Seconds, or a duration the CLI passes through: 3600, "3600", "90m", "12h", "30d". */
const duration = z.preprocess(
  digits,
  z
    .string({ message: 'expected seconds or a duration such as 90m, 12h or 30d' })
    .regex(/^\d{1,10}[smhd]?$/, { message: 'expected seconds or a duration such as 90m, 12h or 30d' })
    .transform((value) => {
      const unit = /[smhd]$/.test(value) ? (value.slice(-1) as keyof typeof UNIT_SECONDS) : 's';
      return Number(/\d$/.test(value) ? value : value.slice(0, -1)) * UNIT_SECONDS[unit];
    })
    .pipe(z.number().min(1, { message: 'expected at least 1 second' }).max(MAX_EXPIRY_SECONDS, { message: 'expected at most 3650 days' })),
);

const count = z.preprocess(
  digits,
  z
    .string({ message: 'expected a whole number' })
    .regex(/^\d{1,10}$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().min(1, { message: 'expected at least 1' }).max(1_000_000, { message: 'expected at most 1000000' })),
);

const createBody = z
  .strictObject({
    description: z.string().trim().max(255).optional(),
    expires_in: duration.optional(),
    max_uses: count.optional(),
  })
  .optional();
const listQuery = z.strictObject(pageQuery);

const FIELDS = ['id', 'description', 'maxUses', 'uses', 'expiresAt', 'revokedAt', 'createdAt'] as const satisfies readonly (keyof InitialAccessToken)[];
const present = (record: InitialAccessToken) => toWire(record, FIELDS);

type WithId = { Params: { id: string } };

/**
 * Initial access tokens for REGISTRATION_POLICY=initial-access-token (RFC 7591 section 3). Such a token
 * registers ordinary clients only (never admin scopes), so admin:clients:write suffices to mint one.
 */
export async function registrationTokensRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const read = { config: { adminScope: 'admin:clients:read' as const } };
  const write = { config: { adminScope: 'admin:clients:write' as const } };

  app.get('/registration-tokens', read, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return page(await listInitialAccessTokens(ctx, query), query, present);
  });

  app.post('/registration-tokens', write, async (request, reply) => {
    const body = parseInput(createBody, request.body, 'body') ?? {};
    const created = await audited(request, 'registration_token.created', (tx) =>
        createInitialAccessToken(tx, {
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.max_uses !== undefined ? { maxUses: body.max_uses } : {}),
          ...(body.expires_in !== undefined ? { expiresInSeconds: body.expires_in } : {}),
        }), (result) => ({ subject: result.record.id }), { kind: 'registration_token', idOf: (result) => result.record.id });
    // The token is shown here once, like a client secret.
    return reply.code(201).send({ ...present(created.record), token: created.token });
  });

  app.post<WithId>('/registration-tokens/:id/revoke', write, async (request) => {
    const record = await audited(request, 'registration_token.revoked', (tx) => revokeInitialAccessToken(tx, request.params.id), (revoked) => ({ subject: revoked.id }), {
      kind: 'registration_token',
      id: request.params.id,
    });
    return present(record);
  });
}
