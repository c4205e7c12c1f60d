import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Html, html } from './html.js';
import type { PageContext } from './page-context.js';

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;
display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem;width:100%;max-width:380px}
h1{font-size:1.35rem;margin:0 0 1rem}p{line-height:1.45}label{display:block;font-weight:600;margin:.9rem 0 .3rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #b9bfca;border-radius:6px;font-size:1rem}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #2456c4;background:#2f66d8;color:#fff;cursor:pointer;margin-top:1.2rem}
button.secondary{background:#fff;color:#2f66d8}.actions{display:flex;gap:.6rem;justify-content:flex-end}
.error{background:#fdecec;border:1px solid #e5a3a3;color:#8c1c1c;padding:.6rem;border-radius:6px}
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.3rem 0}.muted{color:#5b6475;font-size:.9rem}
.warning{background:#fff6e0;border:1px solid #d9a93a;color:#4f3a00;padding:.6rem;border-radius:6px}
.destination{font-size:1.15rem;word-break:break-all}code{word-break:break-all}`;
// The stylesheet is allowed by its hash, so the CSP needs no 'unsafe-inline'.
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export interface PageSecurity {
  /** Where forms on this page may post and redirect (CSP form-action). */
  formAction: readonly string[];
  /** A nonce for the one inline script allowed on this page. */
  scriptNonce?: string;
  /** Where the page's script may fetch (CSP connect-src); unset: nowhere (default-src 'none'). */
  connectSrc?: readonly string[];
}

/**
 * CSP for server-rendered pages. Chromium applies form-action to the redirects that follow a form POST,
 * so the pages of an authorization list the client's redirect origin next to 'self' (SECURITY.md).
 */
export function contentSecurityPolicy(security: PageSecurity): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    "img-src 'self' data:",
    `script-src ${security.scriptNonce ? `'nonce-${security.scriptNonce}'` : "'none'"}`,
    ...(security.connectSrc ? [`connect-src ${security.connectSrc.join(' ')}`] : []),
    `form-action ${security.formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function layout(pc: PageContext, title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="${pc.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${title} – ${pc.brand.productName}</title>
<style>${new Html(STYLE)}</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

export function sendPage(reply: FastifyReply, status: number, page: Html, security: PageSecurity): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', contentSecurityPolicy(security))
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
