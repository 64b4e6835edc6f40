/**
 * End-to-end pieces: the renderer built fresh into a temporary folder, the browser host on a free
 * loopback port, Debian's Chromium through playwright-core (never a downloaded browser),
 * screenshots under test-results/e2e, and axe-core injected into each screen.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(root, 'test-results', 'e2e');

export const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';

export function missingChromium(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `needs ${CHROMIUM} (Debian: apt-get install chromium)`;
}

/** Builds the renderer with the project's vite config into a fresh folder. */
export async function buildRenderer(): Promise<{ dir: string; dispose(): Promise<void> }> {
  const { build } = await import('vite');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-renderer-'));
  await build({
    configFile: path.join(root, 'vite.config.ts'),
    root: path.join(root, 'renderer'),
    logLevel: 'error',
    build: { outDir: dir, emptyOutDir: true },
  });
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function snap(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core on the page as it is: serious and critical violations fail the test. Injected through
 * the DevTools protocol (page.evaluate), which the page's CSP does not govern, so the page's own
 * CSP stays in force.
 */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const hasAxe = await page.evaluate(
    () => typeof (globalThis as { axe?: unknown }).axe !== 'undefined',
  );
  if (!hasAxe) await page.evaluate(axeSource);
  const violations = (await page.evaluate(async () => {
    const page = globalThis as unknown as {
      axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> };
      document: unknown;
    };
    const result = await page.axe.run(page.document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  })) as AxeViolation[];
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${screen}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
}

/** Collects what the page logs as errors (CSP violations show up here). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}
