/**
 * A real browser for the page tests: Debian's Chromium driven by playwright-core (no browser
 * download). Missing Chromium fails the tests loudly; it never skips them. Screenshots go to
 * test/artifacts/ (kept by CI as artifacts, ignored by git).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where screenshots are written. */
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');

/** The Chromium binary: CHROMIUM_PATH, else Debian's. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Builds the pages when pages/dist is missing (a test file run on its own, before
 * `npm run build:pages`); `npm test` builds them before the suites run.
 */
export function ensurePagesBuilt(): void {
  if (existsSync(join(ROOT, 'pages', 'dist', 'ops.js'))) return;
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-pages.ts'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error(`npm run build:pages failed (exit ${built.status})`);
}

/** Launches headless Chromium as this machine allows it (no sandbox as root, no network chatter). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is required by the page tests and is not at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  ensurePagesBuilt();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page at 1280×800 that records its script errors and failed loads (tests assert none). */
export async function openPage(
  browser: Browser,
  url: string,
  options: { readonly bypassCSP?: boolean } = {},
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    // Only for the accessibility audit, which injects axe-core into the page.
    bypassCSP: options.bypassCSP ?? false,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A subscription socket closed as the page goes away is not a failed load.
    if (!request.url().startsWith('ws')) problems.push(`request failed: ${request.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  await page.goto(url);
  return { page, problems };
}

/** Saves a screenshot of the page as test/artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** The little of the DOM the wait functions below use (test/ compiles without the DOM lib). */
interface PageGlobals {
  readonly document: { querySelector(selector: string): { textContent: string | null } | null };
}

/**
 * Waits until the element at `selector` contains every one of `texts` (the page's own state,
 * polled by Playwright in the page; bounded by Playwright's timeout).
 */
export async function waitForText(
  page: Page,
  selector: string,
  texts: readonly string[],
  timeout = 20_000,
): Promise<void> {
  try {
    await page.waitForFunction(
      ({ selector, texts }) => {
        const { document } = globalThis as unknown as PageGlobals;
        const text = document.querySelector(selector)?.textContent ?? '';
        return texts.every((t) => text.includes(t));
      },
      { selector, texts },
      { timeout },
    );
  } catch (error) {
    // Say what the page showed instead, so a failure reads without a screenshot.
    const shown = await page
      .locator(selector)
      .first()
      .textContent({ timeout: 1_000 })
      .catch(() => null);
    throw new Error(
      `expected ${selector} to contain ${JSON.stringify(texts)} within ${timeout} ms; it shows ${JSON.stringify(shown?.slice(0, 1_000) ?? null)}`,
      { cause: error },
    );
  }
}

/** One accessibility rule a page breaks, as axe-core reports it. */
export interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * Runs axe-core (WCAG 2.1 A and AA rules) on the page as it is now and returns the serious and
 * critical violations: unlabelled controls, missing names, contrast, keyboard traps. The page
 * must have been opened with `bypassCSP` (axe is injected as a script).
 */
export async function audit(page: Page, exclude: readonly string[] = []): Promise<Violation[]> {
  const axe = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  await page.addScriptTag({ path: axe });
  const violations = await page.evaluate(async (exclude) => {
    const run = (
      globalThis as unknown as {
        axe: {
          run(
            context: unknown,
            options: unknown,
          ): Promise<{
            violations: {
              id: string;
              impact: string | null;
              help: string;
              nodes: { target: string[] }[];
            }[];
          }>;
        };
      }
    ).axe.run;
    const result = await run(
      { exclude: exclude.map((selector) => [selector]) },
      { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } },
    );
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  }, exclude);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
