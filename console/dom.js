// @ts-check
/** A small DOM helper: elements are built with text nodes only (never innerHTML), so nothing from the API is parsed as HTML. */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Record<string, string | boolean | number | EventListener | null | undefined>} Attributes
 */

/**
 * h('a', { href: '/x', onclick: f }, 'text', child)
 * @param {string} tag
 * @param {Attributes} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'object' ? child : String(child));
  }
}

/** @returns {HTMLElement} */
export function main() {
  const element = document.getElementById('main');
  if (!element) throw new Error('the console shell has no main element');
  return element;
}

/**
 * Replaces the page's content, sets the title and moves focus to the new heading's container, so a keyboard
 * or screen-reader user starts at the top of the new page.
 * @param {string} title
 * @param {...(Child | Child[])} children
 */
export function render(title, ...children) {
  const root = main();
  root.replaceChildren();
  append(root, [h('h1', {}, title), ...children]);
  document.title = `${title} – Console`;
  if (flashed) announce(flashed);
  flashed = undefined;
}

/** @type {string | undefined} */
let flashed;

/**
 * A result to say on the next page rendered (after an action that navigates away, such as a deletion).
 * @param {string} message
 */
export function flash(message) {
  flashed = message;
}

/**
 * Says something in the live region (results and errors) and shows it on the page.
 * @param {string} message
 * @param {'notice' | 'error'} [kind]
 */
export function announce(message, kind = 'notice') {
  const live = document.getElementById('live');
  if (live) live.textContent = message;
  const root = main();
  root.querySelectorAll(':scope > p.notice, :scope > p.error').forEach((p) => p.remove());
  const p = h('p', { class: kind }, message);
  root.querySelector(':scope > h1')?.after(p);
}

/**
 * A table with a header row; each row is an array of cells.
 * @param {string} caption
 * @param {string[]} headers
 * @param {(Child | Child[])[][]} rows
 */
export function table(caption, headers, rows) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
  ));
}

/**
 * A labelled field.
 * @param {string} id
 * @param {string} label
 * @param {Attributes} [attributes]
 */
export function field(id, label, attributes = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, type: 'text', ...attributes }));
}

/**
 * The value of a form's field.
 * @param {HTMLFormElement} form
 * @param {string} name
 */
export function value(form, name) {
  const element = form.elements.namedItem(name);
  return element instanceof HTMLInputElement || element instanceof HTMLSelectElement ? element.value.trim() : '';
}

/** @param {string | null | undefined} iso */
export function when(iso) {
  return iso ? new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—';
}
