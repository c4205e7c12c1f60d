import type { FastifyRequest } from 'fastify';
import { negotiateLocale } from '../lib/locales.js';
import { pageContextOf, type PageContext } from '../views/page-context.js';

/** The page context of a request: its language from `ui_locales` (when the flow carries one), then Accept-Language. */
export function pageContext(request: FastifyRequest, uiLocales?: string): PageContext {
  const header = request.headers['accept-language'];
  return pageContextOf(request.server.ctx.config, negotiateLocale(uiLocales, typeof header === 'string' ? header : undefined), request.id);
}
