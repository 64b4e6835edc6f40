/**
 * The support file (main/core/support-bundle.ts) after a realistic session on the real core and
 * the reference portal: a disc of a person with a distinctive name, a damaged file named after
 * them, a dead link, a wrong path, a refused upload. The file tells the help desk what happened
 * in codes and counts, and carries none of the person's values nor any path.
 */
import { copyFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type {
  ApiEvents,
  EventName,
  ScanView,
  SupportBundleView,
  UploadProgress,
} from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import { memorySecretStore, noKeepAwake } from '../../main/core/app-service/engines.ts';
import { memoryHistory } from '../../main/core/app-service/history.ts';
import { createEngines, journalKeyFrom } from '../../main/core/app-service/real-engines.ts';
import { createAppService } from '../../main/core/app-service/service.ts';
import { scanMedia } from '../../main/core/media/scan.ts';
import { buildSupportBundle, createSupportLog, safeCode } from '../../main/core/support-bundle.ts';
import type { RunningPortal } from '../../portal/server.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { personalValues } from '../support/person-files.ts';
import { createTestLink, startTestPortal } from '../support/portal.ts';
import { skipFor } from '../support/tools.ts';

const skip = skipFor(missingDicomTools(['dcmmkdir']));

describe('safeCode', () => {
  it('keeps stable codes and counts anything else as other', () => {
    expect(safeCode('link-expired')).toBe('link-expired');
    expect(safeCode('scan.outdated')).toBe('scan.outdated');
    for (const value of [
      'DOE^JANE',
      '1.2.840.113619.2.55',
      '19800101',
      '/media/cd/DOE',
      'a b',
      7,
    ]) {
      expect(safeCode(value)).toBe('other');
    }
  });

  it('reports versions and the system without anything else', () => {
    const log = createSupportLog();
    log.callFailed('media.scan', 'path-not-found', 12.4, new Date('2030-01-01T00:00:00Z'));
    log.callFailed('media.scan', 'path-not-found', 30, new Date('2030-01-01T00:00:01Z'));
    log.callFailed('media.scan', 'DOE^JANE', 1);
    const bundle = buildSupportBundle({
      log,
      app: { version: '0.1.0', host: 'electron' },
      settings: { kiosk: true, language: 'es', linkOpen: false, secretsPersistent: true },
      engines: { link: true, upload: true, validate: true, deid: false },
      now: new Date('2030-01-01T00:00:02Z'),
      versions: { node: '20.11.1', electron: '30.0.0', chrome: 'DOE^JANE' },
      system: { platform: 'win32', release: '10.0.19045', arch: 'x64' },
      uptimeSeconds: 61.2,
    });
    expect(bundle.runtime).toEqual({
      node: '20.11.1',
      electron: '30.0.0',
      chrome: null,
      os: 'win32',
      osRelease: '10.0.19045',
      arch: 'x64',
    });
    expect(bundle.errors).toEqual([
      {
        method: 'media.scan',
        code: 'path-not-found',
        count: 2,
        firstAt: '2030-01-01T00:00:00.000Z',
        lastAt: '2030-01-01T00:00:01.000Z',
        medianMs: 21,
        maxMs: 30,
      },
      expect.objectContaining({ method: 'media.scan', code: 'other', count: 1 }),
    ]);
    expect(bundle.uptimeSeconds).toBe(61);
  });
});

describe.skipIf(skip)('the support file after a real session', () => {
  let work: string;
  let portal: RunningPortal;
  let mediaRoot: string;
  let personal: string[];
  let birthDate: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ferry-support-'));
    const media = await makeMedia({
      outDir: path.join(work, 'BRIGHTWATER_OPHELIA'),
      patients: 1,
      studiesPerPatient: 2,
      seriesPerStudy: 1,
      instancesPerSeries: 3,
      rows: 16,
      columns: 16,
      withDicomdir: false,
      patientNames: ['BRIGHTWATER^OPHELIA'],
      extras: true,
      seed: 9001,
    });
    mediaRoot = media.root;
    // A damaged copy named after her: a finding whose path must not reach the support file.
    const first = path.join(
      mediaRoot,
      ...media.patients[0]!.studies[0]!.series[0]!.files[0]!.split('/'),
    );
    const damaged = path.join(mediaRoot, 'OPHELIA BRIGHTWATER 1975.dcm');
    await copyFile(first, damaged);
    await truncate(damaged, 300);
    await writeFile(path.join(mediaRoot, 'BRIGHTWATER notes.txt'), 'not an image');
    const patient = (await scanMedia(mediaRoot)).patients[0]!;
    birthDate = patient.birthDate;
    personal = ['BRIGHTWATER', 'OPHELIA', ...personalValues(patient), mediaRoot, work, 'IM000001'];
    portal = await startTestPortal(work, {
      staffPassword: 'support-bundle-password',
      verifyRetryMs: 100,
    });
  });

  afterAll(async () => {
    await portal?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('names codes, counts and versions, and none of her values or paths', async () => {
    const dataDir = await mkdtemp(path.join(work, 'data-'));
    const secrets = memorySecretStore();
    const events: [EventName, unknown][] = [];
    const service = createAppService({
      host: 'browser-host',
      version: '0.1.0',
      engines: createEngines({
        upload: {
          journalDir: path.join(dataDir, 'uploads'),
          journalKey: journalKeyFrom(secrets, path.join(dataDir, 'journal.key')),
        },
      }),
      platformServices: { secrets, keepAwake: noKeepAwake },
      history: memoryHistory(),
      emit: <E extends EventName>(event: E, payload: ApiEvents[E]) => events.push([event, payload]),
    });
    const dispatch = createDispatch(service.handlers);
    const link = (maxInstances: number) =>
      createTestLink(
        portal,
        { patientName: 'BRIGHTWATER^OPHELIA', birthDate, email: 'ophelia@example.org' },
        { limits: { maxInstances } },
      );

    // A link that does not exist, a path that does not exist (named after her), then the disc.
    const dead = link(100).replace(/\/u\/[^/]+$/u, `/u/${'Z'.repeat(43)}`);
    expect(await dispatch('link.open', { url: dead })).toMatchObject({ ok: false });
    expect(
      await dispatch('media.scan', { path: path.join(work, 'OPHELIA BRIGHTWATER', 'missing') }),
    ).toMatchObject({ ok: false, error: { code: 'not-found' } });
    // The portal allows fewer images than the disc holds: the upload is refused.
    expect(await dispatch('link.open', { url: link(2) })).toMatchObject({ ok: true });
    const scanned = await dispatch('media.scan', { path: mediaRoot });
    if (!scanned.ok) throw new Error(scanned.error.message);
    const scan = scanned.value as ScanView;
    const validation = await dispatch('validate.run', { scanId: scan.scanId });
    expect(validation.ok).toBe(true);
    expect(
      await dispatch('upload.start', {
        scanId: scan.scanId,
        studyKeys: scan.patients[0]!.studies.map((study) => study.key),
        burnedInConfirmed: false,
        identityConfirmed: false,
      }),
    ).toMatchObject({ ok: true });
    await vi.waitFor(
      () => {
        const last = events.filter(([name]) => name === 'upload.progress').at(-1)?.[1] as
          UploadProgress | undefined;
        expect(last?.state).toBe('failed');
      },
      { timeout: 30_000, interval: 50 },
    );

    const answer = await dispatch('support.bundle', { language: 'es' });
    if (!answer.ok) throw new Error(answer.error.message);
    const bundle = answer.value as SupportBundleView;
    const text = JSON.stringify(bundle, null, 2);
    for (const value of personal) expect(text, value).not.toContain(value);
    expect(text.toUpperCase()).not.toContain('BRIGHTWATER');
    // The portal's and the provider's names are not needed by the help desk either.
    expect(text).not.toContain('Lovelace');
    expect(text).not.toContain(portal.url);

    // What the help desk does get.
    expect(bundle.format).toBe('dicom-ferry-support');
    expect(bundle.runtime.node).toBe(process.versions.node);
    expect(bundle.settings).toEqual({
      kiosk: false,
      language: 'es',
      linkOpen: true,
      secretsPersistent: false,
    });
    expect(bundle.engines).toEqual({ link: true, upload: true, validate: true, deid: true });
    const codes = bundle.errors.map((entry) => `${entry.method} ${entry.code}`);
    expect(codes).toContain('media.scan not-found');
    expect(codes.some((code) => code.startsWith('link.open link-'))).toBe(true);
    for (const entry of bundle.errors) {
      expect(entry.count).toBeGreaterThan(0);
      expect(entry.maxMs).toBeGreaterThanOrEqual(entry.medianMs);
    }
    expect(bundle.uploads).toEqual([{ state: 'failed', code: 'over-limit', count: 1 }]);
    expect(bundle.lastScan).toMatchObject({ source: 'walk', patients: 1, studies: 2 });
    expect(bundle.lastScan?.instances).toBe(scan.summary.instances);
    const findingCodes = bundle.findings.map((finding) => finding.code);
    expect(findingCodes.length).toBeGreaterThan(0);
    for (const finding of bundle.findings) expect(finding.files).toBeGreaterThan(0);
    // The damaged file is among the findings, by code only.
    expect(scan.findings.some((finding) => finding.paths.some((p) => p.includes('OPHELIA')))).toBe(
      true,
    );
    expect(JSON.parse(text)).toEqual(bundle);
    service.close();
  });
});
