/**
 * Text up to 200% without loss (WCAG 1.4.4, 1.4.10): every screen of the flow with the page's
 * text at 200%, and again at a 640-pixel-wide window at twice the pixel density (a 1280-pixel
 * screen zoomed to 200%), in English and in Spanish (the longer words). Nothing may overflow
 * sideways: the page, the header, the main region and the step's help all fit their width, and
 * no element reaches past the window's right edge. Screenshots of each screen are kept.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriveView } from '../../main/core/api.ts';
import type { RunningPortal } from '../../portal/server.ts';
import { en, type MessageKey } from '../../renderer/i18n/en.ts';
import { es } from '../../renderer/i18n/es.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { skipFor } from '../support/tools.ts';
import type { PageElement, PageGlobals } from './page-types.ts';
import {
  createTestLink,
  missingChromium,
  opticalDrive,
  readDisc,
  snap,
  startRig,
  startRigPortal,
  type E2eRig,
} from './support.ts';

const skip = skipFor(missingChromium() ?? missingDicomTools(['dcmmkdir']));

/** What sticks out sideways: regions wider than their box, elements past the window's edge. */
async function overflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    const describe = (el: PageElement): string =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${
        typeof el.className === 'string' && el.className ? `.${el.className.split(' ')[0]}` : ''
      }`;
    const problems: string[] = [];
    const regions = document.querySelectorAll(
      'html, body, .app-header, main, main > section, .step-help, .dialog',
    );
    for (const region of regions) {
      if (region.scrollWidth > region.clientWidth + 1) {
        problems.push(
          `${describe(region)} is ${region.scrollWidth}px wide in ${region.clientWidth}px`,
        );
      }
    }
    const width = document.documentElement.clientWidth;
    for (const el of document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      // Inside a box that scrolls on its own (a wide table), sticking out is that box's business.
      if (el.closest('.table-scroll') && !el.classList.contains('table-scroll')) continue;
      // Text for screen readers only is clipped to one pixel: nothing sticks out on screen.
      if (el.closest('.visually-hidden')) continue;
      if (box.right > width + 1) {
        const text = (el.textContent ?? '').trim().slice(0, 40);
        problems.push(`${describe(el)} "${text}" reaches ${Math.round(box.right)}px of ${width}px`);
      }
    }
    return problems.slice(0, 10);
  });
}

describe.skipIf(skip)('text at 200%', () => {
  let rig: E2eRig;
  let portal: RunningPortal;
  let disc: { patientName: string; birthDate: string };
  let drives: DriveView[];

  beforeAll(async () => {
    rig = await startRig('zoom');
    portal = await startRigPortal(rig, {
      staffPassword: 'e2e-zoom-password',
      verifyRetryMs: 100,
    });
    const media = await makeMedia({
      outDir: path.join(rig.work, 'disc'),
      patients: 1,
      studiesPerPatient: 2,
      seriesPerStudy: 1,
      instancesPerSeries: 2,
      rows: 16,
      columns: 16,
      patientNames: ['WOLFESCHLEGELSTEINHAUSEN^HUBERT BLAINE'],
      extras: true,
      seed: 200,
    });
    disc = await readDisc(media.root);
    drives = [opticalDrive(media.root)];
  });

  afterAll(async () => {
    await rig?.close();
  });

  const cases = [
    { name: 'en-text200', locale: 'en-US', width: 1280, scale: 1, fontSize: '200%' },
    { name: 'es-zoom200', locale: 'es-ES', width: 640, scale: 2, fontSize: '' },
  ] as const;

  for (const setting of cases) {
    it(`fits every screen: ${setting.name}`, async () => {
      const strings: Record<MessageKey, string> = setting.locale === 'es-ES' ? es : en;
      // A host of its own: the link opened by the other case would be remembered.
      const host = await rig.startHost({ drives });
      const { page, problems } = await rig.openPage(host.url, {
        locale: setting.locale,
        viewport: { width: setting.width, height: 900 },
        deviceScaleFactor: setting.scale,
      });
      await page.getByRole('heading', { name: strings['link.title'] }).waitFor();
      if (setting.fontSize) {
        await page.evaluate((size) => {
          const { document } = globalThis as unknown as PageGlobals;
          document.documentElement.style.fontSize = size;
        }, setting.fontSize);
      }
      const check = async (screen: string): Promise<void> => {
        // The help is open so its text is measured as well.
        const help = page.getByTestId('step-help');
        if ((await help.count()) > 0 && !(await help.evaluate((el) => el.hasAttribute('open')))) {
          await help.locator('summary').click();
        }
        await snap(page, `large-text-${setting.name}-${screen}`);
        expect(await overflow(page), `${setting.name} ${screen}`).toEqual([]);
      };
      await check('1-link');
      const link = createTestLink(
        portal,
        { patientName: disc.patientName, birthDate: disc.birthDate, email: 'hubert@example.org' },
        {
          department: 'Interventional Neuroradiology',
          organization: 'St. Example University Hospital and Research Institute',
          policy: { kind: 'basic', options: [] },
        },
      );
      await page.getByRole('textbox', { name: strings['link.field'] }).fill(link);
      await check('1b-link-typed');
      await page.getByRole('button', { name: strings['link.open'] }).click();
      await page.getByRole('heading', { name: strings['link.expectsTitle'] }).waitFor();
      await check('2-link-details');
      await page.getByRole('button', { name: strings['link.continue'] }).click();
      await page.getByRole('heading', { name: strings['media.title'] }).waitFor();
      await check('3-media');
      await page
        .getByRole('button', { name: strings['media.readDrive'].replace('{label}', 'PACS CD') })
        .click();
      await page.getByRole('heading', { name: strings['studies.title'] }).waitFor();
      await page.getByText(strings['studies.identityMatch']).waitFor();
      await check('4-studies');
      await page.getByRole('button', { name: strings['studies.continue'] }).click();
      await page.getByRole('heading', { name: strings['preview.title'] }).waitFor();
      await page.getByTestId('thumbnail').first().waitFor();
      await page.getByRole('table').first().waitFor();
      await check('5-preview');
      await page.getByRole('button', { name: strings['preview.continue'] }).click();
      await page.getByRole('heading', { name: strings['upload.title'] }).waitFor();
      await check('6-upload');
      await page.getByRole('button', { name: strings['upload.start'] }).click();
      await page
        .getByRole('heading', { name: strings['status.title'] })
        .waitFor({ timeout: 60_000 });
      await page.getByTestId('reference').waitFor();
      await page.getByText(strings['status.final']).waitFor({ timeout: 60_000 });
      await check('7-status');
      expect(problems).toEqual([]);
      await page.close();
    });
  }
});
