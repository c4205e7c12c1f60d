// @ts-check
import { api } from '../api.js';
import { metadata } from '../auth.js';
import { h, render, table, when } from '../dom.js';

/** @param {import('../index.js').PageContext} _ctx */
export async function overviewPage(_ctx) {
  const [meta, status, keys, ready, recent, metrics] = await Promise.all([
    metadata(),
    api('GET', '/status'),
    api('GET', '/keys'),
    fetch('/health/ready').then(async (res) => ({ ok: res.ok, body: await res.json().catch(() => ({})) })),
    // The audit trail as data (issue 14 §2); a server without it shows none.
    api('GET', '/audit-events?limit=5').catch(() => null),
    fetch('/metrics', { method: 'HEAD' }).then((res) => res.ok).catch(() => false),
  ]);
  render(
    'Overview',
    h('dl', { class: 'facts' },
      h('dt', {}, 'Health'), h('dd', {}, ready.ok ? 'Ready' : `Not ready (${String(ready.body.status ?? 'unavailable')})`),
      h('dt', {}, 'Version'), h('dd', {}, status.version),
      h('dt', {}, 'Issuer'), h('dd', {}, meta.issuer),
      h('dt', {}, 'Database'), h('dd', {}, status.database),
      h('dt', {}, 'Clients'), h('dd', {}, h('a', { href: '/console/clients' }, String(status.counts.clients))),
      h('dt', {}, 'Users'), h('dd', {}, h('a', { href: '/console/users' }, String(status.counts.users))),
      h('dt', {}, 'Metrics'), h('dd', {}, metrics ? h('a', { href: '/metrics' }, '/metrics (Prometheus)') : 'not exposed here'),
    ),
    h('h2', {}, 'Signing keys'),
    table('Signing keys', ['Key id', 'Algorithm', 'Status', 'Created'], keys.items.map((/** @type {any} */ k) => [k.kid, k.alg, k.status, when(k.created_at)])),
    h('p', {}, h('a', { href: '/console/keys' }, 'Manage signing keys')),
    h('h2', {}, 'Recent audit events'),
    recent
      ? table('Recent audit events', ['When', 'Event', 'Actor', 'Subject'], recent.items.map((/** @type {any} */ e) => [when(e.occurred_at), e.event, e.actor ?? '—', e.subject ?? '—']))
      : h('p', {}, 'This server does not offer the audit events API.'),
    h('p', {}, h('a', { href: '/console/audit' }, 'All audit events')),
  );
}
