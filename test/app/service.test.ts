/** The app service (main/core/app-service/service.ts) on real media with small engine fakes. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiEvents, EventName, LinkView, ScanView } from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import {
  memorySecretStore,
  type Engines,
  type UploadUpdate,
} from '../../main/core/app-service/engines.ts';
import { memoryHistory } from '../../main/core/app-service/history.ts';
import { validateEngine } from '../../main/core/app-service/real-engines.ts';
import { createAppService } from '../../main/core/app-service/service.ts';
import { FerryError } from '../../main/core/errors.ts';
import { makeMedia } from '../support/make-media.ts';

const token = 'L'.repeat(43);
const LINK = `https://portal.example/u/${token}`;
let work: string;
let root: string;
let patient: { name: string; birthDate: string };

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ferry-service-'));
  const media = await makeMedia({
    outDir: path.join(work, 'disc'),
    patients: 2,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: 2,
    rows: 8,
    columns: 8,
    withDicomdir: false,
    extras: false,
    patientNames: ['DOE^JANE', 'ROE^RICHARD'],
    seed: 11,
  });
  root = media.root;
  const { scanMedia } = await import('../../main/core/media/scan.ts');
  const scanned = await scanMedia(root);
  const jane = scanned.patients.find((p) => p.patientName === 'DOE^JANE')!;
  patient = { name: jane.patientName, birthDate: jane.birthDate };
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function linkView(policy: LinkView['policy'] = { kind: 'none' }): LinkView {
  return {
    portal: 'https://portal.example',
    provider: { name: 'Dr. Ada Lovelace', department: 'Neurology', organization: 'St. Example' },
    recipientName: patient.name,
    patient,
    expiresAt: '2030-01-01T00:00:00.000Z',
    policy,
    limits: { maxBytes: 1e9, maxInstances: 1000 },
    transfers: [],
  };
}

function setup(engines: Partial<Engines> = {}, policy?: LinkView['policy']) {
  const events: [EventName, unknown][] = [];
  const keepAwake = { start: vi.fn(), stop: vi.fn() };
  const history = memoryHistory();
  const service = createAppService({
    host: 'browser-host',
    version: '0.1.0',
    engines: {
      link: {
        resolve: async (link) => {
          if (link.token !== token)
            throw new FerryError('link-expired', {
              message: 'This upload link has expired. Ask the hospital for a new one.',
            });
          return linkView(policy);
        },
        transferStatus: async (_link, transferId) => ({
          transferId: transferId ?? 'tr_1',
          state: 'available',
          terminal: true,
          message: 'The images are available to Dr. Ada Lovelace (Neurology).',
          received: { instances: 2, bytes: 10 },
          expected: { instances: 2, bytes: 10 },
          createdAt: '2030-01-01T00:00:00.000Z',
          timeline: [],
        }),
      },
      validate: validateEngine(),
      ...engines,
    },
    platformServices: { secrets: memorySecretStore(), keepAwake },
    history,
    emit: <E extends EventName>(event: E, payload: ApiEvents[E]) => events.push([event, payload]),
  });
  const dispatch = createDispatch(service.handlers);
  return { service, dispatch, events, keepAwake, history };
}

async function scanned(dispatch: ReturnType<typeof setup>['dispatch']): Promise<ScanView> {
  const result = await dispatch('media.scan', { path: root });
  if (!result.ok) throw new Error(result.error.message);
  return result.value as ScanView;
}

describe('the app service', () => {
  it('opens a pasted link, keeps it, and passes the portal sentences on', async () => {
    const { dispatch } = setup();
    expect(await dispatch('link.current', undefined)).toEqual({ ok: true, value: null });
    expect(await dispatch('link.open', { url: 'https://example.org/' })).toMatchObject({
      ok: false,
      error: { code: 'link-invalid' },
    });
    expect(await dispatch('link.open', { url: `<${LINK}>` })).toMatchObject({ ok: true });
    expect(await dispatch('link.current', undefined)).toMatchObject({
      ok: true,
      value: { provider: { name: 'Dr. Ada Lovelace' } },
    });
    const expired = await dispatch('link.open', {
      url: `https://portal.example/u/${'E'.repeat(43)}`,
    });
    expect(expired).toEqual({
      ok: false,
      error: {
        code: 'link-expired',
        message: 'This upload link has expired. Ask the hospital for a new one.',
      },
    });
  });

  it('reads media, announces progress, and flags the patient the link was not made for', async () => {
    const { dispatch, events } = setup();
    await dispatch('link.open', { url: LINK });
    const scan = await scanned(dispatch);
    expect(scan.summary.patients).toBe(2);
    expect(events.some(([name]) => name === 'scan.progress')).toBe(true);
    const validation = await dispatch('validate.run', { scanId: scan.scanId });
    expect(validation).toMatchObject({ ok: true, value: { identity: { status: 'mismatch' } } });
    const keys = (validation as { value: { identity: { mismatchedPatientKeys: string[] } } }).value
      .identity.mismatchedPatientKeys;
    const roe = scan.patients.find((p) => p.name === 'ROE^RICHARD')!;
    expect(keys).toEqual([roe.key]);
    expect(await dispatch('media.scan', { path: 'relative/path' })).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    expect(await dispatch('media.scan', { path: path.join(work, 'missing') })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
  });

  it('previews only files the scan found, and says plainly when de-identification is missing', async () => {
    const { dispatch } = setup();
    await dispatch('link.open', { url: LINK });
    const scan = await scanned(dispatch);
    expect(
      await dispatch('preview.instance', { scanId: scan.scanId, path: '../../etc/passwd' }),
    ).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const first = scan.patients[0]!.studies[0]!.series[0]!.firstPath;
    expect(await dispatch('preview.instance', { scanId: scan.scanId, path: first })).toMatchObject({
      ok: false,
      error: { code: 'not-available' },
    });
  });

  it('refuses to send under a de-identification policy it cannot apply', async () => {
    const start = vi.fn();
    const { dispatch } = setup({ upload: { start } }, { kind: 'basic', options: [] });
    await dispatch('link.open', { url: LINK });
    const scan = await scanned(dispatch);
    const jane = scan.patients.find((p) => p.name === 'DOE^JANE')!;
    const answer = await dispatch('upload.start', {
      scanId: scan.scanId,
      studyKeys: [jane.studies[0]!.key],
      burnedInConfirmed: false,
      identityConfirmed: false,
    });
    expect(answer).toMatchObject({ ok: false, error: { code: 'deid-unavailable' } });
    expect(start).not.toHaveBeenCalled();
  });

  it('sends the chosen studies, keeps the computer awake meanwhile, and records the transfer', async () => {
    let onUpdate: ((update: UploadUpdate) => void) | undefined;
    let finish: () => void = () => {};
    const control = {
      pause: vi.fn(),
      resume: vi.fn(),
      cancel: vi.fn(),
      finished: new Promise<void>((resolve) => (finish = resolve)),
    };
    const start = vi.fn((_request, update: (u: UploadUpdate) => void) => {
      onUpdate = update;
      return control;
    });
    const { dispatch, events, keepAwake, history } = setup({ upload: { start } });
    await dispatch('link.open', { url: LINK });
    const scan = await scanned(dispatch);
    const jane = scan.patients.find((p) => p.name === 'DOE^JANE')!;
    const roe = scan.patients.find((p) => p.name === 'ROE^RICHARD')!;
    const flagged = await dispatch('upload.start', {
      scanId: scan.scanId,
      studyKeys: [roe.studies[0]!.key],
      burnedInConfirmed: false,
      identityConfirmed: false,
    });
    expect(flagged).toMatchObject({ ok: false, error: { code: 'identity-unconfirmed' } });
    const started = await dispatch('upload.start', {
      scanId: scan.scanId,
      studyKeys: [jane.studies[0]!.key],
      burnedInConfirmed: false,
      identityConfirmed: false,
    });
    expect(started).toMatchObject({ ok: true, value: { state: 'preparing', totalInstances: 2 } });
    const request = start.mock.calls[0]![0] as {
      instances: { studyInstanceUid: string }[];
      link: { token: string };
    };
    expect(request.instances).toHaveLength(2);
    expect(request.link.token).toBe(token);
    expect(keepAwake.start).toHaveBeenCalled();
    const uploadId = (started as { value: { uploadId: string } }).value.uploadId;
    expect(
      await dispatch('upload.start', {
        scanId: scan.scanId,
        studyKeys: [jane.studies[0]!.key],
        burnedInConfirmed: false,
        identityConfirmed: false,
      }),
    ).toMatchObject({ ok: false, error: { code: 'busy' } });
    await dispatch('upload.pause', { uploadId });
    expect(control.pause).toHaveBeenCalled();
    expect(await dispatch('upload.cancel', { uploadId: 'up_other' })).toMatchObject({
      ok: false,
      error: { code: 'no-upload' },
    });
    onUpdate?.({
      state: 'sending',
      transferId: 'tr_1',
      sentInstances: 1,
      totalInstances: 2,
      sentBytes: 5,
      totalBytes: 10,
      bytesPerSecond: 5,
      etaSeconds: 1,
    });
    onUpdate?.({
      state: 'done',
      transferId: 'tr_1',
      sentInstances: 2,
      totalInstances: 2,
      sentBytes: 10,
      totalBytes: 10,
      bytesPerSecond: 0,
      etaSeconds: 0,
    });
    finish();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(keepAwake.stop).toHaveBeenCalled();
    expect(events.filter(([name]) => name === 'upload.progress')).toHaveLength(2);
    expect(await dispatch('upload.current', undefined)).toMatchObject({
      ok: true,
      value: { state: 'done', uploadId },
    });
    const entries = await history.list();
    expect(entries).toMatchObject([
      { transferId: 'tr_1', instances: 2, provider: { name: 'Dr. Ada Lovelace' } },
    ]);
    expect(JSON.stringify(entries)).not.toContain('JANE');
    const status = await dispatch('transfer.status', { transferId: 'tr_1' });
    expect(status).toMatchObject({
      ok: true,
      value: { portal: 'https://portal.example', provider: { organization: 'St. Example' } },
    });
    expect((await history.list())[0]!.message).toBe(
      'The images are available to Dr. Ada Lovelace (Neurology).',
    );
  });

  it('announces a link that arrives from outside, once for app.info', async () => {
    const { service, dispatch, events } = setup();
    service.openLinkFromOutside(LINK);
    expect(events).toContainEqual(['link.opened', { url: LINK }]);
    expect(await dispatch('app.info', undefined)).toMatchObject({
      ok: true,
      value: { pendingLink: LINK, engines: { deid: false, validate: true } },
    });
    expect(await dispatch('app.info', {})).toMatchObject({
      ok: true,
      value: { pendingLink: null },
    });
  });
});
