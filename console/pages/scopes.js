// @ts-check
import { api, query } from '../api.js';
import { announce, field, flash, h, render, table, value, when } from '../dom.js';
import { confirmButton, nextPageLink } from './common.js';

/** @param {unknown} err */
function announceError(err) {
  announce(err instanceof Error ? err.message : String(err), 'error');
}

/** @param {import('../index.js').PageContext} ctx */
export async function scopesPage(ctx) {
  const [scopes, resources] = await Promise.all([
    api('GET', `/scopes${query({ limit: 100, cursor: ctx.search.get('cursor') })}`),
    api('GET', '/resources?limit=100'),
  ]);
  /** @param {() => Promise<string>} action */
  const act = (action) => async () => {
    try {
      flash(await action());
      await scopesPage(ctx);
    } catch (err) {
      announceError(err);
    }
  };
  const create = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', 'aria-label': 'Create a scope' },
    field('scope_name', 'Scope name', { required: true }), field('scope_description', 'Description'), h('button', { type: 'submit' }, 'Create scope')));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = value(create, 'scope_name');
    void act(async () => {
      await api('POST', '/scopes', { name, description: value(create, 'scope_description') });
      return `The scope ${name} was created.`;
    })();
  });
  render(
    'Scopes and resources',
    h('h2', {}, 'Scopes'),
    table('Scopes', ['Name', 'Description', 'Default', 'Created', 'Action'], scopes.items.map((/** @type {any} */ s) => [
      h('code', {}, s.name), s.description || '—', s.is_default ? 'yes' : 'no', when(s.created_at),
      confirmButton('Delete', `Delete the scope ${s.name}?`, act(async () => {
        await api('DELETE', `/scopes/${encodeURIComponent(s.name)}`);
        return `The scope ${s.name} was deleted.`;
      })),
    ])),
    nextPageLink(scopes, ctx.search),
    create,
    h('h2', {}, 'Resources (RFC 8707)'),
    resources.items.length === 0
      ? h('p', {}, 'No resource is registered.')
      : table('Resources', ['Identifier', 'Name', 'Scopes', 'Clients'], resources.items.map((/** @type {any} */ r) => [
        h('code', {}, r.identifier), r.name ?? '—', (r.scopes ?? []).join(' ') || '—', (r.client_ids ?? []).join(', ') || '—',
      ])),
  );
}
