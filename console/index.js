// @ts-check
import { ApiError, NotAdministrator } from './api.js';
import { completeSignIn, currentTokens, signIn, signOut, SignInError, takeSignedOut } from './auth.js';
import { h, render } from './dom.js';
import { auditPage } from './pages/audit.js';
import { clientPage, clientsPage } from './pages/clients.js';
import { keysPage } from './pages/keys.js';
import { overviewPage } from './pages/overview.js';
import { registrationPage } from './pages/registration.js';
import { scopesPage } from './pages/scopes.js';
import { userPage, usersPage } from './pages/users.js';

/**
 * The console's entry: routes the address to a page module, keeps navigation inside the app (history API),
 * and turns the sign-in's and the admin API's failures into pages said in words.
 *
 * @typedef {{ params: Record<string, string>, search: URLSearchParams, navigate: (path: string) => void }} PageContext
 * @type {[RegExp, (ctx: PageContext) => Promise<void>][]}
 */
const ROUTES = [
  [/^\/console\/?$/, overviewPage],
  [/^\/console\/clients\/?$/, clientsPage],
  [/^\/console\/clients\/(?<id>[^/]+)$/, clientPage],
  [/^\/console\/users\/?$/, usersPage],
  [/^\/console\/users\/(?<id>[^/]+)$/, userPage],
  [/^\/console\/audit\/?$/, auditPage],
  [/^\/console\/keys\/?$/, keysPage],
  [/^\/console\/scopes\/?$/, scopesPage],
  [/^\/console\/registration\/?$/, registrationPage],
];

/** @param {string} path */
function navigate(path) {
  history.pushState(null, '', path);
  void show();
}

function markCurrent() {
  for (const link of document.querySelectorAll('.console-nav a')) {
    const href = link.getAttribute('href') ?? '';
    const current = href === '/console' ? location.pathname === '/console' || location.pathname === '/console/' : location.pathname.startsWith(href);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function show() {
  markCurrent();
  const route = ROUTES.find(([pattern]) => pattern.test(location.pathname));
  if (!route) {
    render('Page not found', h('p', {}, 'The console has no page at this address.'), h('p', {}, h('a', { href: '/console' }, 'Go to the overview')));
    return;
  }
  const match = route[0].exec(location.pathname);
  const params = Object.fromEntries(Object.entries(match?.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
  try {
    await route[1]({ params, search: new URLSearchParams(location.search), navigate });
  } catch (err) {
    showError(err);
  }
  document.getElementById('main')?.focus();
}

/** @param {unknown} err */
function showError(err) {
  if (err instanceof NotAdministrator) {
    render(
      'You are not an administrator',
      h('p', { class: 'error', role: 'alert' }, `You are signed in as ${currentTokens()?.username ?? 'a user'}, who is not an administrator of this server. The console is for administrators only.`),
      h('p', {}, 'An administrator can make you one (is_admin), then sign out and sign in again.'),
    );
    return;
  }
  if (err instanceof ApiError) {
    // The page's own requests failed (an action's failure is announced by the page itself).
    render('This page could not be loaded', h('p', { class: 'error', role: 'alert' }, `${err.message}${err.requestId ? ` (request id ${err.requestId})` : ''}`));
    return;
  }
  render('Something went wrong', h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
}

/** Links inside the console navigate without reloading the shell. */
document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('a') : null;
  if (!target || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const href = target.getAttribute('href');
  if (!href || !href.startsWith('/console') || href.startsWith('/console/assets/')) return;
  event.preventDefault();
  navigate(href);
});
window.addEventListener('popstate', () => void show());

async function start() {
  const signOutButton = document.getElementById('sign-out');
  signOutButton?.addEventListener('click', () => void signOut());
  if (location.pathname === '/console/callback') {
    try {
      history.replaceState(null, '', await completeSignIn());
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      render('Sign-in failed', h('p', { class: 'error', role: 'alert' }, err.message), h('p', {}, h('button', { type: 'button', onclick: () => void signIn('/console') }, 'Sign in')));
      return;
    }
  }
  const tokens = currentTokens();
  if (!tokens) {
    if (takeSignedOut()) {
      render('You are signed out', h('p', { class: 'notice', role: 'status' }, 'You are signed out of the console.'), h('p', {}, h('button', { type: 'button', onclick: () => void signIn('/console') }, 'Sign in')));
      return;
    }
    await signIn(location.pathname + location.search);
    return;
  }
  const user = document.getElementById('console-user');
  if (user) user.textContent = `Signed in as ${tokens.username}`;
  signOutButton?.removeAttribute('hidden');
  await show();
}

void start().catch(showError);
