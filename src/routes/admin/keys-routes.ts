import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listKeys, retireKey, revokeKey, rotateKeys, type KeyChangeResult, type KeyView } from '../../services/key-rotation.js';
import { audited } from './admin-auth.js';
import { adminRoute, timestamp } from './admin-schema.js';
import { parseInput, toWire } from './admin-wire.js';

const presentKey = (key: KeyView) =>
  toWire(key, ['kid', 'alg', 'status', 'published', 'createdAt', 'activatedAt', 'deactivatedAt', 'retiredAt', 'signsFrom', 'unpublishAfter']);

/** What changed; `authly admin keys list` (GET /keys) shows the resulting states. */
const presentResult = (result: KeyChangeResult) => ({
  changes: result.changes,
  revoked_access_tokens: result.revokedAccessTokens,
});

const keyView = z.strictObject({
  kid: z.string(),
  alg: z.string(),
  status: z.enum(['next', 'active', 'retiring', 'retired', 'revoked']),
  published: z.boolean(),
  created_at: timestamp,
  activated_at: timestamp.nullable(),
  deactivated_at: timestamp.nullable(),
  retired_at: timestamp.nullable(),
  signs_from: timestamp.nullable(),
  unpublish_after: timestamp.nullable(),
});
const resultView = z.strictObject({
  changes: z.array(z.strictObject({ kind: z.string(), kid: z.string(), alg: z.string() })),
  revoked_access_tokens: z.number().int().min(0),
});
const kidParams = z.object({ kid: z.string() });

const rotateBody = z.strictObject({ emergency: z.boolean().default(false) }).default({ emergency: false });

/**
 * Signing keys (`authly admin keys …`): full admin only (authly:admin), since a key change affects every
 * token and every relying party. No private member is ever shown: the list is the public state only.
 */
export async function keysRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const scope = 'authly:admin' as const;
  const tags = ['signing keys'];

  app.get('/keys', adminRoute({
    scope, tags, summary: 'List signing keys', description: 'Public state only; one page.',
    responses: { 200: z.strictObject({ items: z.array(keyView), limit: z.number().int().min(0), next_cursor: z.null() }) },
  }), async () => {
    const keys = (await listKeys(ctx)).map(presentKey);
    // A handful of keys: one page, in the page shape of every admin list.
    return { items: keys, limit: keys.length, next_cursor: null };
  });

  app.post('/keys/rotate', adminRoute({
    scope, tags, summary: 'Rotate the signing keys', description: '`emergency: true` replaces the active key now instead of after the lead time.',
    body: rotateBody, errors: ['conflict'], responses: { 200: resultView },
  }), async (request) => {
    const { emergency } = parseInput(rotateBody, request.body, 'body');
    const result = await audited(
      request,
      'keys.rotated',
      (tx) => rotateKeys(tx, { emergency }),
      (rotated) => rotated.changes.map((change) => ({ kid: change.kid, reason: `${change.kind}${emergency ? ' (emergency)' : ''}` })),
      { kind: 'key', idOf: (_rotated, fields) => fields.kid! },
    );
    return presentResult(result);
  });

  app.post<{ Params: { kid: string } }>('/keys/:kid/retire', adminRoute({
    scope, tags, summary: 'Retire a signing key', params: kidParams, errors: ['not_found', 'conflict'], responses: { 200: resultView },
  }), async (request) => {
    const { kid } = request.params;
    const result = await audited(request, 'keys.retired', (tx) => retireKey(tx, kid), { kid }, { kind: 'key', id: kid });
    return presentResult(result);
  });

  app.post<{ Params: { kid: string } }>('/keys/:kid/revoke', adminRoute({
    scope, tags, summary: 'Revoke a signing key', description: 'Live JWT access tokens it signed are revoked with it.',
    params: kidParams, errors: ['not_found', 'conflict'], responses: { 200: resultView },
  }), async (request) => {
    const { kid } = request.params;
    const result = await audited(request, 'keys.revoked', (tx) => revokeKey(tx, kid), { kid }, { kind: 'key', id: kid });
    return presentResult(result);
  });
}
