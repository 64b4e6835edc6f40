/**
 * Kiosk mode on the real core: a person's link, disc, previews and upload to the reference
 * portal, then session.reset. Afterwards no file in the app's data folder or in the temporary
 * folder holds anything of that person, nothing new is left there, the core remembers nothing
 * of them, and the disc was ejected from its drive.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type {
  ApiEvents,
  DriveView,
  EventName,
  ScanView,
  UploadProgress,
} from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import { memorySecretStore, noKeepAwake } from '../../main/core/app-service/engines.ts';
import { fileHistory } from '../../main/core/app-service/history.ts';
import { createEngines, journalKeyFrom } from '../../main/core/app-service/real-engines.ts';
import { createAppService } from '../../main/core/app-service/service.ts';
import { scanMedia } from '../../main/core/media/scan.ts';
import type { RunningPortal } from '../../portal/server.ts';
import { makeMedia, missingDicomTools } from '../support/make-media.ts';
import { filesContaining, listFiles, personalValues } from '../support/person-files.ts';
import { createTestLink, startTestPortal } from '../support/portal.ts';
import { skipFor } from '../support/tools.ts';

const skip = skipFor(missingDicomTools(['dcmmkdir']));
const PATIENT_NAME = 'QUILLFEATHER^ZEPHYRINE';

describe.skipIf(skip)('kiosk: the next person finds nothing of the previous one', () => {
  let work: string;
  let privateTmp: string;
  let previousTmp: string | undefined;
  let portal: RunningPortal;
  let mediaRoot: string;
  let personal: string[];

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ferry-kiosk-session-'));
    // The media's folder is named after the person too, so a path kept anywhere would show.
    const media = await makeMedia({
      outDir: path.join(work, 'QUILLFEATHER_ZEPHYRINE'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
      rows: 16,
      columns: 16,
      patientNames: [PATIENT_NAME],
      extras: false,
      seed: 4242,
    });
    mediaRoot = media.root;
    const patient = (await scanMedia(mediaRoot)).patients[0]!;
    personal = ['QUILLFEATHER', 'ZEPHYRINE', ...personalValues(patient), mediaRoot];
    portal = await startTestPortal(work, {
      staffPassword: 'kiosk-session-password',
      verifyRetryMs: 100,
    });
    // Whatever the app writes to the temporary folder lands here, apart from everything else.
    privateTmp = await mkdtemp(path.join(work, 'tmp-'));
    previousTmp = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
  });

  afterAll(async () => {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    await portal?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('wipes the journal, caches, link and scan, and ejects the disc', async () => {
    expect(os.tmpdir()).toBe(privateTmp);
    const dataDir = await mkdtemp(path.join(work, 'data-'));
    const journalDir = path.join(dataDir, 'uploads');
    const secrets = memorySecretStore();
    const drive: DriveView = { id: '/dev/sr0', label: 'CD', mountPath: mediaRoot, kind: 'optical' };
    let driveInside = true;
    const eject = vi.fn(async () => {
      driveInside = false;
    });
    const events: [EventName, unknown][] = [];
    const service = createAppService({
      host: 'browser-host',
      version: '0.1.0',
      kiosk: true,
      engines: createEngines({
        upload: {
          journalDir,
          journalKey: journalKeyFrom(secrets, path.join(dataDir, 'journal.key')),
        },
      }),
      platformServices: {
        secrets,
        keepAwake: noKeepAwake,
        drives: { list: async () => (driveInside ? [drive] : []), eject },
      },
      history: fileHistory(path.join(dataDir, 'history.json')),
      emit: <E extends EventName>(event: E, payload: ApiEvents[E]) => events.push([event, payload]),
      sessionDirs: [journalDir],
    });
    const dispatch = createDispatch(service.handlers);
    const ok = async <T>(method: string, request?: unknown): Promise<T> => {
      const result = await dispatch(method, request);
      if (!result.ok) throw new Error(`${method}: ${result.error.code} ${result.error.message}`);
      return result.value as T;
    };
    const before = [...(await listFiles(dataDir)), ...(await listFiles(privateTmp))];

    const scannedPatient = (await scanMedia(mediaRoot)).patients[0]!;
    const link = createTestLink(portal, {
      patientName: PATIENT_NAME,
      birthDate: scannedPatient.birthDate,
      email: 'zephyrine@example.org',
    });
    await ok('link.open', { url: link });
    await ok('media.listDrives');
    const scan = await ok<ScanView>('media.scan', { path: mediaRoot });
    await ok('validate.run', { scanId: scan.scanId });
    const series = scan.patients[0]!.studies[0]!.series;
    for (const item of series) {
      await ok('preview.thumbnail', {
        scanId: scan.scanId,
        seriesInstanceUid: item.seriesInstanceUid,
      });
    }
    await ok('preview.instance', { scanId: scan.scanId, path: series[0]!.firstPath });
    const started = await ok<UploadProgress>('upload.start', {
      scanId: scan.scanId,
      studyKeys: [scan.patients[0]!.studies[0]!.key],
      burnedInConfirmed: false,
      identityConfirmed: false,
    });
    await vi.waitFor(
      () => {
        const last = events.filter(([name]) => name === 'upload.progress').at(-1)?.[1] as
          UploadProgress | undefined;
        expect(last?.state).toBe('done');
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(started.totalInstances).toBe(6);
    // While the transfer lasts, the journal is on disk: the reset has something to remove.
    const during = await listFiles(journalDir);
    expect(during.some((file) => file.endsWith('.journal'))).toBe(true);
    await vi.waitFor(() => expect(eject).toHaveBeenCalledWith(drive), { timeout: 5000 });
    expect(
      events.some(
        ([name, payload]) =>
          name === 'drives.changed' && (payload as ApiEvents['drives.changed']).drives.length === 0,
      ),
    ).toBe(true);

    const reset = await ok<{ removedFiles: number }>('session.reset');
    expect(reset.removedFiles).toBeGreaterThanOrEqual(during.length);

    const after = [...(await listFiles(dataDir)), ...(await listFiles(privateTmp))];
    // The journal's master key is the computer's, not the person's: 32 random bytes. tsx-*/ is
    // the test loader's compile cache of Ferry's own source (the render workers load .ts here);
    // its contents are still searched below.
    const added = after.filter((file) => !before.includes(file) && !file.startsWith('tsx-'));
    expect(added).toEqual(['journal.key']);
    expect((await readFile(path.join(dataDir, 'journal.key'), 'utf8')).trim()).toMatch(
      /^[0-9a-f]{64}$/u,
    );
    expect(await filesContaining(dataDir, personal)).toEqual([]);
    expect(await filesContaining(privateTmp, personal)).toEqual([]);

    // Nothing of them in memory either: no link, no scan, no thumbnails, no upload.
    expect(await dispatch('link.current', undefined)).toEqual({ ok: true, value: null });
    expect(await dispatch('upload.current', undefined)).toEqual({ ok: true, value: null });
    expect(await dispatch('validate.run', { scanId: scan.scanId })).toMatchObject({
      ok: false,
      error: { code: 'no-scan' },
    });
    expect(
      await dispatch('preview.thumbnail', {
        scanId: scan.scanId,
        seriesInstanceUid: series[0]!.seriesInstanceUid,
      }),
    ).toMatchObject({ ok: false, error: { code: 'no-scan' } });
    expect(await dispatch('transfer.status', {})).toMatchObject({
      ok: false,
      error: { code: 'no-link' },
    });
    expect(await dispatch('history.list', undefined)).toEqual({ ok: true, value: [] });
    const bundle = JSON.stringify(await ok('support.bundle', {}));
    for (const value of personal) expect(bundle).not.toContain(value);
    service.close();
  });
});
