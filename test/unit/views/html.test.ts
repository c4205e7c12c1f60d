import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, Html } from '../../../src/views/html.js';

describe('views/html', () => {
  it('escapes & < > " \' `', () => {
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });

  it('escapes every interpolated value, in text and attributes', () => {
    const evil = `"><script>alert(1)</script>`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
  });

  it('does not double-escape nested fragments, and escapes arrays item by item', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${['<a>', html`<br>`]}</p>`.value).toBe('<p><b>&lt;i&gt;</b>&lt;a&gt;<br></p>');
  });

  it('renders null, undefined and false as nothing, numbers as text', () => {
    expect(html`${null}${undefined}${false}${0}${1.5}`.value).toBe('01.5');
  });

  it('only Html instances pass unescaped: an object with a value field does not', () => {
    const fake = { value: '<script>' } as unknown as Html;
    expect(html`${fake}`.value).not.toContain('<script>');
  });

  it('no interpolated string can open a tag or close an attribute (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = html`<input value="${s}">${s}`.value;
        const attr = out.slice('<input value="'.length, out.indexOf('">'));
        expect(attr).not.toMatch(/["<>]/);
        expect(out.slice(out.indexOf('">') + 2)).not.toMatch(/[<>"'`]/);
      }),
    );
  });
});
