/**
 * The whole flow in Spanish, end to end in Debian's Chromium with a Spanish system language: link,
 * disc, studies, preview (de-identified, with its before-and-after table), sending to the
 * reference portal backed by a real Orthanc, and the portal's status. On every screen: Spanish
 * text is asserted, no known English sentence of the interface is left (en.ts), axe finds no
 * serious problem, and a screenshot is kept.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupportBundleView } from '../../main/core/api.ts';
import type { RunningHost } from '../../main/host/server.ts';
import type { RunningPortal } from '../../portal/server.ts';
import { en, type MessageKey } from '../../renderer/i18n/en.ts';
import { es } from '../../renderer/i18n/es.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { missingOrthanc, type RunningOrthanc } from '../support/orthanc.ts';
import { skipFor } from '../support/tools.ts';
import type { PageGlobals } from './page-types.ts';
import {
  createTestLink,
  expectAccessible,
  missingChromium,
  opticalDrive,
  readDisc,
  snap,
  startRigWithOrthanc,
  type E2eRig,
} from './support.ts';

const skip = skipFor(missingChromium() ?? missingDicomTools(['dcmmkdir']) ?? missingOrthanc());

/** A Spanish sentence without its parameters: the text before the first `{`. */
const lead = (key: MessageKey): string => es[key].split('{')[0]!.trim();
const fill = (key: MessageKey, params: Record<string, string>): string =>
  es[key].replace(/\{(\w+)\}/gu, (whole, name: string) => params[name] ?? whole);

/**
 * The interface's English sentences that Spanish says differently: every literal stretch of three
 * words or more in en.ts (parameters and plural forms cut out).
 */
function englishSentences(): string[] {
  const found = new Set<string>();
  for (const key of Object.keys(en) as MessageKey[]) {
    if (en[key] === es[key]) continue;
    for (const part of en[key].split(/[{}]/u)) {
      const text = part.trim();
      if (text.includes('plural') || text.split(/\s+/u).length < 3 || text.length < 12) continue;
      if (es[key].includes(text)) continue;
      found.add(text);
    }
  }
  return [...found];
}

describe.skipIf(skip)('the flow in Spanish', () => {
  let rig: E2eRig;
  let orthanc: RunningOrthanc;
  let portal: RunningPortal;
  let host: RunningHost;
  let disc: { root: string; patientName: string; birthDate: string; instances: number };
  const english = englishSentences();

  beforeAll(async () => {
    ({ rig, orthanc, portal } = await startRigWithOrthanc('es', {
      staffPassword: 'e2e-es-password',
      verifyRetryMs: 200,
    }));
    const media = await makeMedia({
      outDir: path.join(rig.work, 'disc'),
      patients: 1,
      studiesPerPatient: 2,
      seriesPerStudy: 1,
      instancesPerSeries: 3,
      rows: 32,
      columns: 32,
      specificCharacterSet: 'ISO_IR 192',
      patientNames: ['Muñoz^María José'],
      extras: true,
      seed: 34,
    });
    disc = await readDisc(media.root);
    host = await rig.startHost({ drives: [opticalDrive(media.root)] });
  });

  afterAll(async () => {
    await rig?.close();
  });

  /** Spanish on the screen, no English sentence of the interface, axe clean, a screenshot. */
  async function checkScreen(page: Page, name: string, spanish: readonly string[]): Promise<void> {
    expect(await page.locator('html').getAttribute('lang')).toMatch(/^es/u);
    // Open the step's help too, so its text is checked as well.
    const help = page.getByTestId('step-help');
    if ((await help.count()) > 0 && !(await help.evaluate((el) => el.hasAttribute('open')))) {
      await help.locator('summary').click();
    }
    const shown = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const labels = [...document.querySelectorAll('[aria-label],[title],[placeholder],[alt]')]
        .flatMap((el) =>
          ['aria-label', 'title', 'placeholder', 'alt'].map((a) => el.getAttribute(a)),
        )
        .filter((value): value is string => value !== null);
      return [document.body.innerText, document.title, ...labels].join('\n');
    });
    for (const text of [...spanish, lead('help.summary'), es['help.saveSupport']]) {
      expect(shown, `${name}: ${text}`).toContain(text);
    }
    const leftovers = english.filter((sentence) => shown.includes(sentence));
    expect(leftovers, `${name}: English left on the screen`).toEqual([]);
    await snap(page, `spanish-flow-${name}`);
    await expectAccessible(page, `${name} (es)`);
  }

  it('goes from the link to the portal status in Spanish', async () => {
    // A list long enough to matter: the check is only as good as its list.
    expect(english.length).toBeGreaterThan(100);
    const { page, problems } = await rig.openPage(host.url, { locale: 'es-ES' });
    await page.getByRole('heading', { name: es['link.title'] }).waitFor();
    await checkScreen(page, '1-link', [es['link.intro'], es['link.field'], es['link.fieldHelp']]);

    const link = createTestLink(
      portal,
      { patientName: disc.patientName, birthDate: disc.birthDate, email: 'maria@example.org' },
      {
        provider: 'Dra. Ada Lovelace',
        department: 'Neurología',
        organization: 'Hospital Ejemplo',
        expiresInMs: 7 * 86_400_000,
        policy: { kind: 'basic', options: [] },
      },
    );
    await page.getByRole('textbox', { name: es['link.field'] }).fill(link);
    await page.getByRole('button', { name: es['link.open'] }).click();
    await page.getByRole('heading', { name: es['link.expectsTitle'] }).waitFor();
    await checkScreen(page, '2-link-details', [
      es['link.provider'],
      es['link.policy'],
      lead('policy.basic'),
      'María José Muñoz',
    ]);

    await page.getByRole('button', { name: es['link.continue'] }).click();
    await page.getByRole('heading', { name: es['media.title'] }).waitFor();
    await checkScreen(page, '3-media', [
      es['media.intro'],
      es['media.drives'],
      es['media.kind.optical'],
    ]);

    await page.getByRole('button', { name: fill('media.readDrive', { label: 'PACS CD' }) }).click();
    await page.getByRole('heading', { name: es['studies.title'] }).waitFor();
    await page.getByText(es['studies.identityMatch']).waitFor();
    await checkScreen(page, '4-studies', [es['studies.identityMatch'], es['studies.findings']]);

    await page.getByRole('button', { name: es['studies.continue'] }).click();
    await page.getByRole('heading', { name: es['preview.title'] }).waitFor();
    await page.getByTestId('thumbnail').first().waitFor();
    const table = page.getByRole('table').first();
    await table.waitFor();
    // The table says what de-identification does, in Spanish; the name is on the disc side only.
    const nameRow = table.getByRole('row', { name: /Patient.?s? Name/u }).first();
    await nameRow.waitFor();
    expect(await nameRow.textContent()).toContain('Muñoz^María José');
    await checkScreen(page, '5-preview', [
      es['preview.intro'],
      es['preview.col.before'],
      es['preview.col.after'],
    ]);

    await page.getByRole('button', { name: es['preview.continue'] }).click();
    await page.getByRole('heading', { name: es['upload.title'] }).waitFor();
    await checkScreen(page, '6-upload', [lead('upload.ready'), es['upload.start']]);
    await page.getByRole('button', { name: es['upload.start'] }).click();

    await page.getByRole('heading', { name: es['status.title'] }).waitFor({ timeout: 60_000 });
    const available = fill('portal.available', { provider: 'Dra. Ada Lovelace (Neurología)' });
    await page.getByText(available, { exact: false }).first().waitFor({ timeout: 60_000 });
    await checkScreen(page, '7-status', [
      es['status.reference'],
      es['status.timeline'],
      es['status.final'],
      available,
    ]);
    // The portal stored every image in Orthanc.
    expect((await orthanc.listInstances()).length).toBe(disc.instances);

    // The support file from the help area: saved as JSON, Spanish noted, nothing of María.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: es['help.saveSupport'] }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^ferry-support-.*\.json$/u);
    const saved = await readFile(await download.path(), 'utf8');
    const bundle = JSON.parse(saved) as SupportBundleView;
    expect(bundle).toMatchObject({ format: 'dicom-ferry-support', settings: { language: 'es' } });
    expect(bundle.lastScan?.instances).toBe(disc.instances);
    for (const value of ['Muñoz', 'María', 'MUÑOZ', disc.birthDate, disc.root, 'Lovelace']) {
      expect(saved).not.toContain(value);
    }
    await page.getByText(es['help.supportSaved']).waitFor();

    await page.getByRole('button', { name: es['nav.history'] }).click();
    await page.getByRole('heading', { name: es['history.title'] }).waitFor();
    await checkScreen(page, '8-history', [es['history.caption']]);
    expect(problems).toEqual([]);
  });
});
