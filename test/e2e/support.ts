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
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { DriveView } from '../../main/core/api.ts';
import type { DriveSource } from '../../main/core/app-service/engines.ts';
import { scanMedia } from '../../main/core/media/scan.ts';
import { startHost, type HostOptions, type RunningHost } from '../../main/host/server.ts';
import type { RunningPortal } from '../../portal/server.ts';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc.ts';
import { startTestPortal } from '../support/portal.ts';

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

/**
 * One e2e file's surroundings: a temporary folder, the renderer built into it, Chromium, and the
 * browser hosts and servers the tests start. `close()` stops them all and removes the folder.
 */
export interface E2eRig {
  /** The temporary folder for this file's portal, discs and app data folders. */
  readonly work: string;
  readonly rendererDir: string;
  readonly browser: Browser;
  /** A browser host serving the renderer, with a fresh data folder under `work` unless given. */
  startHost(options?: RigHostOptions): Promise<RunningHost>;
  /** A page at `url` (default 1100 by 900), its console errors collected. */
  openPage(
    url: string,
    options?: BrowserContextOptions & { beforeGoto?: (page: Page) => Promise<void> },
  ): Promise<{ page: Page; problems: string[] }>;
  /** Something to stop on close, before the renderer and folder go (last added, first stopped). */
  defer(stop: () => Promise<void>): void;
  close(): Promise<void>;
}

export type RigHostOptions = Omit<HostOptions, 'rendererDir' | 'drives'> & {
  /** Fixed drives (ejecting does nothing), or a drive source of the test's own. Default: none. */
  readonly drives?: readonly DriveView[] | DriveSource;
};

export async function startRig(name: string): Promise<E2eRig> {
  const work = await mkdtemp(path.join(os.tmpdir(), `ferry-e2e-${name}-`));
  const stops: (() => Promise<void>)[] = [];
  const hosts: RunningHost[] = [];
  let renderer: Awaited<ReturnType<typeof buildRenderer>> | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    for (const host of hosts) await host.close();
    for (const stop of stops.reverse()) await stop();
    await renderer?.dispose();
    await rm(work, { recursive: true, force: true });
  };
  try {
    renderer = await buildRenderer();
    browser = await launchChromium();
  } catch (error) {
    await close();
    throw error;
  }
  const openedBrowser = browser;
  const rendererDir = renderer.dir;
  return {
    work,
    rendererDir,
    browser: openedBrowser,
    async startHost(options = {}) {
      const { drives = [], ...rest } = options;
      const host = await startHost({
        rendererDir,
        dataDir: await mkdtemp(path.join(work, 'host-')),
        drives: Array.isArray(drives)
          ? { list: async () => [...(drives as readonly DriveView[])], eject: async () => {} }
          : (drives as DriveSource),
        drivePollMs: 60_000,
        ...rest,
      });
      // A test may close its host early (to start the app again); the rig closes it only once.
      let closing: Promise<void> | undefined;
      const owned: RunningHost = { ...host, close: () => (closing ??= host.close()) };
      hosts.push(owned);
      return owned;
    },
    async openPage(url, options = {}) {
      const { beforeGoto, ...contextOptions } = options;
      const page = await openedBrowser.newPage({
        viewport: { width: 1100, height: 900 },
        ...contextOptions,
      });
      const problems = watchConsole(page);
      await beforeGoto?.(page);
      await page.goto(url);
      return { page, problems };
    },
    defer(stop) {
      stops.push(stop);
    },
    close,
  };
}

/** The reference portal (test/support/portal.ts) with its data under the rig's folder, stopped with it. */
export async function startRigPortal(
  rig: E2eRig,
  options: Parameters<typeof startTestPortal>[1],
): Promise<RunningPortal> {
  const portal = await startTestPortal(rig.work, options);
  rig.defer(() => portal.close());
  return portal;
}

/** Orthanc, stopped with the rig. */
export async function startRigOrthanc(rig: E2eRig): Promise<RunningOrthanc> {
  const orthanc = await startOrthanc();
  rig.defer(() => orthanc.dispose());
  return orthanc;
}

/** A rig with Orthanc and the reference portal archiving to it, both stopped with the rig. */
export async function startRigWithOrthanc(
  name: string,
  portalOptions: Omit<Parameters<typeof startTestPortal>[1], 'orthanc'>,
): Promise<{ rig: E2eRig; orthanc: RunningOrthanc; portal: RunningPortal }> {
  const rig = await startRig(name);
  try {
    const orthanc = await startRigOrthanc(rig);
    const portal = await startRigPortal(rig, { ...portalOptions, orthanc });
    return { rig, orthanc, portal };
  } catch (error) {
    await rig.close();
    throw error;
  }
}

export { createTestLink } from '../support/portal.ts';

/** A disc in the optical drive. */
export function opticalDrive(mountPath: string): DriveView {
  return { id: '/dev/sr0', label: 'PACS CD', mountPath, kind: 'optical' };
}

/** The disc's first patient as the scan reads it, and how many instances the disc holds. */
export async function readDisc(root: string) {
  const scanned = await scanMedia(root);
  const patient = scanned.patients[0]!;
  return {
    root,
    patient,
    patientName: patient.patientName,
    birthDate: patient.birthDate,
    instances: scanned.summary.instances,
  };
}

/** Pastes an upload link on the first screen and opens it (English labels). */
export async function openLink(page: Page, link: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Upload link' }).fill(link);
  await page.getByRole('button', { name: 'Open link' }).click();
}
