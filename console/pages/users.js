// @ts-check
import { api, query } from '../api.js';
import { announce, field, flash, h, render, table, value, when } from '../dom.js';
import { confirmButton, nextPageLink, searchForm } from './common.js';

/** @param {string} id */
const userHref = (id) => `/console/users/${encodeURIComponent(id)}`;

/** @param {unknown} err */
function announceError(err) {
  announce(err instanceof Error ? err.message : String(err), 'error');
}

/** @param {import('../index.js').PageContext} ctx */
export async function usersPage(ctx) {
  const q = ctx.search.get('q') ?? '';
  const page = await api('GET', `/users${query({ q, limit: 20, cursor: ctx.search.get('cursor') })}`);
  const create = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', 'aria-label': 'Create a user' },
    field('username', 'Username', { required: true, autocomplete: 'off' }),
    field('email', 'Email', { type: 'email', autocomplete: 'off' }),
    field('password', 'Password (empty: invite by mail)', { type: 'password', autocomplete: 'new-password' }),
    h('button', { type: 'submit' }, 'Create user')));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const password = value(create, 'password');
      const email = value(create, 'email');
      try {
        const created = await api('POST', '/users', {
          username: value(create, 'username'),
          ...(email ? { email } : {}),
          ...(password ? { password } : { invite: true }),
        });
        flash(password ? `The user ${created.username} was created.` : `The user ${created.username} was created and invited by mail.`);
        ctx.navigate(userHref(created.id));
      } catch (err) {
        announceError(err);
      }
    })();
  });
  render(
    'Users',
    searchForm('Search users (username, email or name)', q, (next) => ctx.navigate(`/console/users${query({ q: next })}`)),
    table('Users', ['Username', 'Email', 'Name', 'Active', 'Administrator'], page.items.map((/** @type {any} */ u) => [
      h('a', { href: userHref(u.id) }, u.username), u.email ?? '—', u.name ?? '—', u.is_active ? 'yes' : 'no', u.is_admin ? 'yes' : 'no',
    ])),
    page.items.length === 0 ? h('p', {}, 'No user matches.') : null,
    nextPageLink(page, ctx.search),
    h('h2', {}, 'Create or invite a user'),
    create,
  );
}

/** @param {import('../index.js').PageContext} ctx */
export async function userPage(ctx) {
  const path = `/users/${encodeURIComponent(ctx.params.id ?? '')}`;
  const [user, sessions] = await Promise.all([api('GET', path), api('GET', `${path}/sessions?limit=50`)]);
  /** @param {() => Promise<string>} action */
  const act = (action) => async () => {
    try {
      flash(await action());
      await userPage(ctx);
    } catch (err) {
      announceError(err);
    }
  };
  render(
    `User ${user.username}`,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Id'), h('dd', {}, h('code', {}, user.id)),
      h('dt', {}, 'Email'), h('dd', {}, user.email ? `${user.email}${user.email_verified ? ' (verified)' : ' (not verified)'}` : '—'),
      h('dt', {}, 'Name'), h('dd', {}, user.name ?? '—'),
      h('dt', {}, 'Active'), h('dd', {}, user.is_active ? 'yes' : 'no'),
      h('dt', {}, 'Administrator'), h('dd', {}, user.is_admin ? 'yes' : 'no'),
      h('dt', {}, 'Created'), h('dd', {}, when(user.created_at)),
    ),
    h('p', {}, h('a', { href: `/console/audit${query({ subject: user.id })}` }, 'Audit events about this user')),
    h('h2', {}, 'Actions'),
    h('p', { class: 'actions' },
      h('button', {
        type: 'button', class: 'secondary',
        onclick: act(async () => {
          await api('PATCH', path, { is_active: !user.is_active });
          return user.is_active ? 'The user was disabled.' : 'The user was enabled.';
        }),
      }, user.is_active ? 'Disable user' : 'Enable user'), ' ',
      h('button', {
        type: 'button', class: 'secondary',
        onclick: act(async () => {
          await api('POST', `${path}/unlock`);
          return 'The sign-in lockout of the user was lifted.';
        }),
      }, 'Unlock'), ' ',
      confirmButton('Reset factors', 'Remove the user\'s authenticator app, passkeys and recovery codes?', act(async () => {
        await api('POST', `${path}/reset-factors`);
        return 'The second factors of the user were removed.';
      }))),
    h('h2', {}, 'Sessions'),
    sessions.items.length === 0
      ? h('p', {}, 'The user has no session.')
      : table('Sessions', ['Signed in', 'Expires', 'Action'], sessions.items.map((/** @type {any} */ s) => [
        when(s.auth_time), when(s.expires_at),
        h('button', {
          type: 'button', class: 'secondary', 'aria-label': `Sign out the session of ${when(s.auth_time)}`,
          onclick: act(async () => {
            await api('DELETE', `${path}/sessions/${encodeURIComponent(s.sid)}`);
            return 'The session was signed out.';
          }),
        }, 'Sign out'),
      ])),
  );
}
