import { html, type Html } from './html.js';
import { brandMark, headStart } from './page.js';
import type { Brand } from './page-context.js';

/** The console's pages, in the order of its navigation; console/index.js routes the same paths. */
export const CONSOLE_NAVIGATION = [
  { path: '/console', label: 'Overview' },
  { path: '/console/clients', label: 'Clients' },
  { path: '/console/users', label: 'Users' },
  { path: '/console/audit', label: 'Audit events' },
  { path: '/console/keys', label: 'Signing keys' },
  { path: '/console/scopes', label: 'Scopes and resources' },
  { path: '/console/registration', label: 'Registration' },
] as const;

/**
 * The one HTML shell of the console (issue 14 §3), the same for every /console path: the sign-in pages'
 * stylesheet and branding, a skip link, the navigation, a live region for results and errors, and the
 * console's module script, which renders each page in the browser from the admin API. The shell holds no
 * data and no secret; without JavaScript it says that it needs it. English only.
 */
export function consoleShell(brand: Brand, assetsPath: string): Html {
  return html`<!doctype html>
<html lang="en">
<head>
${headStart(brand)}
<link rel="stylesheet" href="${assetsPath}console.css">
<script type="module" src="${assetsPath}index.js"></script>
<title>Console – ${brand.productName}</title>
</head>
<body class="console">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header wide">${brandMark(brand)}<span class="console-user" id="console-user"></span></header>
<nav class="console-nav" aria-label="Console"><ul>${CONSOLE_NAVIGATION.map(
    (item) => html`<li><a href="${item.path}">${item.label}</a></li>`,
  )}<li><button type="button" class="link" id="sign-out" hidden>Sign out</button></li></ul></nav>
<main class="wide" id="main" tabindex="-1">
<h1>Console</h1>
<noscript><p class="error">The console is a browser application and needs JavaScript.</p></noscript>
<p>Loading…</p>
</main>
<div class="visually-hidden" id="live" role="status" aria-live="polite"></div>
</body>
</html>`;
}
