/**
 * Burned-in annotation masking end to end, in Debian's Chromium through the browser host,
 * against the reference portal and a real Orthanc: an ultrasound series (RLE-compressed by
 * dcmcrle, so the pixels must be decoded to be masked) is flagged, the user draws one rectangle
 * with the mouse and adds another with the keyboard, applies them to the series, sends, and the
 * instances Orthanc stored are black inside the rectangles and unchanged outside. The next time
 * the same kind of image is read, the saved template proposes the rectangles.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDicom } from '../../main/core/dicom/parse.ts';
import { getInteger, getText } from '../../main/core/dicom/values.ts';
import { decodeFrame } from '../../main/core/imaging/decode.ts';
import { scanMedia } from '../../main/core/media/scan.ts';
import type { RunningHost } from '../../main/host/server.ts';
import type { RunningPortal } from '../../portal/server.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { missingOrthanc, type RunningOrthanc } from '../support/orthanc.ts';
import { missingCommands, skipFor } from '../support/tools.ts';
import {
  createTestLink,
  expectAccessible,
  missingChromium,
  openLink,
  snap,
  startRigWithOrthanc,
  type E2eRig,
} from './support.ts';

const skip = skipFor(
  missingChromium() ??
    missingDicomTools(['dcmdump']) ??
    missingCommands({ dcmcrle: 'dcmtk' }) ??
    missingOrthanc(),
);

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** "Rectangle 1: 12 from the left, 8 from the top, 40 by 20 pixels" -> the rectangle. */
function rectFrom(text: string): Rect {
  const numbers = [...text.matchAll(/\d+/gu)].map((m) => Number(m[0]));
  const [, x, y, width, height] = numbers;
  return { x: x!, y: y!, width: width!, height: height! };
}

describe.skipIf(skip)('masking burned-in text in a browser, proven in Orthanc', () => {
  let rig: E2eRig;
  let orthanc: RunningOrthanc;
  let portal: RunningPortal;
  let host: RunningHost;
  /** The app's data folder (the mask templates live there). */
  let dataDir: string;
  let root: string;
  let patient: { name: string; birthDate: string };
  /** Source pixels by Instance Number (decoded from the RLE files on the disc). */
  const sources = new Map<
    number,
    { samples: ArrayLike<number>; columns: number; rows: number; sopInstanceUid: string }
  >();

  beforeAll(async () => {
    ({ rig, orthanc, portal } = await startRigWithOrthanc('mask', {
      staffPassword: 'e2e-staff-password',
      verifyRetryMs: 200,
    }));
    const media = await makeMedia({
      outDir: path.join(rig.work, 'ultrasound'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 2,
      rows: 120,
      columns: 160,
      modalities: ['US'],
      patientNames: ['DOE^JANE'],
      withDicomdir: false,
      extras: false,
      seed: 31,
    });
    root = media.root;
    // RLE Lossless on the disc: masking must decode, mask and send native pixels.
    for (const file of media.patients[0]!.studies[0]!.series[0]!.files) {
      const full = path.join(root, ...file.split('/'));
      execFileSync('dcmcrle', [full, `${full}.rle`], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(`${full}.rle`, full);
      const bytes = new Uint8Array(readFileSync(full));
      const parsed = parseDicom(bytes);
      expect(parsed.transferSyntaxUid).toBe('1.2.840.10008.1.2.5');
      const frame = await decodeFrame(bytes);
      if (frame.kind !== 'decoded') throw new Error(frame.reason);
      sources.set(getInteger(parsed.dataset, 0x00200013)!, {
        samples: frame.samples,
        columns: frame.columns,
        rows: frame.rows,
        sopInstanceUid: getText(parsed.dataset, 0x00080018)!,
      });
    }
    const scanned = (await scanMedia(root)).patients[0]!;
    patient = { name: scanned.patientName, birthDate: scanned.birthDate };
    dataDir = await mkdtemp(path.join(rig.work, 'host-'));
    host = await rig.startHost({ dataDir });
  });

  afterAll(async () => {
    await rig?.close();
  });

  /** Counts the pixels of an instance Orthanc holds: inside the rectangles not 0, outside changed. */
  async function checkStored(orthancId: string, rects: readonly Rect[]) {
    const response = await fetch(`${orthanc.url}/instances/${orthancId}/file`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const parsed = parseDicom(bytes);
    expect(parsed.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    const frame = await decodeFrame(bytes);
    if (frame.kind !== 'decoded') throw new Error(frame.reason);
    const source = sources.get(getInteger(parsed.dataset, 0x00200013)!)!;
    expect([frame.columns, frame.rows]).toEqual([source.columns, source.rows]);
    let inside = 0;
    let insideNonZero = 0;
    let outsideChanged = 0;
    for (let row = 0; row < frame.rows; row++) {
      for (let column = 0; column < frame.columns; column++) {
        const i = row * frame.columns + column;
        const covered = rects.some(
          (r) => column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height,
        );
        if (covered) {
          inside++;
          if (frame.samples[i] !== 0) insideNonZero++;
        } else if (frame.samples[i] !== source.samples[i]) {
          outsideChanged++;
        }
      }
    }
    return { dataset: parsed.dataset, inside, insideNonZero, outsideChanged };
  }

  function createLink(policy: 'basic' | 'none' = 'basic'): string {
    return createTestLink(
      portal,
      { patientName: patient.name, birthDate: patient.birthDate, email: 'jane@example.org' },
      {
        expiresInMs: 7 * 86_400_000,
        policy: policy === 'basic' ? { kind: 'basic', options: [] } : { kind: 'none' },
      },
    );
  }

  /** A page on the current host, larger than the default so the mask editor fits. */
  function openApp(): Promise<{ page: Page; problems: string[] }> {
    return rig.openPage(host.url, { viewport: { width: 1200, height: 1000 } });
  }

  async function toPreview(page: Page, flagged = true): Promise<void> {
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('textbox', { name: 'Folder or drive path' }).fill(root);
    await page.getByRole('button', { name: 'Read this folder' }).click();
    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByRole('heading', { name: 'Check what will be sent' }).waitFor();
    if (flagged) await page.getByText('May have writing in the picture').first().waitFor();
  }

  it('draws, applies and sends a mask; Orthanc holds black rectangles and the rest unchanged', async () => {
    const { page, problems } = await openApp();
    await openLink(page, createLink());
    await toPreview(page);
    const next = page.getByRole('button', { name: 'Continue: send' });
    expect(await next.isDisabled()).toBe(true);

    const thumbnail = page.getByTestId('thumbnail').first();
    await thumbnail.waitFor();
    const discThumbnail = await thumbnail.getAttribute('src');
    await page.getByTestId('mask-open').first().click();
    const editor = page.getByTestId('mask-editor');
    await editor.waitFor();
    const surface = editor.getByTestId('mask-surface');
    await surface.waitFor();
    await expect.poll(async () => (await surface.boundingBox())?.width ?? 0).toBeGreaterThan(100);
    await snap(page, 'mask-1-editor');
    await expectAccessible(page, 'mask editor');

    // Mouse: press at native (10, 8) and drag to (70, 30).
    const box = (await surface.boundingBox())!;
    const at = (x: number, y: number) => ({
      x: box.x + (x / 160) * box.width,
      y: box.y + (y / 120) * box.height,
    });
    const from = at(10.5, 8.5);
    const to = at(69.5, 29.5);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
    await page.mouse.move(to.x, to.y, { steps: 4 });
    await page.mouse.up();
    await editor.getByTestId('mask-rect').first().waitFor();

    // Keyboard: add a rectangle, move it right and down, make it wider.
    await editor.getByTestId('mask-add').click();
    const second = editor.getByTestId('mask-rect').nth(1);
    await second.waitFor();
    await second.focus();
    const before = rectFrom((await second.getAttribute('aria-label')) ?? '');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Shift+ArrowRight');
    const after = rectFrom((await second.getAttribute('aria-label')) ?? '');
    const step = 2; // about 1 % of 160 pixels
    expect(after).toEqual({
      x: before.x + 3 * step,
      y: before.y + step,
      width: before.width + step,
      height: before.height,
    });
    // A third one, deleted again with the Delete key.
    await editor.getByTestId('mask-add').click();
    await editor.getByTestId('mask-rect').nth(2).waitFor();
    await page.keyboard.press('Delete');
    await expect.poll(() => editor.getByTestId('mask-rect').count()).toBe(2);
    await snap(page, 'mask-2-drawn');

    const rects = (
      await editor.getByRole('list', { name: 'Rectangles' }).getByRole('button').allTextContents()
    ).map(rectFrom);
    expect(rects).toHaveLength(2);
    expect(rects[0]).toEqual({ x: 10, y: 8, width: 60, height: 22 });

    await editor.getByTestId('mask-apply').click();
    await editor.getByText(/2 rectangles are blacked out/u).waitFor();
    // The view now shows the image rendered from the masked bytes that will be sent.
    await editor.getByText('The covered areas are blanked in what is sent.').waitFor();
    await page.getByTestId('series-masked').first().waitFor();
    // The series' thumbnail is rendered again, from the masked bytes.
    await expect.poll(() => thumbnail.getAttribute('src')).not.toBe(discThumbnail);
    await snap(page, 'mask-3-applied');
    await expectAccessible(page, 'mask applied');

    // Masking the flagged series counts as its confirmation.
    await expect.poll(() => next.isDisabled()).toBe(false);
    await next.click();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page
      .getByText('The images are available to', { exact: false })
      .first()
      .waitFor({ timeout: 60_000 });
    await snap(page, 'mask-4-status');

    // What Orthanc stored: black inside both rectangles, the source's pixels everywhere else.
    const ids = (await orthanc.get('/instances')) as string[];
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      const stored = await checkStored(id, rects);
      expect(getText(stored.dataset, 0x00100010)).not.toBe('DOE^JANE');
      expect(getText(stored.dataset, 0x00280301)).toBe('NO');
      expect(stored.inside).toBeGreaterThan(60 * 22);
      expect(stored.insideNonZero).toBe(0);
      expect(stored.outsideChanged).toBe(0);
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('proposes the saved template the next time this kind of image is read', async () => {
    // The app started again with the same data folder (the next patient at a front desk).
    await host.close();
    host = await rig.startHost({ dataDir, kiosk: true });
    const { page, problems } = await openApp();
    await openLink(page, createLink());
    await toPreview(page);
    await page.getByTestId('mask-open').first().click();
    const editor = page.getByTestId('mask-editor');
    await editor.getByTestId('mask-template').waitFor();
    await expect.poll(() => editor.getByTestId('mask-rect').count()).toBe(2);
    // Proposed, not applied: the user still confirms.
    expect(await page.getByRole('button', { name: 'Continue: send' }).isDisabled()).toBe(true);
    await snap(page, 'mask-5-template');
    await expectAccessible(page, 'mask template proposed');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('masks under a link that sends identity: the applied template, the original UIDs', async () => {
    await host.close();
    host = await rig.startHost({ dataDir });
    const { page, problems } = await openApp();
    await openLink(page, createLink('none'));
    await toPreview(page, false);
    await page.getByTestId('mask-open').first().click();
    const editor = page.getByTestId('mask-editor');
    await editor.getByTestId('mask-template').waitFor();
    const rects = (
      await editor.getByRole('list', { name: 'Rectangles' }).getByRole('button').allTextContents()
    ).map(rectFrom);
    expect(rects).toHaveLength(2);
    await editor.getByTestId('mask-apply').click();
    await editor.getByText('The covered areas are blanked in what is sent.').waitFor();
    await snap(page, 'mask-6-none-applied');
    await page.getByRole('button', { name: 'Continue: send' }).click();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page
      .getByText('The images are available to', { exact: false })
      .first()
      .waitFor({ timeout: 60_000 });
    const stored = (await orthanc.get('/instances?expand')) as {
      ID: string;
      MainDicomTags: { SOPInstanceUID: string };
    }[];
    for (const source of sources.values()) {
      const match = stored.find((i) => i.MainDicomTags.SOPInstanceUID === source.sopInstanceUid);
      expect(match).toBeDefined();
      const checked = await checkStored(match!.ID, rects);
      // Identity goes as it is on the disc; only the pixels changed.
      expect(getText(checked.dataset, 0x00100010)).toBe('DOE^JANE');
      expect(checked.insideNonZero).toBe(0);
      expect(checked.outsideChanged).toBe(0);
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});
