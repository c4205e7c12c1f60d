import { orderScopes, scopeText } from './authorization-pages.js';
import { actions, alert, button, field, notice, richText, warning } from './components.js';
import { html, type Html } from './html.js';
import { layout } from './page.js';
import type { PageContext } from './page-context.js';

/** The pages of the device authorization grant (RFC 8628 section 3.3): enter the code, confirm, done. */

const hidden = (fields: Record<string, string>) => Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);

/** Enter the user code (prefilled from verification_uri_complete: the person still presses Continue). */
export function deviceCodePage(pc: PageContext, view: { action: string; csrfToken: string; userCode?: string; error?: string }): Html {
  const { t } = pc;
  return layout(
    pc,
    t('device.title'),
    html`<h1>${t('device.title')}</h1>
<p>${t('device.intro')}</p>
${view.error ? alert(view.error) : ''}
<form method="post" action="${view.action}">
${hidden({ csrf_token: view.csrfToken })}
${field({
  id: 'user_code',
  label: t('device.code_label'),
  value: view.userCode ?? '',
  autocomplete: 'one-time-code',
  required: true,
  autofocus: !view.userCode,
  hint: t('device.code_hint'),
  attributes: html`autocapitalize="characters" spellcheck="false" maxlength="20"`,
})}
${actions(button(t('device.continue')))}
</form>`,
  );
}

export interface DeviceConfirmView {
  action: string;
  /** The hidden fields of the answer: the form's CSRF token, and the request with its confirmation token. */
  fields: Record<string, string>;
  /** XXXX-XXXX. */
  userCode: string;
  clientName: string;
  scopes: readonly { name: string; description: string }[];
  resources: readonly { name: string; identifier: string }[];
}

/**
 * RFC 8628 section 5.4 (remote phishing): before anything else, who asks, for what, and the code the
 * person's own device should show; Deny is as easy as Continue.
 */
export function deviceConfirmPage(pc: PageContext, view: DeviceConfirmView): Html {
  const { t } = pc;
  return layout(
    pc,
    t('device.confirm_title'),
    html`<h1>${t('device.confirm_title')}</h1>
<p>${richText(t('device.confirm_asks'), { client: html`<strong>${view.clientName}</strong>` })}</p>
<p>${richText(t('device.confirm_code'), { code: html`<strong class="user-code">${view.userCode}</strong>` })}</p>
${
  view.scopes.length > 0
    ? html`<p>${t('consent.will_be_able')}</p>
<ul class="scopes">${orderScopes(view.scopes).map((s) => html`<li>${scopeText(pc, s)}</li>`)}</ul>`
    : ''
}
${
  view.resources.length > 0
    ? html`<p>${t('consent.resources')}</p>
<ul class="resources">${view.resources.map((r) => html`<li><strong>${r.name}</strong> <span class="muted">${r.identifier}</span></li>`)}</ul>`
    : ''
}
${warning(t('device.confirm_warning'))}
<form method="post" action="${view.action}">
${hidden(view.fields)}
${actions(button(t('consent.deny'), { variant: 'secondary', name: 'decision', value: 'deny' }), button(t('device.continue'), { name: 'decision', value: 'allow' }))}
</form>`,
  );
}

/** The end of the flow in the browser: approved ("you may return to your device"), denied, or no longer valid. */
export function deviceOutcomePage(pc: PageContext, outcome: 'approved' | 'denied' | 'gone'): Html {
  const { t } = pc;
  const [title, message] =
    outcome === 'approved'
      ? [t('device.done_title'), notice(t('device.done'))]
      : outcome === 'denied'
        ? [t('device.denied_title'), notice(t('device.denied'))]
        : [t('device.gone_title'), alert(t('device.gone'))];
  return layout(pc, title, html`<h1>${title}</h1>
${message}`);
}
