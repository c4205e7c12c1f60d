// @ts-check
import { api, query } from '../api.js';
import { announce, field, flash, h, render, table, value, when } from '../dom.js';
import { confirmButton, nextPageLink, secretOnce } from './common.js';

/** @param {unknown} err */
function announceError(err) {
  announce(err instanceof Error ? err.message : String(err), 'error');
}

/** Initial access tokens (RFC 7591 §3) and the clients that registered themselves. */
/** @param {import('../index.js').PageContext} ctx */
export async function registrationPage(ctx, /** @type {string | undefined} */ newToken = undefined) {
  const [tokens, dynamic] = await Promise.all([
    api('GET', `/registration-tokens${query({ limit: 50, cursor: ctx.search.get('cursor') })}`),
    api('GET', '/clients?registration_type=dynamic&limit=50'),
  ]);
  /** @param {() => Promise<string>} action */
  const act = (action) => async () => {
    try {
      flash(await action());
      await registrationPage(ctx);
    } catch (err) {
      announceError(err);
    }
  };
  const create = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', 'aria-label': 'Create a registration token' },
    field('token_description', 'Description'),
    field('token_expires_in', 'Expires in (e.g. 12h, 30d)'),
    field('token_max_uses', 'Maximum uses', { inputmode: 'numeric' }),
    h('button', { type: 'submit' }, 'Create registration token')));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const description = value(create, 'token_description');
      const expires = value(create, 'token_expires_in');
      const uses = value(create, 'token_max_uses');
      try {
        const created = await api('POST', '/registration-tokens', {
          ...(description ? { description } : {}), ...(expires ? { expires_in: expires } : {}), ...(uses ? { max_uses: uses } : {}),
        });
        flash('The registration token was created.');
        await registrationPage(ctx, created.token);
      } catch (err) {
        announceError(err);
      }
    })();
  });
  render(
    'Registration',
    newToken ? secretOnce('registration token', newToken) : null,
    h('h2', {}, 'Registration tokens'),
    tokens.items.length === 0
      ? h('p', {}, 'No registration token.')
      : table('Registration tokens', ['Description', 'Uses', 'Expires', 'Revoked', 'Action'], tokens.items.map((/** @type {any} */ t) => [
        t.description || '—', `${t.uses}${t.max_uses ? ` of ${t.max_uses}` : ''}`, when(t.expires_at), when(t.revoked_at),
        t.revoked_at ? null : confirmButton('Revoke', 'Revoke this registration token?', act(async () => {
          await api('POST', `/registration-tokens/${encodeURIComponent(t.id)}/revoke`);
          return 'The registration token was revoked.';
        })),
      ])),
    nextPageLink(tokens, ctx.search),
    create,
    h('h2', {}, 'Dynamically registered clients'),
    dynamic.items.length === 0
      ? h('p', {}, 'No client registered itself.')
      : table('Dynamically registered clients', ['Client', 'Name', 'Created'], dynamic.items.map((/** @type {any} */ c) => [
        h('a', { href: `/console/clients/${encodeURIComponent(c.client_id)}` }, c.client_id), c.client_name ?? '—', when(c.created_at),
      ])),
  );
}
