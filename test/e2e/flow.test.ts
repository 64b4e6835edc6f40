/**
 * The whole flow in Debian's Chromium through the browser host, against the reference portal
 * (backed by a real Orthanc when it is installed) and real media: generated discs and pydicom's
 * DICOMDIR set. Every step is screenshotted to test-results/e2e and checked with axe-core.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriveView } from '../../main/core/api.ts';
import { scanMedia } from '../../main/core/media/scan.ts';
import type { RunningHost } from '../../main/host/server.ts';
import type { RunningPortal } from '../../portal/server.ts';
import type { CreateLinkInput } from '../../portal/service.ts';
import { freePort } from '../support/free-port.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { missingOrthanc, type RunningOrthanc } from '../support/orthanc.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../support/tools.ts';
import { startProxy, type NetworkProxy } from './proxy.ts';
import {
  createTestLink,
  expectAccessible,
  missingChromium,
  openLink,
  opticalDrive,
  readDisc,
  snap,
  startRig,
  startRigOrthanc,
  startRigPortal,
  type E2eRig,
  type RigHostOptions,
} from './support.ts';

const skip = skipFor(missingChromium() ?? missingDicomTools(['dcmmkdir']) ?? missingPydicom());

describe.skipIf(skip)('the upload flow in a browser', () => {
  let rig: E2eRig;
  let orthanc: RunningOrthanc | undefined;
  let portal: RunningPortal;
  let proxy: NetworkProxy;
  let disc: { root: string; patientName: string; birthDate: string; instances: number };
  const drives: DriveView[] = [];

  beforeAll(async () => {
    rig = await startRig('flow');
    const orthancMissing = missingOrthanc();
    if (orthancMissing === undefined) orthanc = await startRigOrthanc(rig);
    else skipFor(orthancMissing); // prints why the embedded store stands in (fails in CI)
    // The portal is reached through a proxy, so the network can be taken away mid-upload.
    const proxyPort = await freePort();
    const portalPort = await freePort();
    portal = await startRigPortal(rig, {
      port: portalPort,
      ...(orthanc ? { orthanc } : {}),
      publicUrl: `http://127.0.0.1:${proxyPort}`,
      staffPassword: 'e2e-staff-password',
      verifyRetryMs: 200,
    });
    proxy = await startProxy(proxyPort, portalPort, { delayMs: 5 });
    rig.defer(() => proxy.close());
    const media = await makeMedia({
      outDir: path.join(rig.work, 'disc'),
      patients: 1,
      studiesPerPatient: 2,
      seriesPerStudy: 1,
      instancesPerSeries: 6,
      rows: 32,
      columns: 32,
      patientNames: ['DOE^JANE'],
      extras: true,
      seed: 7,
    });
    disc = await readDisc(media.root);
    drives.push(opticalDrive(media.root));
  });

  afterAll(async () => {
    await rig?.close();
  });

  function createLink(options: Partial<Omit<CreateLinkInput, 'email'>> = {}): string {
    return createTestLink(
      portal,
      { patientName: disc.patientName, birthDate: disc.birthDate, email: 'jane@example.org' },
      { expiresInMs: 7 * 86_400_000, ...options },
    );
  }

  async function openApp(
    options: RigHostOptions = {},
  ): Promise<{ page: Page; host: RunningHost; problems: string[] }> {
    const host = await rig.startHost({ drives, ...options });
    const { page, problems } = await rig.openPage(host.url);
    await page.getByRole('heading', { level: 1 }).waitFor();
    return { page, host, problems };
  }

  it('sends a disc and shows the portal until the images are available', async () => {
    const { page, problems } = await openApp();
    await expectAccessible(page, 'link');
    await snap(page, 'success-1-link');

    await openLink(page, createLink());
    await page.getByRole('heading', { name: 'Who expects your images' }).waitFor();
    await page.getByTestId('provider').waitFor();
    expect(await page.getByTestId('provider').textContent()).toContain('Dr. Ada Lovelace');
    await snap(page, 'success-2-link-details');
    await expectAccessible(page, 'link details');

    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('heading', { name: 'Choose the disc or folder' }).waitFor();
    await snap(page, 'success-3-media');
    await expectAccessible(page, 'media');

    await page.getByRole('button', { name: 'Read PACS CD' }).click();
    await page.getByRole('heading', { name: 'Choose what to send' }).waitFor();
    await page.getByText('The name on the disc matches').waitFor();
    expect(await page.getByRole('checkbox').count()).toBe(2);
    await snap(page, 'success-4-studies');
    await expectAccessible(page, 'studies');

    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByRole('heading', { name: 'Check what will be sent' }).waitFor();
    // Each series shows its middle image, rendered by the core's worker pool.
    await page.getByTestId('thumbnail').first().waitFor();
    const thumbnail = await page.getByTestId('thumbnail').first().getAttribute('src');
    expect(thumbnail).toMatch(/^data:image\/png;base64,/u);
    expect(
      await page
        .getByTestId('thumbnail')
        .first()
        .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(0);
    await snap(page, 'success-5-preview');
    await expectAccessible(page, 'preview');

    await page.getByRole('button', { name: 'Continue: send' }).click();
    await page.getByRole('heading', { name: 'Send the images' }).waitFor();
    await snap(page, 'success-6-upload-ready');
    await expectAccessible(page, 'upload');
    await page.getByRole('button', { name: 'Send now' }).click();

    await page.getByRole('heading', { name: 'Transfer status' }).waitFor({ timeout: 30_000 });
    await page
      .getByText('The images are available to Dr. Ada Lovelace (Neurology).', { exact: false })
      .first()
      .waitFor({ timeout: 30_000 });
    const reference = await page.getByTestId('reference').textContent();
    expect(reference).toMatch(/^tr_/u);
    const timeline = await page.locator('.timeline li').allTextContents();
    expect(timeline.join('\n')).toContain(`All ${disc.instances} images were received.`);
    await snap(page, 'success-7-status');
    await expectAccessible(page, 'status');
    await page.emulateMedia({ media: 'print' });
    await snap(page, 'success-7b-receipt-print');
    await page.emulateMedia({ media: 'screen' });
    await page.getByRole('button', { name: 'Eject the disc' }).click();
    await page.getByText('The disc was ejected. You can take it out.').first().waitFor();

    await page.getByRole('button', { name: 'Past transfers' }).click();
    await page.getByRole('heading', { name: 'Past transfers' }).waitFor();
    await page.getByRole('cell', { name: reference ?? '' }).waitFor();
    await snap(page, 'success-8-history');
    await expectAccessible(page, 'history');
    if (orthanc)
      expect((await orthanc.listInstances()).length).toBeGreaterThanOrEqual(disc.instances);
    expect(problems).toEqual([]);
  });

  it('switches to Spanish, remembers it, and shows the flow in Spanish', async () => {
    const { page, problems } = await openApp();
    await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
    await page.getByRole('heading', { name: 'Abra su enlace de envío' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
    await snap(page, 'spanish-1-link');
    await expectAccessible(page, 'link in Spanish');

    await page.reload();
    await page.getByRole('heading', { name: 'Abra su enlace de envío' }).waitFor();
    await page.getByRole('textbox', { name: 'Enlace de envío' }).fill(createLink());
    await page.getByRole('button', { name: 'Abrir el enlace' }).click();
    await page.getByRole('heading', { name: 'Quién espera sus imágenes' }).waitFor();
    await page.getByRole('button', { name: 'Continuar: elegir el disco' }).click();
    await page.getByRole('heading', { name: 'Elija el disco o la carpeta' }).waitFor();
    await page.getByRole('button', { name: 'Leer PACS CD' }).click();
    await page.getByRole('heading', { name: 'Elija qué enviar' }).waitFor();
    await snap(page, 'spanish-2-studies');
    await expectAccessible(page, 'studies in Spanish');
    await page.getByRole('button', { name: 'Continuar: revisar' }).click();
    await page.getByRole('heading', { name: 'Revise lo que se va a enviar' }).waitFor();
    await page.getByTestId('thumbnail').first().waitFor();
    await snap(page, 'spanish-3-preview');
    await expectAccessible(page, 'preview in Spanish');

    await page.getByRole('combobox', { name: 'Idioma' }).selectOption('en');
    await page.getByRole('heading', { name: 'Check what will be sent' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('in kiosk mode keeps no history and returns to the start after the transfer', async () => {
    const { page, problems } = await openApp({ kiosk: true });
    expect(await page.getByRole('button', { name: 'Past transfers' }).count()).toBe(0);
    await openLink(page, createLink());
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('button', { name: 'Read PACS CD' }).click();
    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByRole('button', { name: 'Continue: send' }).click();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByRole('heading', { name: 'Transfer status' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('kiosk-reset').waitFor({ timeout: 30_000 });
    await snap(page, 'kiosk-1-status');
    await expectAccessible(page, 'kiosk status');
    await page.getByRole('button', { name: 'Finish now' }).click();
    await page.getByRole('heading', { name: 'Open your upload link' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Upload link' }).inputValue()).toBe('');
    await snap(page, 'kiosk-2-reset');
    await page.reload();
    await page.getByRole('heading', { name: 'Open your upload link' }).waitFor();
    expect(await page.getByRole('button', { name: 'Past transfers' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('shows what de-identification changes, then sends the de-identified images', async () => {
    const { page } = await openApp();
    await openLink(page, createLink({ policy: { kind: 'basic', options: [] } }));
    await page.getByText('Before anything leaves this computer', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('button', { name: 'Read PACS CD' }).click();
    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByRole('heading', { name: 'Check what will be sent' }).waitFor();
    const table = page.getByRole('table').first();
    await table.waitFor();
    await snap(page, 'deid-1-preview');
    const nameRow = table.getByRole('row', { name: /Patient.?s? Name/u }).first();
    await nameRow.waitFor();
    expect(await nameRow.textContent()).toContain('DOE^JANE');
    await snap(page, 'deid-1-preview');
    await expectAccessible(page, 'preview with attribute table');
    await page.getByRole('button', { name: 'Continue: send' }).click();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByRole('heading', { name: 'Transfer status' }).waitFor({ timeout: 30_000 });
    await page
      .getByText('The images are available to', { exact: false })
      .first()
      .waitFor({ timeout: 30_000 });
    await snap(page, 'deid-2-status');
  });

  it('asks to confirm images that may show a name in the picture before sending them', async () => {
    const us = await makeMedia({
      outDir: path.join(rig.work, 'ultrasound'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 3,
      rows: 16,
      columns: 16,
      modalities: ['US'],
      patientNames: ['DOE^JANE'],
      extras: false,
      seed: 21,
    });
    const usPatient = (await scanMedia(us.root)).patients[0]!;
    const { page } = await openApp();
    await openLink(
      page,
      createLink({
        policy: { kind: 'basic', options: [] },
        patientName: usPatient.patientName,
        birthDate: usPatient.birthDate,
      }),
    );
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('textbox', { name: 'Folder or drive path' }).fill(us.root);
    await page.getByRole('button', { name: 'Read this folder' }).click();
    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByText('May have writing in the picture').first().waitFor();
    const next = page.getByRole('button', { name: 'Continue: send' });
    expect(await next.isDisabled()).toBe(true);
    await snap(page, 'burned-in-1-preview');
    await expectAccessible(page, 'burned-in preview');
    await page.getByRole('checkbox', { name: /I looked at these pictures/u }).check();
    expect(await next.isDisabled()).toBe(false);
    await next.click();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page
      .getByText('The images are available to', { exact: false })
      .first()
      .waitFor({ timeout: 30_000 });
    await snap(page, 'burned-in-2-status');
  });

  it('shows a clear page for an expired link and for a revoked one', async () => {
    const link = createLink({ expiresInMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { page } = await openApp();
    await openLink(page, link);
    await page.getByRole('heading', { name: 'This upload link has expired' }).waitFor();
    expect(await page.locator('[data-code="link-expired"]').textContent()).toContain('expired');
    await snap(page, 'expired-1-link');
    await expectAccessible(page, 'expired link');

    const revoked = createLink();
    const token = revoked.split('/u/')[1]!;
    const { link: linkRecord } = portal.service.authorize(token, '127.0.0.1', { readOnly: true });
    portal.service.revokeLink(linkRecord.id, 'Sent to the wrong address', 'e2e');
    await page.getByRole('button', { name: 'Enter another link' }).click();
    await openLink(page, revoked);
    await page.getByRole('heading', { name: 'This upload link was revoked' }).waitFor();
    await snap(page, 'revoked-1-link');
    await expectAccessible(page, 'revoked link');
  });

  it('warns when the disc holds two patients and only one is expected', async () => {
    const dicomdirtests = path.join(pydicomTestFiles(), 'dicomdirtests');
    const scanned = await scanMedia(dicomdirtests);
    expect(scanned.patients.length).toBeGreaterThanOrEqual(2);
    const expected = scanned.patients[0]!;
    const { page } = await openApp();
    await openLink(
      page,
      createLink({
        patientName: expected.patientName,
        birthDate: expected.birthDate || '19700101',
      }),
    );
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('textbox', { name: 'Folder or drive path' }).fill(dicomdirtests);
    await page.getByRole('button', { name: 'Read this folder' }).click();
    await page.getByRole('heading', { name: 'Choose what to send' }).waitFor();
    await page.getByTestId('identity-warning').waitFor();
    expect(await page.locator('fieldset.patient').count()).toBe(scanned.patients.length);
    expect(await page.locator('fieldset.patient.flagged').count()).toBeGreaterThanOrEqual(1);
    // The other patient's studies are not chosen by default.
    for (const box of await page.locator('fieldset.patient.flagged input[type=checkbox]').all()) {
      expect(await box.isChecked()).toBe(false);
    }
    await snap(page, 'two-patients-1-studies');
    await expectAccessible(page, 'two patients');
    // Choosing one of them asks for a confirmation before going on.
    await page.locator('fieldset.patient.flagged input[type=checkbox]').first().check();
    expect(await page.getByRole('button', { name: 'Continue: preview' }).isDisabled()).toBe(true);
    await page.getByLabel(/I am sure the images I chose are of/u).check();
    expect(await page.getByRole('button', { name: 'Continue: preview' }).isDisabled()).toBe(false);
    await snap(page, 'two-patients-2-confirmed');
  });

  it('survives the network going away mid-upload and resumes', async () => {
    const { page } = await openApp({
      uploadTuning: {
        concurrency: 1,
        batchCount: 1,
        retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 100 },
      },
    });
    await openLink(page, createLink());
    await page.getByRole('button', { name: 'Continue: choose the disc' }).click();
    await page.getByRole('button', { name: 'Read PACS CD' }).click();
    await page.getByRole('button', { name: 'Continue: preview' }).click();
    await page.getByRole('button', { name: 'Continue: send' }).click();
    // A slow network, so the upload is surely under way when it goes away.
    proxy.setDelay(150);
    await page.getByRole('button', { name: 'Send now' }).click();
    // Let a few instances through, then take the network away.
    await page.waitForFunction(
      () => {
        const page = globalThis as unknown as {
          document: { querySelector(s: string): { textContent: string | null } | null };
        };
        return /^[1-9]\d* of/u.test(
          page.document.querySelector('.progress-text')?.textContent ?? '',
        );
      },
      undefined,
      { timeout: 30_000 },
    );
    await snap(page, 'network-0-sending');
    await proxy.down();
    proxy.setDelay(5);
    await page.locator('[data-state="failed"]').waitFor({ timeout: 30_000 });
    await snap(page, 'network-1-failed');
    await expectAccessible(page, 'upload failed');
    const failedAt = await page.locator('.progress-text').textContent();
    await proxy.up();
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'Transfer status' }).waitFor({ timeout: 30_000 });
    await page
      .getByText('The images are available to', { exact: false })
      .first()
      .waitFor({ timeout: 30_000 });
    await snap(page, 'network-2-resumed-status');
    expect(failedAt).toMatch(/^[1-9]\d* of 12 images/u);
    const timeline = await page.locator('.timeline li').allTextContents();
    expect(timeline.join('\n')).toContain('All 12 images were received.');
  });
});
