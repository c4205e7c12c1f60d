import type { BrandConfig } from '../config/brand.js';
import { readableOn, textOn } from './brand-colors.js';

/** Card backgrounds of the two colour schemes: links and focus rings are derived against them. */
const LIGHT_CARD = '#ffffff';
const DARK_CARD = '#1b1f26';

/**
 * The one stylesheet of every page (sign-in, consent, errors, sign-out, account and the pages of the
 * other parts, which use plain semantic HTML with the classes below). It is served by Authly under a
 * content-hashed name (src/routes/assets/assets-route.ts) and linked with its integrity hash, so the CSP
 * says `style-src 'self'` and no page carries inline style.
 */
const BASE = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:${LIGHT_CARD};--text:#1d2330;--muted:#4f5868;--border:#b3b9c5;--field:#ffffff;
--error-bg:#fdecec;--error-border:#d98c8c;--error-text:#7f1818;--notice-bg:#e7f4eb;--notice-border:#7fbf93;--notice-text:#17502b;
--warning-bg:#fff6e0;--warning-border:#d9a93a;--warning-text:#4f3a00;--shadow:0 2px 12px rgba(0,0,0,.08)}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--card:${DARK_CARD};--text:#e7e9ee;--muted:#b4bac6;--border:#5d6576;--field:#12151a;
--error-bg:#3a1616;--error-border:#a04646;--error-text:#ffc4c4;--notice-bg:#123020;--notice-border:#3f8a5a;--notice-text:#b4ecc6;
--warning-bg:#3a2e0a;--warning-border:#a5801f;--warning-text:#ffe49a;--shadow:none;--link:var(--link-dark);--focus:var(--link-dark)}}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:1rem;line-height:1.5;
background:var(--bg);color:var(--text);margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;padding:1.5rem 1rem}
.site-header{width:100%;max-width:28rem;display:flex;align-items:center;gap:.6rem;margin:0 0 1rem}
.site-header img.logo{max-height:2.5rem;max-width:12rem;width:auto;height:auto}
.site-header .product{font-weight:700;font-size:1.1rem;color:var(--text);text-decoration:none}
main{background:var(--card);border:1px solid transparent;border-radius:12px;box-shadow:var(--shadow);padding:2rem;width:100%;max-width:28rem}
main.wide{max-width:44rem}
.site-header.wide,.site-footer.wide{max-width:44rem}
.site-footer{width:100%;max-width:28rem;margin-top:1.25rem;color:var(--muted);font-size:.9rem;text-align:center}
.site-footer ul{list-style:none;padding:0;margin:0;display:flex;gap:1rem;justify-content:center;flex-wrap:wrap}
h1{font-size:1.4rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
p{margin:.6rem 0}
a{color:var(--link);text-underline-offset:.15em}
a:hover{text-decoration-thickness:2px}
label{display:block;font-weight:600;margin:.9rem 0 .3rem}
input,button,select,textarea{font:inherit;color:inherit;letter-spacing:inherit}
input[type=text],input[type=password],input[type=email],input[type=tel],input[type=url],input[type=number],input:not([type]),select,textarea{
display:block;width:100%;padding:.6rem .7rem;border:1px solid var(--border);border-radius:6px;background:var(--field);color:var(--text);min-height:2.75rem}
input[type=checkbox],input[type=radio]{width:1.1rem;height:1.1rem;accent-color:var(--primary)}
.hint{color:var(--muted);font-size:.9rem;margin:.3rem 0 0}
button,.button{display:inline-flex;align-items:center;justify-content:center;min-height:2.75rem;padding:.55rem 1.2rem;border-radius:6px;
border:1px solid var(--primary);background:var(--primary);color:var(--on-primary);cursor:pointer;font-weight:600;text-decoration:none;margin-top:1.2rem}
button.secondary,.button.secondary{background:transparent;color:var(--link);border-color:var(--border)}
button.link{background:none;border:none;color:var(--link);padding:0;min-height:0;margin:0;font-weight:400;text-decoration:underline;cursor:pointer}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid var(--focus);outline-offset:0;border-color:var(--focus)}
.actions{display:flex;gap:.6rem;justify-content:flex-end;flex-wrap:wrap}
.error,.notice,.warning{border-radius:6px;padding:.6rem .8rem;border:1px solid}
.error{background:var(--error-bg);border-color:var(--error-border);color:var(--error-text)}
.notice{background:var(--notice-bg);border-color:var(--notice-border);color:var(--notice-text)}
.warning{background:var(--warning-bg);border-color:var(--warning-border);color:var(--warning-text)}
.muted,.support-reference{color:var(--muted);font-size:.9rem}
.client{display:flex;align-items:center;gap:.8rem;margin:0 0 1rem}
.client img{width:3rem;height:3rem;object-fit:contain;border-radius:8px}
ul.scopes,ul.resources{padding-left:1.2rem}ul.scopes li,ul.resources li{margin:.3rem 0}
ul.links{list-style:none;padding:0;margin:.8rem 0;display:flex;flex-wrap:wrap;gap:.4rem 1rem}
ul.account-nav{list-style:none;padding:0;margin:0 0 1.2rem;display:flex;flex-wrap:wrap;gap:.4rem;border-bottom:1px solid var(--border);padding-bottom:.8rem}
ul.account-nav a{display:inline-block;padding:.35rem .7rem;border-radius:6px;text-decoration:none}
ul.account-nav a[aria-current=page]{background:var(--primary);color:var(--on-primary)}
.account-user{display:flex;flex-wrap:wrap;align-items:baseline;gap:.3rem .8rem}
.account-user form{display:inline}
details{margin-top:1rem;color:var(--muted);font-size:.9rem}
details summary{cursor:pointer}
details code,code{word-break:break-all;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.destination{font-size:1.15rem;word-break:break-all}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.4rem;border-bottom:1px solid var(--border)}
@media (max-width:32rem){body{padding:0;align-items:stretch}
main,main.wide{border-radius:0;box-shadow:none;padding:1.25rem 1rem;max-width:none}
.site-header,.site-footer{padding:1rem;margin:0;max-width:none}
.actions{flex-direction:column-reverse}
.actions button,.actions .button,form>button,main>.button{width:100%}}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important;scroll-behavior:auto!important}}
`;

/** The stylesheet for one configuration: the brand's colours (with derived readable shades), the base rules, then the operator's extra CSS. */
export function buildStylesheet(brand: Pick<BrandConfig, 'primaryColor' | 'templates'>): string {
  const primary = brand.primaryColor;
  const lightLink = readableOn(primary, LIGHT_CARD);
  const darkLink = readableOn(primary, DARK_CARD);
  const vars = `:root{--primary:${primary};--on-primary:${textOn(primary)};--link:${lightLink};--link-dark:${darkLink};--focus:${lightLink}}`;
  const extra = brand.templates.extraCss ? `\n/* BRAND_TEMPLATES_DIR/extra.css */\n${brand.templates.extraCss}\n` : '';
  return `${vars}${BASE}${extra}`;
}
