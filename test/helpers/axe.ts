import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Accessibility checks of Authly's pages in real Chromium with axe-core, for any part's pages: open a page
 * (however it is reached: a URL, a walk through forms), then `auditPage` injects axe-core and returns its
 * violations together with every request the page made to another origin and every console error.
 *
 *   const browser = await launchChromium();
 *   for (const variant of VARIANTS) {
 *     const session = await openSession(browser, issuer, variant);
 *     await session.page.goto(`${issuer}/account`);
 *     expect(await session.audit()).toEqual(CLEAN);
 *     await session.close();
 *   }
 *
 * The context bypasses CSP only so that axe's script can be injected; the pages' own CSP is tested
 * elsewhere (test/e2e/browser-chromium.test.ts, test/unit/views/page.test.ts).
 */
export const CHROMIUM_PATH = process.env.AUTHLY_CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Variant {
  name: string;
  /** The browser's language: Chromium sends it as Accept-Language. */
  locale: 'en-US' | 'de-DE';
  viewport: { width: number; height: number };
  colorScheme: 'light' | 'dark';
}

/** Desktop and phone width, English and German; the phone runs in dark mode so that both schemes are checked. */
export const VARIANTS: readonly Variant[] = [
  { name: 'desktop en', locale: 'en-US', viewport: { width: 1280, height: 900 }, colorScheme: 'light' },
  { name: 'desktop de', locale: 'de-DE', viewport: { width: 1280, height: 900 }, colorScheme: 'light' },
  { name: 'mobile en (dark)', locale: 'en-US', viewport: { width: 375, height: 740 }, colorScheme: 'dark' },
  { name: 'mobile de (dark)', locale: 'de-DE', viewport: { width: 375, height: 740 }, colorScheme: 'dark' },
];

export interface AuditResult {
  /** axe rule id and the first offending node of each violation. */
  violations: { id: string; impact: string | null; help: string; target: string }[];
  /** Requests to an origin other than Authly's (and other than `allowedOrigins`). */
  foreignRequests: string[];
  /** Console errors (a stylesheet refused for its integrity shows up here). */
  consoleErrors: string[];
}

export const CLEAN: AuditResult = { violations: [], foreignRequests: [], consoleErrors: [] };

export interface Session {
  page: Page;
  /** Runs axe-core on the page as it is now. `allowedOrigins`: other origins this page may load from (a client's logo). */
  audit(allowedOrigins?: readonly string[]): Promise<AuditResult>;
  close(): Promise<void>;
}

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations on the page as it is now (the page's context must bypass CSP to inject it). */
export async function axeViolations(page: Page): Promise<AuditResult['violations']> {
  await page.addScriptTag({ path: AXE_PATH });
  const results = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> } }).axe;
    // WCAG 2.x A and AA plus best practices; the page is judged as a whole.
    return axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
  });
  return (results.violations as { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[]).map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    target: String(v.nodes[0]?.target ?? ''),
  }));
}

/** Violations as one line each (`id: help (first node)`), for readable assertion diffs. */
export const axeViolationLines = async (page: Page): Promise<string[]> =>
  (await axeViolations(page)).map((v) => `${v.id}: ${v.help} (${v.target})`);

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install it (Debian: apt-get install -y chromium) or set AUTHLY_CHROMIUM_PATH.`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export async function openSession(browser: Browser, issuer: string, variant: Variant): Promise<Session> {
  const context = await browser.newContext({
    bypassCSP: true,
    locale: variant.locale,
    viewport: variant.viewport,
    colorScheme: variant.colorScheme,
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const own = new URL(issuer).origin;
  let requests: string[] = [];
  let consoleErrors: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('data:')) requests.push(url);
  });
  page.on('console', (message) => {
    // Chromium logs a page's own 4xx status as "Failed to load resource"; an error page is meant to have one.
    if (message.type() === 'error' && message.location().url !== page.url()) consoleErrors.push(message.text());
  });
  page.on('framenavigated', (frame) => {
    // Each new document starts a new record; the navigation request itself is kept.
    if (frame === page.mainFrame()) {
      requests = [frame.url()];
      consoleErrors = [];
    }
  });
  return {
    page,
    async audit(allowedOrigins = []) {
      await page.waitForLoadState('load');
      const violations = await axeViolations(page);
      const allowed = new Set([own, ...allowedOrigins]);
      const foreignRequests = requests.filter((url) => !allowed.has(new URL(url).origin));
      return { violations, foreignRequests, consoleErrors: [...consoleErrors] };
    },
    close: () => context.close(),
  };
}
