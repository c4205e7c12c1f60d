import type { FastifyReply } from 'fastify';
import { linkList, supportReference, technicalDetails, type Link } from './components.js';
import { Html, html } from './html.js';
import type { Brand, PageContext } from './page-context.js';
import { brandFrom } from './page-context.js';

export interface PageSecurity {
  /** Where forms on this page may post and redirect (CSP form-action). */
  formAction: readonly string[];
  /** A nonce for the one inline script allowed on this page. */
  scriptNonce?: string;
  /** Where the page's script may fetch (CSP connect-src); unset: nowhere (default-src 'none'). */
  connectSrc?: readonly string[];
  /** Origins of images this page shows besides Authly's own (the consent page's client logo). */
  imgSrc?: readonly string[];
}

/**
 * CSP for server-rendered pages. Styles come only from Authly's own stylesheet (`style-src 'self'`, no
 * inline style); images from Authly, plus the operator's logo origin (BRAND_LOGO_URL) and the sources the
 * page names (the client's logo_uri on consent). Chromium applies form-action to the redirects that
 * follow a form POST, so the pages of an authorization list the client's redirect origin next to 'self'
 * (SECURITY.md).
 */
export function contentSecurityPolicy(security: PageSecurity, brand?: Pick<Brand, 'logoOrigin'>): string {
  const images = ["'self'", 'data:', ...(brand?.logoOrigin ? [brand.logoOrigin] : []), ...(security.imgSrc ?? [])];
  return [
    "default-src 'none'",
    "style-src 'self'",
    `img-src ${[...new Set(images)].join(' ')}`,
    `script-src ${security.scriptNonce ? `'nonce-${security.scriptNonce}'` : "'none'"}`,
    ...(security.connectSrc ? [`connect-src ${security.connectSrc.join(' ')}`] : []),
    `form-action ${security.formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The brand in the page header: the operator's header HTML, else the logo, else the product name. */
export function brandMark(brand: Brand): Html {
  if (brand.headerHtml) return new Html(brand.headerHtml);
  return brand.logoSrc
    ? html`<img class="logo" src="${brand.logoSrc}" alt="${brand.productName}">`
    : html`<span class="product">${brand.productName}</span>`;
}

/** How every page's <head> begins (the sign-in pages and the console): the meta tags and the brand's stylesheet. */
export function headStart(brand: Brand): Html {
  return html`<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${brand.stylesheet.href}" integrity="${brand.stylesheet.integrity}">`;
}

function siteHeader(brand: Brand, wide: boolean): Html {
  return html`<header class="${wide ? 'site-header wide' : 'site-header'}">${brandMark(brand)}</header>`;
}

function siteFooter(pc: PageContext, wide: boolean): Html {
  const { brand } = pc;
  const links: Link[] = [];
  if (brand.supportUrl) links.push({ href: brand.supportUrl, label: pc.t('common.help') });
  if (brand.supportEmail) links.push({ href: `mailto:${brand.supportEmail}`, label: pc.t('common.contact_support') });
  if (links.length === 0 && !brand.footerHtml) return html``;
  return html`<footer class="${wide ? 'site-footer wide' : 'site-footer'}">${
    links.length > 0 ? html`<nav aria-label="${pc.t('common.site_navigation')}">${linkList(links)}</nav>` : ''
  }${brand.footerHtml ? new Html(brand.footerHtml) : ''}</footer>`;
}

export interface LayoutOptions {
  /** A wider frame (the account pages). */
  wide?: boolean;
}

export function layout(pc: PageContext, title: string, body: Html, options: LayoutOptions = {}): Html {
  const wide = options.wide ?? false;
  return html`<!doctype html>
<html lang="${pc.locale}">
<head>
${headStart(pc.brand)}
<title>${title} – ${pc.brand.productName}</title>
</head>
<body>
${siteHeader(pc.brand, wide)}
<main${wide ? html` class="wide"` : ''}>${body}</main>
${siteFooter(pc, wide)}
</body>
</html>`;
}

export interface ErrorPageOptions {
  /** The technical reason, for the developer (shown in a collapsed details element). */
  detail?: string;
  /** A way back: the sign-in page, the client's site. */
  back?: Link;
}

/** An error written for the person, a way back, the support reference, and the technical reason below. */
export function errorPage(pc: PageContext, title: string, message: string, options: ErrorPageOptions = {}): Html {
  return layout(
    pc,
    title,
    html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>
${options.back ? html`<p><a class="button secondary" href="${options.back.href}"${options.back.external ? html` rel="noopener noreferrer"` : ''}>${options.back.label}</a></p>` : ''}
${supportReference(pc)}
${technicalDetails(pc, options.detail)}`,
  );
}

export function sendPage(reply: FastifyReply, status: number, page: Html, security: PageSecurity): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', contentSecurityPolicy(security, brandFrom(reply.server.ctx.config)))
    .send(page.value);
}

/**
 * The CSP source that allows navigation to a redirect URI: its origin, or its scheme for the private-use
 * URI schemes of native apps (RFC 8252 section 7.1).
 */
export function cspSourceFor(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}
