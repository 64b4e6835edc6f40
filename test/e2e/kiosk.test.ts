/**
 * Front-desk (kiosk) mode end to end in Debian's Chromium through the browser host: a whole
 * transfer to the reference portal backed by a real Orthanc, then "Next person". Afterwards no
 * file in the app's data folder or in the temporary folder holds the person's name, ID or UIDs,
 * no new file of theirs is left, the page shows nothing of them, and the disc was ejected.
 * The inactivity reset runs with a short setting: its countdown is cancelled by a key, then runs
 * out and the app returns to the start.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningPortal } from '../../portal/server.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { missingOrthanc, type RunningOrthanc } from '../support/orthanc.ts';
import {
  filesContaining,
  instanceUids,
  listFiles,
  personalValues,
} from '../support/person-files.ts';
import { skipFor } from '../support/tools.ts';
import type { PageGlobals } from './page-types.ts';
import {
  createTestLink,
  expectAccessible,
  missingChromium,
  openLink,
  opticalDrive,
  readDisc,
  snap,
  startRigWithOrthanc,
  type E2eRig,
} from './support.ts';

const skip = skipFor(missingChromium() ?? missingDicomTools(['dcmmkdir']) ?? missingOrthanc());
const PATIENT_NAME = 'NIGHTINGALE^PERPETUA';

describe.skipIf(skip)('kiosk mode in a browser', () => {
  let rig: E2eRig;
  let orthanc: RunningOrthanc;
  let portal: RunningPortal;
  let privateTmp: string;
  let previousTmp: string | undefined;
  let mediaRoot: string;
  let birthDate: string;
  let sopInstanceUids: string[];
  let personal: string[];

  beforeAll(async () => {
    ({ rig, orthanc, portal } = await startRigWithOrthanc('kiosk', {
      staffPassword: 'e2e-kiosk-password',
      verifyRetryMs: 200,
    }));
    // The disc's folder carries her name too: a path kept anywhere would be found.
    const media = await makeMedia({
      outDir: path.join(rig.work, 'NIGHTINGALE_PERPETUA'),
      patients: 1,
      studiesPerPatient: 2,
      seriesPerStudy: 1,
      instancesPerSeries: 4,
      rows: 32,
      columns: 32,
      patientNames: [PATIENT_NAME],
      extras: true,
      seed: 1820,
    });
    mediaRoot = media.root;
    const { patient } = await readDisc(mediaRoot);
    birthDate = patient.birthDate;
    sopInstanceUids = instanceUids(patient);
    personal = ['NIGHTINGALE', 'PERPETUA', ...personalValues(patient), mediaRoot];
    // From here on, whatever the app writes to the temporary folder lands in a folder of its own.
    privateTmp = await mkdtemp(path.join(rig.work, 'tmp-'));
    previousTmp = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
  });

  afterAll(async () => {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    await rig?.close();
  });

  function createLink(): string {
    return createTestLink(portal, {
      patientName: PATIENT_NAME,
      birthDate,
      email: 'perpetua@example.org',
    });
  }

  async function openKiosk(kioskIdleSeconds: number, options: { fakeClock?: boolean } = {}) {
    const dataDir = await mkdtemp(path.join(rig.work, 'host-'));
    let inDrive = true;
    const drive = opticalDrive(mediaRoot);
    const ejected: string[] = [];
    const host = await rig.startHost({
      dataDir,
      kiosk: true,
      kioskIdleSeconds,
      drives: {
        list: async () => (inDrive ? [drive] : []),
        eject: async (which) => {
          ejected.push(which.id);
          inDrive = false;
        },
      },
    });
    const { page, problems } = await rig.openPage(host.url, {
      // The page's clock, when faked, runs as usual until the test pauses it (Playwright's clock).
      ...(options.fakeClock ? { beforeGoto: (opened: Page) => opened.clock.install() } : {}),
    });
    await page.getByRole('heading', { name: 'Open your upload link' }).waitFor();
    return { page, host, dataDir, ejected, problems };
  }

  async function openLinkAndDisc(page: Page): Promise<void> {
    await openLink(page, createLink());
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('button', { name: 'Read PACS CD' }).click();
    await page.getByRole('heading', { name: 'Choose what to send' }).waitFor();
  }

  it('sends to Orthanc, ejects the disc, and leaves nothing of her after "Next person"', async () => {
    const { page, dataDir, ejected, problems } = await openKiosk(600);
    const before = [...(await listFiles(dataDir)), ...(await listFiles(privateTmp))];
    await openLinkAndDisc(page);
    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByRole('heading', { name: 'Check what will be sent' }).waitFor();
    await page.getByRole('img').first().waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Continue: send' }).click();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByRole('heading', { name: 'Transfer status' }).waitFor({ timeout: 60_000 });
    await page
      .getByText('The images are available to', { exact: false })
      .first()
      .waitFor({ timeout: 60_000 });
    await page
      .getByText(`Received: ${sopInstanceUids.length} of ${sopInstanceUids.length}`)
      .waitFor();
    // Every image is in the PACS.
    await vi.waitFor(
      async () => expect(new Set(await orthanc.listInstances())).toEqual(new Set(sopInstanceUids)),
      { timeout: 10_000, interval: 250 },
    );
    // The disc came from a drive: it was ejected once the images were sent.
    await vi.waitFor(() => expect(ejected).toEqual(['/dev/sr0']), { timeout: 10_000 });
    expect(await page.getByRole('button', { name: 'Eject the disc' }).count()).toBe(0);
    await page.getByText('The disc was ejected. You can take it out.').first().waitFor();
    // Her upload journal is on disk until the reset.
    const journals = (await readdir(path.join(dataDir, 'uploads'))).filter((name) =>
      name.endsWith('.journal'),
    );
    expect(journals.length).toBeGreaterThan(0);
    await snap(page, 'kiosk-e2e-1-status');
    await expectAccessible(page, 'kiosk status with next person');

    await page.getByRole('button', { name: 'Next person' }).click();
    await page.getByRole('heading', { name: 'Open your upload link' }).waitFor();
    await vi.waitFor(async () =>
      expect(await listFiles(path.join(dataDir, 'uploads'))).toEqual([]),
    );
    await snap(page, 'kiosk-e2e-2-next-person');

    const after = [...(await listFiles(dataDir)), ...(await listFiles(privateTmp))];
    // journal.key is the computer's key (random bytes), not hers; tsx-* is the test loader's
    // compile cache of Ferry's source. Both are searched for her values below all the same.
    expect(after.filter((f) => !before.includes(f) && !f.startsWith('tsx-'))).toEqual([
      'journal.key',
    ]);
    expect(await filesContaining(dataDir, personal)).toEqual([]);
    expect(await filesContaining(privateTmp, personal)).toEqual([]);
    // Nor in the page, its storage, or after a reload.
    const pageText = await page.evaluate(() => {
      const { document, localStorage, sessionStorage } = globalThis as unknown as PageGlobals;
      return [
        document.body.innerText,
        JSON.stringify({ ...localStorage }),
        JSON.stringify({ ...sessionStorage }),
      ].join('\n');
    });
    for (const value of ['NIGHTINGALE', 'Nightingale', 'PERPETUA', 'Perpetua', ...personal]) {
      expect(pageText).not.toContain(value);
    }
    await page.reload();
    await page.getByRole('heading', { name: 'Open your upload link' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Upload link' }).inputValue()).toBe('');
    expect(problems).toEqual([]);
  });

  it('warns after inactivity, a key cancels the countdown, and then it returns to the start', async () => {
    // The page's clock is paused and moved by hand: the countdown waits for axe and screenshots.
    const { page, problems } = await openKiosk(60, { fakeClock: true });
    await openLinkAndDisc(page);
    await page.clock.pauseAt(Date.now() + 1000);
    const dialog = page.getByRole('alertdialog', { name: 'Are you still there?' });
    // The idle time counts from the last input, a second or two before the clock was paused.
    await page.clock.runFor(55_000);
    expect(await dialog.count()).toBe(0);
    await page.clock.runFor(6_000);
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/goes back to the start in (2[6-9]|30) seconds/u);
    await page.clock.runFor(10_000);
    expect(await dialog.textContent()).toMatch(/goes back to the start in (1[6-9]|20) seconds/u);
    await snap(page, 'kiosk-e2e-3-idle-warning');
    // axe waits on timers of its own: the clock runs for it (about 20 seconds are left).
    await page.clock.resume();
    await expectAccessible(page, 'kiosk idle warning');
    // Any key cancels; the person stays where they were.
    await page.keyboard.press('Shift');
    await dialog.waitFor({ state: 'hidden' });
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    await page.clock.runFor(30_000);
    expect(await dialog.count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Choose what to send' }).count()).toBe(1);
    // She switches to Spanish, then leaves: the warning comes back (in Spanish) after the idle
    // time and runs out. The next person starts in the computer's language (English here), and
    // her choice is not remembered for the next start.
    await page.getByTestId('language').selectOption('es');
    await page.getByRole('heading', { name: 'Elija qué enviar' }).waitFor();
    await page.clock.runFor(61_000);
    await page.getByRole('alertdialog', { name: '¿Sigue usted ahí?' }).waitFor();
    await page.clock.runFor(31_000);
    await page.getByRole('heading', { name: 'Open your upload link' }).waitFor();
    const remembered = await page.evaluate(
      () => (globalThis as unknown as PageGlobals).localStorage['ferry.language'],
    );
    expect(remembered).toBeUndefined();
    expect(await page.getByText('Nightingale', { exact: false }).count()).toBe(0);
    expect(await page.getByText('NIGHTINGALE', { exact: false }).count()).toBe(0);
    // On the empty start screen there is nothing to end, so no warning comes.
    await page.clock.runFor(10 * 60_000);
    expect(await dialog.count()).toBe(0);
    // The core forgot the link too: a reload starts empty.
    await page.clock.resume();
    await page.reload();
    await page.getByRole('heading', { name: 'Open your upload link' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Upload link' }).inputValue()).toBe('');
    expect(problems).toEqual([]);
  });
});
