// @ts-check
import { api, query } from '../api.js';
import { h, render, table, when } from '../dom.js';
import { nextPageLink } from './common.js';

/** The filters of GET /admin/audit-events, kept in the address so a filtered view can be linked and reloaded. */
const FILTERS = [
  ['event', 'Event'],
  ['actor', 'Actor'],
  ['subject', 'Subject'],
  ['client_id', 'Client id'],
  ['request_id', 'Request id'],
  ['since', 'Since (ISO 8601)'],
  ['until', 'Until (ISO 8601)'],
];

/**
 * A link that filters the audit events by one value.
 * @param {string} name
 * @param {string | null | undefined} id
 */
function filterLink(name, id) {
  if (!id) return '—';
  return h('a', { href: `/console/audit${query({ [name]: id })}`, title: `Only events with ${name} ${id}` }, id);
}

/** @param {import('../index.js').PageContext} ctx */
export async function auditPage(ctx) {
  /** @type {Record<string, string>} */
  const filters = {};
  for (const [name] of FILTERS) {
    const v = ctx.search.get(name ?? '');
    if (name && v) filters[name] = v;
  }
  const page = await api('GET', `/audit-events${query({ ...filters, limit: 50, cursor: ctx.search.get('cursor') })}`);
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', 'aria-label': 'Filter audit events' },
    FILTERS.map(([name, label]) => h('div', { class: 'field' }, h('label', { for: `filter-${name}` }, label ?? ''), h('input', { id: `filter-${name}`, name: name ?? '', type: 'text', value: filters[name ?? ''] ?? '' }))),
    h('button', { type: 'submit' }, 'Filter'),
    Object.keys(filters).length ? h('a', { href: '/console/audit' }, 'Clear filters') : null));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    /** @type {Record<string, string>} */
    const next = {};
    for (const [name] of FILTERS) {
      const input = form.elements.namedItem(name ?? '');
      if (name && input instanceof HTMLInputElement && input.value.trim()) next[name] = input.value.trim();
    }
    ctx.navigate(`/console/audit${query(next)}`);
  });
  render(
    'Audit events',
    form,
    table('Audit events', ['When', 'Event', 'Actor', 'Client', 'Subject', 'Address', 'Request', 'Changes'], page.items.map((/** @type {any} */ e) => [
      when(e.occurred_at),
      filterLink('event', e.event),
      filterLink('actor', e.actor),
      filterLink('client_id', e.client_id),
      filterLink('subject', e.subject),
      e.ip ?? '—',
      filterLink('request_id', e.request_id),
      e.changes ? h('code', {}, JSON.stringify(e.changes)) : e.details ? h('code', {}, JSON.stringify(e.details)) : '—',
    ])),
    page.items.length === 0 ? h('p', {}, 'No audit event matches.') : null,
    nextPageLink(page, ctx.search),
  );
}
