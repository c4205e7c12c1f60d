// @ts-check
import { api, query } from '../api.js';
import { announce, field, flash, h, render, table, value, when } from '../dom.js';
import { confirmButton, nextPageLink, searchForm, secretOnce } from './common.js';

/** A secret to show once on the next client page (after create or rotate). */
let shownOnce = /** @type {{ clientId: string, secret: string } | undefined} */ (undefined);

/** @param {string} clientId */
const clientHref = (clientId) => `/console/clients/${encodeURIComponent(clientId)}`;

/** @param {import('../index.js').PageContext} ctx */
export async function clientsPage(ctx) {
  const q = ctx.search.get('q') ?? '';
  const page = await api('GET', `/clients${query({ q, limit: 20, cursor: ctx.search.get('cursor') })}`);
  const create = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', 'aria-label': 'Create a client' },
    field('client_name', 'Client name', { required: true }),
    field('redirect_uri', 'Redirect URI', { type: 'url' }),
    h('div', { class: 'field' }, h('label', { for: 'client_type' }, 'Type'),
      h('select', { id: 'client_type', name: 'client_type' }, h('option', { value: 'confidential' }, 'Confidential (has a secret)'), h('option', { value: 'public' }, 'Public (PKCE, no secret)'))),
    h('button', { type: 'submit' }, 'Create client')));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const redirect = value(create, 'redirect_uri');
      const body = {
        client_name: value(create, 'client_name'),
        grant_types: ['authorization_code', 'refresh_token'],
        ...(redirect ? { redirect_uris: [redirect] } : {}),
        ...(value(create, 'client_type') === 'public' ? { token_endpoint_auth_method: 'none' } : {}),
      };
      try {
        const created = await api('POST', '/clients', body);
        if (created.client_secret) shownOnce = { clientId: created.client_id, secret: created.client_secret };
        flash(`The client ${created.client_id} was created.`);
        ctx.navigate(clientHref(created.client_id));
      } catch (err) {
        announceError(err);
      }
    })();
  });
  render(
    'Clients',
    searchForm('Search clients (id or name)', q, (next) => ctx.navigate(`/console/clients${query({ q: next })}`)),
    table('Clients', ['Client', 'Name', 'Type', 'Active', 'Registered'], page.items.map((/** @type {any} */ c) => [
      h('a', { href: clientHref(c.client_id) }, c.client_id), c.client_name ?? '—', c.client_type, c.is_active ? 'yes' : 'no', c.registration_type,
    ])),
    page.items.length === 0 ? h('p', {}, 'No client matches.') : null,
    nextPageLink(page, ctx.search),
    h('h2', {}, 'Create a client'),
    create,
  );
}

/** @param {unknown} err */
function announceError(err) {
  announce(err instanceof Error ? err.message : String(err), 'error');
}

/** @param {import('../index.js').PageContext} ctx */
export async function clientPage(ctx) {
  const clientId = ctx.params.id ?? '';
  const path = `/clients/${encodeURIComponent(clientId)}`;
  const [client, grants] = await Promise.all([api('GET', path), api('GET', `${path}/grants?limit=50`)]);
  const secret = shownOnce?.clientId === clientId ? shownOnce.secret : undefined;
  shownOnce = undefined;

  /** @param {() => Promise<string>} action */
  const act = (action) => async () => {
    try {
      flash(await action());
      await clientPage(ctx);
    } catch (err) {
      announceError(err);
    }
  };

  const add = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', 'aria-label': 'Add a redirect URI' },
    field('new_redirect_uri', 'Redirect URI to add', { type: 'url', required: true }), h('button', { type: 'submit' }, 'Add redirect URI')));
  add.addEventListener('submit', (event) => {
    event.preventDefault();
    const uri = value(add, 'new_redirect_uri');
    void act(async () => {
      await api('POST', `${path}/redirect-uris`, { redirect_uri: uri });
      return `The redirect URI ${uri} was added.`;
    })();
  });

  const rotate = async () => {
    try {
      const rotated = await api('POST', `${path}/rotate-secret`);
      shownOnce = { clientId, secret: rotated.client_secret };
      flash('The client secret was rotated; the old one no longer works.');
      await clientPage(ctx);
    } catch (err) {
      announceError(err);
    }
  };

  render(
    client.client_name ? `Client ${client.client_name}` : `Client ${clientId}`,
    secret ? secretOnce('client secret', secret) : null,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Client id'), h('dd', {}, h('code', {}, client.client_id)),
      h('dt', {}, 'Type'), h('dd', {}, `${client.client_type} (${client.token_endpoint_auth_method})`),
      h('dt', {}, 'Grant types'), h('dd', {}, client.grant_types.join(', ') || '—'),
      h('dt', {}, 'Scope'), h('dd', {}, client.scope || '—'),
      h('dt', {}, 'Active'), h('dd', {}, client.is_active ? 'yes' : 'no'),
      h('dt', {}, 'Registered'), h('dd', {}, `${client.registration_type}, ${when(client.created_at)}`),
      h('dt', {}, 'Last used'), h('dd', {}, when(client.last_used_at)),
    ),
    h('p', {}, h('a', { href: `/console/audit${query({ subject: clientId })}` }, 'Audit events about this client')),
    h('h2', {}, 'Redirect URIs'),
    client.redirect_uris.length === 0
      ? h('p', {}, 'No redirect URI.')
      : h('ul', { class: 'plain' }, client.redirect_uris.map((/** @type {string} */ uri) => h('li', {}, h('code', {}, uri),
        h('button', {
          type: 'button', class: 'secondary', 'aria-label': `Remove ${uri}`,
          onclick: act(async () => {
            await api('DELETE', `${path}/redirect-uris${query({ redirect_uri: uri })}`);
            return `The redirect URI ${uri} was removed.`;
          }),
        }, 'Remove')))),
    add,
    h('h2', {}, 'Actions'),
    h('p', { class: 'actions' },
      client.client_type === 'confidential' ? confirmButton('Rotate secret', 'The current secret stops working at once.', rotate) : null, ' ',
      h('button', {
        type: 'button', class: 'secondary',
        onclick: act(async () => {
          await api('PATCH', path, { is_active: !client.is_active });
          return client.is_active ? 'The client was disabled.' : 'The client was enabled.';
        }),
      }, client.is_active ? 'Disable client' : 'Enable client'), ' ',
      confirmButton('Delete client', `Delete ${clientId} and revoke all its tokens?`, async () => {
        try {
          await api('DELETE', path);
          flash(`The client ${clientId} was deleted.`);
          ctx.navigate('/console/clients');
        } catch (err) {
          announceError(err);
        }
      })),
    h('h2', {}, 'Grants'),
    grants.items.length === 0
      ? h('p', {}, 'No user has a grant for this client.')
      : table('Grants of this client', ['User', 'Scope', 'Since', 'Action'], grants.items.map((/** @type {any} */ g) => [
        h('a', { href: `/console/users/${encodeURIComponent(g.user_id)}` }, g.username ?? g.user_id), g.scope, when(g.created_at),
        h('button', {
          type: 'button', class: 'secondary', 'aria-label': `Revoke the grant of ${g.username ?? g.user_id}`,
          onclick: act(async () => {
            await api('DELETE', `${path}/grants/${encodeURIComponent(g.id)}`);
            return 'The grant was revoked.';
          }),
        }, 'Revoke'),
      ])),
  );
}
