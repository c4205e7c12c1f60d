import type { Locale } from '../lib/locales.js';
import { escapeHtml, html, Html } from './html.js';
import type { PageContext } from './page-context.js';

/**
 * The small set of page components every page is built from; the stylesheet (src/views/stylesheet.ts)
 * gives them their look. They emit plain semantic HTML, so pages that write the same markup by hand
 * (the classes `error`, `notice`, `warning`, `actions`, `links`) look the same.
 */

/**
 * A catalogue string with HTML fragments in its `{placeholders}`: the string itself is escaped, the
 * fragments are inserted as they are (each escaped when built), so a translation can move the bold client
 * name or a link to wherever its grammar wants it.
 */
export function richText(template: string, vars: Record<string, Html | string>): Html {
  return new Html(
    escapeHtml(template).replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = vars[name];
      if (value === undefined) return whole;
      return value instanceof Html ? value.value : escapeHtml(value);
    }),
  );
}

export interface FieldOptions {
  id: string;
  name?: string;
  label: string;
  type?: 'text' | 'password' | 'email' | 'tel' | 'url' | 'number';
  value?: string;
  /** WHATWG autofill tokens (HTML section 4.10.18.7), e.g. username, current-password, new-password, one-time-code. */
  autocomplete?: string;
  required?: boolean;
  autofocus?: boolean;
  hint?: string;
  inputmode?: 'numeric' | 'text' | 'email';
  /** Extra attributes that are fixed markup (e.g. `autocapitalize="none" spellcheck="false"`). */
  attributes?: Html;
}

/** A labelled input: the label is bound by `for`, a hint by aria-describedby. */
export function field(o: FieldOptions): Html {
  const hintId = o.hint ? `${o.id}-hint` : undefined;
  return html`<label for="${o.id}">${o.label}</label>
<input type="${o.type ?? 'text'}" id="${o.id}" name="${o.name ?? o.id}"${o.value !== undefined ? html` value="${o.value}"` : ''}${
    o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''
  }${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${hintId ? html` aria-describedby="${hintId}"` : ''}${o.attributes ? html` ${o.attributes}` : ''}${
    o.required ? html` required` : ''
  }${o.autofocus ? html` autofocus` : ''}>
${hintId ? html`<p class="hint" id="${hintId}">${o.hint}</p>` : ''}`;
}

export interface ButtonOptions {
  variant?: 'primary' | 'secondary' | 'link';
  name?: string;
  value?: string;
  type?: 'submit' | 'button';
}

export function button(label: string, o: ButtonOptions = {}): Html {
  const cls = o.variant && o.variant !== 'primary' ? html` class="${o.variant}"` : '';
  return html`<button type="${o.type ?? 'submit'}"${cls}${o.name ? html` name="${o.name}"` : ''}${o.value !== undefined ? html` value="${o.value}"` : ''}>${label}</button>`;
}

/** A row of buttons; on narrow screens they stack at full width, the primary one first. */
export function actions(...buttons: Html[]): Html {
  return html`<div class="actions">${buttons}</div>`;
}

/** An error for the person; announced by screen readers. */
export function alert(message: string | Html): Html {
  return html`<p class="error" role="alert">${message}</p>`;
}

/** A success message. */
export function notice(message: string | Html): Html {
  return html`<p class="notice" role="status">${message}</p>`;
}

/** A caution the person must read before acting. */
export function warning(message: string | Html): Html {
  return html`<p class="warning" role="alert">${message}</p>`;
}

export interface Link {
  href: string;
  label: string;
  /** Links that leave Authly (the client's pages): no referrer, no opener. */
  external?: boolean;
}

export function linkList(links: readonly Link[], label?: string): Html {
  if (links.length === 0) return html``;
  return html`<ul class="links"${label ? html` aria-label="${label}"` : ''}>${links.map(
    (l) => html`<li><a href="${l.href}"${l.external ? html` rel="noopener noreferrer"` : ''}>${l.label}</a></li>`,
  )}</ul>`;
}

/** The technical reason, kept below the person's message for the developer who reads the page. */
export function technicalDetails(pc: PageContext, detail: string | undefined): Html {
  if (!detail) return html``;
  return html`<details><summary>${pc.t('common.technical_details')}</summary><p><code>${detail}</code></p></details>`;
}

/** The request id, which the logs carry too: what a person quotes to support. */
export function supportReference(pc: PageContext): Html {
  return html`<p class="support-reference">${pc.t('common.support_reference', { requestId: pc.requestId })}</p>`;
}

/** "in 2 minutes" / "in 2 Minuten": a wait in words, rounded up to a unit a person reads at a glance. */
export function waitInWords(locale: Locale, seconds: number): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'always', style: 'long' });
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return format.format(s, 'second');
  if (s < 3600) return format.format(Math.ceil(s / 60), 'minute');
  if (s < 86400) return format.format(Math.ceil(s / 3600), 'hour');
  return format.format(Math.ceil(s / 86400), 'day');
}
