import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listKeys, retireKey, revokeKey, rotateKeys, type KeyChangeResult, type KeyView } from '../../services/key-rotation.js';
import { audited } from './admin-auth.js';
import { parseInput, toWire } from './admin-wire.js';

const presentKey = (key: KeyView) =>
  toWire(key, ['kid', 'alg', 'status', 'published', 'createdAt', 'activatedAt', 'deactivatedAt', 'retiredAt', 'signsFrom', 'unpublishAfter']);

/** What changed; `authly admin keys list` (GET /keys) shows the resulting states. */
const presentResult = (result: KeyChangeResult) => ({
  changes: result.changes,
  revoked_access_tokens: result.revokedAccessTokens,
});

const rotateBody = z.strictObject({ emergency: z.boolean().default(false) }).default({ emergency: false });

/**
 * Signing keys (`authly admin keys …`): full admin only (authly:admin), since a key change affects every
 * token and every relying party. No private member is ever shown: the list is the public state only.
 */
export async function keysRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app;
  const admin = { config: { adminScope: 'authly:admin' as const } };

  app.get('/keys', admin, async () => {
    const keys = (await listKeys(ctx)).map(presentKey);
    // A handful of keys: one page, in the page shape of every admin list.
    return { items: keys, limit: keys.length, next_cursor: null };
  });

  app.post('/keys/rotate', admin, async (request) => {
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

  app.post<{ Params: { kid: string } }>('/keys/:kid/retire', admin, async (request) => {
    const { kid } = request.params;
    const result = await audited(request, 'keys.retired', (tx) => retireKey(tx, kid), { kid }, { kind: 'key', id: kid });
    return presentResult(result);
  });

  app.post<{ Params: { kid: string } }>('/keys/:kid/revoke', admin, async (request) => {
    const { kid } = request.params;
    const result = await audited(request, 'keys.revoked', (tx) => revokeKey(tx, kid), { kid }, { kind: 'key', id: kid });
    return presentResult(result);
  });
}
