// @ts-check
import { h } from '../dom.js';

/**
 * A "Next page" link for a keyset page ({ items, limit, next_cursor }), keeping the other parameters.
 * @param {{ next_cursor: string | null }} page
 * @param {URLSearchParams} search
 */
export function nextPageLink(page, search) {
  if (!page.next_cursor) return null;
  const next = new URLSearchParams(search);
  next.set('cursor', page.next_cursor);
  return h('p', {}, h('a', { href: `${location.pathname}?${next.toString()}` }, 'Next page'));
}

/**
 * A button that asks again before doing something that cannot be undone: the first press shows the
 * question with a confirming and a cancelling button, in place, reachable by keyboard.
 * @param {string} label
 * @param {string} question
 * @param {() => Promise<void>} action
 */
export function confirmButton(label, question, action) {
  const wrapper = h('span', {});
  const ask = () => {
    const confirm = h('button', { type: 'button', onclick: () => void action() }, `Yes, ${label.toLowerCase()}`);
    const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => { wrapper.replaceChildren(first); first.focus(); } }, 'Cancel');
    wrapper.replaceChildren(h('span', { role: 'alert' }, question, ' '), confirm, ' ', cancel);
    confirm.focus();
  };
  const first = h('button', { type: 'button', class: 'secondary', onclick: ask }, label);
  wrapper.append(first);
  return wrapper;
}

/**
 * A secret shown once (client secret, registration token), with words that say so.
 * @param {string} what
 * @param {string} secret
 */
export function secretOnce(what, secret) {
  return h('div', { class: 'notice', role: 'status' },
    h('p', {}, `The ${what} is shown only this once. Copy it now:`),
    h('p', { class: 'secret' }, h('code', { 'data-secret': what }, secret)));
}

/**
 * A search form that keeps its value in the address.
 * @param {string} label
 * @param {string} value
 * @param {(q: string) => void} go
 */
export function searchForm(label, value, go) {
  /** @type {HTMLFormElement} */
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'inline', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: 'q' }, label), h('input', { id: 'q', name: 'q', type: 'search', value })),
    h('button', { type: 'submit' }, 'Search')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('q'));
    go(input.value.trim());
  });
  return form;
}
