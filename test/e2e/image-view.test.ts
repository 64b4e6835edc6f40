/**
 * The image view in Debian's Chromium through the browser host, against the reference portal:
 * pydicom's multi-frame RT Dose and a generated CT inside a zip on the disc, under a link that
 * de-identifies (the view shows the bytes that will be sent). Opened from a thumbnail with the
 * keyboard; frames by keys, wheel and slider; window by drag and keys; zoom; screenshots to
 * test-results/e2e and axe-core on each state.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanMedia } from '../../main/core/media/scan.ts';
import type { RunningPortal } from '../../portal/server.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../support/tools.ts';
import {
  createTestLink,
  expectAccessible,
  missingChromium,
  openLink,
  SCREENSHOT_DIR,
  snap,
  startRig,
  startRigPortal,
  type E2eRig,
} from './support.ts';

const skip = skipFor(missingChromium() ?? missingPydicom() ?? missingDicomTools(['dcmdump']));

describe.skipIf(skip)('the image view in a browser', () => {
  let rig: E2eRig;
  let portal: RunningPortal;
  let disc: string;
  let patient: { name: string; birthDate: string };

  beforeAll(async () => {
    rig = await startRig('image');
    const work = rig.work;
    portal = await startRigPortal(rig, { staffPassword: 'e2e-staff-password' });
    // The disc: pydicom's RT Dose (15 frames) loose, and a CT series of the same patient that
    // exists only inside STUDIES.ZIP.
    disc = path.join(work, 'disc');
    await mkdir(path.join(disc, 'DOSE'), { recursive: true });
    await copyFile(path.join(pydicomTestFiles(), 'rtdose.dcm'), path.join(disc, 'DOSE', 'RTDOSE'));
    const dose = (await scanMedia(disc)).patients[0]!;
    patient = { name: dose.patientName, birthDate: dose.birthDate || '19700101' };
    const zipped = await makeMedia({
      outDir: path.join(work, 'zipped'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 3,
      rows: 96,
      columns: 128,
      modalities: ['CT'],
      patientNames: [patient.name],
      withDicomdir: false,
      extras: false,
      zip: true,
      seed: 31,
    });
    await copyFile(path.join(zipped.root, 'STUDIES.ZIP'), path.join(disc, 'STUDIES.ZIP'));
  });

  afterAll(async () => {
    await rig?.close();
  });

  /** A page walked to the preview of both studies, under a link that de-identifies. */
  async function openAtPreview(): Promise<{ page: Page; problems: string[] }> {
    const link = createTestLink(
      portal,
      { patientName: patient.name, birthDate: patient.birthDate, email: 'patient@example.org' },
      { department: 'Radiation Oncology', policy: { kind: 'basic', options: [] } },
    );
    // A host of its own: nothing (the link, the scan) carries over from another test.
    const host = await rig.startHost();
    const opened = await rig.openPage(host.url);
    const { page } = opened;
    await openLink(page, link);
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('textbox', { name: 'Folder or drive path' }).fill(disc);
    await page.getByRole('button', { name: 'Read this folder' }).click();
    await page.getByRole('heading', { name: 'Choose what to send' }).waitFor();
    // The identity check has run (it unticks the other birth date's study by default).
    await page.getByTestId('identity-warning').waitFor();
    // Both studies; the generated CT carries a birth date the link does not expect, so its
    // patient is confirmed as the same person (that checkbox appears once the study is chosen).
    for (let pass = 0; pass < 2; pass++) {
      for (const box of await page.getByRole('checkbox').all()) {
        if (!(await box.isChecked())) await box.check();
      }
    }
    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByRole('heading', { name: 'Check what will be sent' }).waitFor();
    return opened;
  }

  /** The displayed image's PNG, decoded by the page: mean grey level (0-255). */
  async function meanGrey(page: Page): Promise<number> {
    return page.getByTestId('image-view-image').evaluate(async (element) => {
      const img = element as unknown as {
        src: string;
        decode(): Promise<void>;
        naturalWidth: number;
        naturalHeight: number;
      };
      await img.decode();
      const doc = (globalThis as unknown as { document: { createElement(n: string): unknown } })
        .document;
      const canvas = doc.createElement('canvas') as {
        width: number;
        height: number;
        getContext(kind: string): {
          drawImage(image: unknown, x: number, y: number): void;
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(img, 0, 0);
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += data[i]!;
      return sum / (data.length / 4);
    });
  }

  /** The whole page, and the image view alone at full size (easier to look at). */
  async function snapView(page: Page, name: string): Promise<void> {
    await snap(page, name);
    await page
      .getByTestId('image-view')
      .screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-view.png`) });
  }

  async function imageSource(page: Page): Promise<string> {
    return (await page.getByTestId('image-view-image').getAttribute('src')) ?? '';
  }

  it('opens a multi-frame image from its thumbnail and pages, windows and zooms it', async () => {
    const { page, problems } = await openAtPreview();
    const dose = page.getByRole('button', { name: /^Show RTDOSE series/u });
    await dose.waitFor();
    await snap(page, 'image-view-0-thumbnails');

    // Keyboard: focus the thumbnail and press Enter.
    await dose.focus();
    await page.keyboard.press('Enter');
    const viewer = page.getByRole('application', { name: /^Image viewer: RTDOSE/u });
    await viewer.waitFor();
    await page.getByTestId('image-view-image').waitFor();
    expect(await dose.getAttribute('aria-expanded')).toBe('true');
    expect(
      await viewer.evaluate(
        (el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement,
      ),
    ).toBe(true);
    const readout = page.getByTestId('frame-readout');
    expect(await readout.textContent()).toBe('Frame 1 of 15');
    const status = page.locator('.image-view [role=status]');
    await expect.poll(() => status.textContent()).toContain('Frame 1 of 15');
    await snapView(page, 'image-view-1-open');
    await expectAccessible(page, 'image view');

    // Frames by keyboard: PageDown twice, ArrowLeft once, End, Home.
    const first = await imageSource(page);
    await page.keyboard.press('PageDown');
    await page.keyboard.press('PageDown');
    await page.keyboard.press('ArrowLeft');
    expect(await readout.textContent()).toBe('Frame 2 of 15');
    await expect.poll(() => status.textContent()).toContain('Frame 2 of 15');
    expect(await imageSource(page)).not.toBe(first);
    await page.keyboard.press('End');
    expect(await readout.textContent()).toBe('Frame 15 of 15');
    await expect.poll(() => status.textContent()).toContain('Frame 15 of 15');
    await page.keyboard.press('Home');
    await expect.poll(() => status.textContent()).toContain('Frame 1 of 15');
    // The slider says the same, and moves the frame too.
    const slider = page.getByRole('slider', { name: 'Frame' });
    expect(await slider.getAttribute('aria-valuetext')).toBe('Frame 1 of 15');
    await slider.fill('8');
    expect(await readout.textContent()).toBe('Frame 8 of 15');
    // The wheel pages forward.
    await viewer.hover();
    await page.mouse.wheel(0, 240);
    await expect.poll(() => readout.textContent()).not.toBe('Frame 8 of 15');
    await snapView(page, 'image-view-2-frames');

    // Window by drag: to the right widens (less contrast), down raises the centre (darker).
    const windowReadout = page.getByTestId('window-readout');
    await expect.poll(() => status.textContent()).toContain('Window centre');
    const before = await windowReadout.textContent();
    const greyBefore = await meanGrey(page);
    const boxOfViewer = (await viewer.boundingBox())!;
    const x = boxOfViewer.x + boxOfViewer.width / 2;
    const y = boxOfViewer.y + boxOfViewer.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let step = 1; step <= 10; step++) await page.mouse.move(x - step * 8, y + step * 12);
    await page.mouse.up();
    await expect.poll(() => windowReadout.textContent()).not.toBe(before);
    const resetButton = page.getByRole('button', { name: 'Reset contrast' });
    expect(await resetButton.isDisabled()).toBe(false);
    // Narrower and higher: the image gets darker once the last render lands.
    await expect.poll(() => page.locator('.image-view-viewport.busy').count()).toBe(0);
    await expect.poll(() => meanGrey(page)).toBeLessThan(greyBefore);
    await snapView(page, 'image-view-3-window-drag');

    // Window by keys: Shift+ArrowUp brightens; R resets to the file's own window.
    const dragged = await windowReadout.textContent();
    await viewer.focus();
    await page.keyboard.press('Shift+ArrowUp');
    await expect.poll(() => windowReadout.textContent()).not.toBe(dragged);
    await page.keyboard.press('r');
    await expect.poll(() => windowReadout.textContent()).toBe(before);
    expect(await resetButton.isDisabled()).toBe(true);

    // Zoom: buttons and keys; the image grows and fits again.
    const image = page.getByTestId('image-view-image');
    const fitted = (await image.boundingBox())!.width;
    await page.getByRole('button', { name: 'Zoom in' }).click();
    expect(await page.getByTestId('zoom-readout').textContent()).toBe('125 %');
    await viewer.focus();
    await page.keyboard.press('+');
    expect(await page.getByTestId('zoom-readout').textContent()).toBe('156 %');
    expect((await image.boundingBox())!.width).toBeGreaterThan(fitted * 1.5);
    // Alt+arrows move the zoomed image inside the viewer.
    const scrolled = () =>
      viewer.evaluate(
        (el) =>
          (el as unknown as { scrollLeft: number; scrollTop: number }).scrollLeft +
          (el as unknown as { scrollTop: number }).scrollTop,
      );
    expect(await scrolled()).toBe(0);
    await page.keyboard.press('Alt+ArrowRight');
    await page.keyboard.press('Alt+ArrowDown');
    await expect.poll(scrolled).toBeGreaterThan(0);
    expect(await page.getByTestId('frame-readout').textContent()).toBe(await readout.textContent());
    await snapView(page, 'image-view-4-zoomed');
    await expectAccessible(page, 'image view zoomed');
    await page.keyboard.press('0');
    expect(await page.getByTestId('zoom-readout').textContent()).toBe('100 %');
    expect(Math.abs((await image.boundingBox())!.width - fitted)).toBeLessThan(2);

    // Escape closes and gives the focus back to the thumbnail.
    await viewer.focus();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('image-view').count()).toBe(0);
    expect(
      await dose.evaluate(
        (el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement,
      ),
    ).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a CT that is only inside a zip on the disc, as it will be sent, in Spanish too', async () => {
    const { page, problems } = await openAtPreview();
    const ct = page.getByRole('button', { name: /^Show CT series/u });
    await ct.waitFor();
    await ct.click();
    await page.getByTestId('image-view-image').waitFor();
    expect(await page.getByTestId('frame-readout').textContent()).toBe('Frame 1 of 1');
    expect(await page.getByRole('slider', { name: 'Frame' }).isDisabled()).toBe(true);
    // The attribute table of the zipped instance is there too (de-identification ran on it).
    await page.getByRole('table').first().waitFor();
    await snapView(page, 'image-view-5-zip-ct');
    await expectAccessible(page, 'image view of a zip entry');

    await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
    await page.getByTestId('frame-readout').getByText('Fotograma 1 de 1').waitFor();
    await page.getByRole('button', { name: 'Más contraste' }).click();
    await expect
      .poll(() => page.getByTestId('window-readout').textContent())
      .toMatch(/^Ventana: centro/u);
    await snapView(page, 'image-view-6-spanish');
    await expectAccessible(page, 'image view in Spanish');
    expect(problems).toEqual([]);
    await page.close();
  });
});
