// @ts-check
import { api } from '../api.js';
import { announce, flash, h, render, table, when } from '../dom.js';
import { confirmButton } from './common.js';

/** @param {unknown} err */
function announceError(err) {
  announce(err instanceof Error ? err.message : String(err), 'error');
}

/** @param {import('../index.js').PageContext} ctx */
export async function keysPage(ctx) {
  const keys = await api('GET', '/keys');
  /** @param {() => Promise<string>} action */
  const act = (action) => async () => {
    try {
      flash(await action());
      await keysPage(ctx);
    } catch (err) {
      announceError(err);
    }
  };
  /** @param {any} result */
  const describe = (result) => result.changes.map((/** @type {any} */ c) => `${c.kid}: ${c.kind}`).join(', ') || 'nothing to change';
  render(
    'Signing keys',
    h('p', {}, 'A rotation publishes the next key before it signs; a retired key stays published until the last token it signed has expired.'),
    table('Signing keys', ['Key id', 'Algorithm', 'Status', 'Published', 'Created', 'Signs from', 'Action'], keys.items.map((/** @type {any} */ k) => [
      h('code', {}, k.kid), k.alg, k.status, k.published ? 'yes' : 'no', when(k.created_at), when(k.signs_from),
      // Only a key that no longer signs can be retired (once its last token has expired).
      k.status !== 'retiring'
        ? null
        : confirmButton('Retire', `Retire key ${k.kid}?`, act(async () => `Retired: ${describe(await api('POST', `/keys/${encodeURIComponent(k.kid)}/retire`))}.`)),
    ])),
    h('p', { class: 'actions' }, confirmButton('Rotate keys', 'Start a rotation of the signing keys?', act(async () => `Rotated: ${describe(await api('POST', '/keys/rotate', {}))}.`))),
  );
}
