/**
 * The app service: api.ts implemented on the core, in plain Node. One instance per app window
 * (Electron) or per browser host. It keeps the session's state (the open link, the last scan,
 * the running upload) so the renderer holds views only and never touches files or the network.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type {
  ApiHandlers,
  AppInfo,
  DriveView,
  EventSink,
  HistoryEntry,
  HostKind,
  LinkView,
  ScanView,
  ThumbnailView,
  TransferStatusView,
  UploadProgress,
  ValidationView,
} from '../api.ts';
import { encodePng } from '../imaging/png.ts';
import { renderInWorker, type RenderSource } from '../imaging/render-pool.ts';
import { THUMBNAIL_SIZE } from '../imaging/render.ts';
import type { RenderResult } from '../imaging/types.ts';
import { parseUploadLink, type UploadLink } from '../link/link-url.ts';
import type { MediaInstance, MediaSeries, ScanResult } from '../media/model.ts';
import { scanMedia, type ScanOptions } from '../media/scan.ts';
import { fileSource } from '../upload/source.ts';
import type {
  Engines,
  HeaderCollector,
  Platform,
  SelectedInstance,
  UploadControl,
  ValidationOutcome,
} from './engines.ts';
import { ApiError } from './errors.ts';
import type { HistoryStore } from './history.ts';
import { groupFindings, patientKey, toScanView } from './views.ts';

const LINK_SECRET = 'upload-link';

export interface AppServiceOptions {
  readonly host: HostKind;
  readonly version: string;
  readonly platform?: string;
  readonly engines: Engines;
  readonly platformServices: Platform;
  readonly history: HistoryStore;
  readonly emit: EventSink;
  /** The scanner; injectable so tests can hold a scan open. */
  readonly scan?: (target: string, options: ScanOptions) => Promise<ScanResult>;
  readonly now?: () => Date;
  /** Front-desk mode: no history kept or listed, the link not remembered (AppInfo.kiosk). */
  readonly kiosk?: boolean;
  /** Off-main-thread rendering; injectable so tests can count or replace it. */
  readonly render?: (source: RenderSource, options: { maxSize: number }) => Promise<RenderResult>;
}

export interface AppService {
  readonly handlers: ApiHandlers;
  /** A link from outside (deep link, second launch, --link): remembered and announced. */
  openLinkFromOutside(url: string): void;
  /** Drives changed (from the platform's watcher). */
  drivesChanged(drives: readonly DriveView[]): void;
  close(): void;
}

interface OpenLink {
  readonly link: UploadLink;
  readonly view: LinkView;
}

interface CurrentScan {
  readonly scanId: string;
  readonly controller: AbortController;
  readonly collector?: HeaderCollector;
  result?: ScanResult;
  validation?: ValidationOutcome;
  /** Thumbnails by series UID, rendered once per scan. */
  readonly thumbnails?: Map<string, Promise<ThumbnailView>>;
}

interface CurrentUpload {
  readonly uploadId: string;
  control: UploadControl;
  progress: UploadProgress;
  readonly startedAt: string;
  readonly studies: number;
  readonly link: OpenLink;
}

const newId = (prefix: string): string => `${prefix}_${randomBytes(9).toString('base64url')}`;

/** PatientView keys of the disc's patients the identity check flagged. */
function mismatchedKeys(result: ScanResult, outcome: ValidationOutcome): string[] {
  return result.patients
    .map((patient, index) => ({ patient, key: patientKey(index) }))
    .filter(({ patient }) =>
      outcome.identity.mismatched.some(
        (m) => m.patientId === patient.patientId && m.patientName === patient.patientName,
      ),
    )
    .map(({ key }) => key);
}

/** The series' middle instance by instance number (file order when numbers are missing). */
export function middleInstance(series: MediaSeries): MediaInstance | undefined {
  const sorted = [...series.instances].sort(
    (a, b) =>
      (a.instanceNumber ?? Number.MAX_SAFE_INTEGER) -
        (b.instanceNumber ?? Number.MAX_SAFE_INTEGER) || a.path.localeCompare(b.path),
  );
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** An absolute path for a relative media path, never outside the media root. */
function insideRoot(root: string, relPath: string): string {
  const base = path.resolve(root);
  const full = path.resolve(base, ...relPath.split('/'));
  if (!full.startsWith(base + path.sep)) throw new Error('path outside the media');
  return full;
}

const notAvailable = (what: string): ApiError =>
  new ApiError('not-available', `${what} is not available in this version of Ferry yet.`);

export function createAppService(options: AppServiceOptions): AppService {
  const { engines, platformServices: platform, emit } = options;
  const kiosk = options.kiosk ?? false;
  // Kiosk: nothing of one patient is kept for the next, so transfers are not written down.
  const history: HistoryStore = kiosk
    ? { list: async () => [], upsert: async () => {} }
    : options.history;
  const scan = options.scan ?? scanMedia;
  const now = options.now ?? (() => new Date());
  const render = options.render ?? renderInWorker;

  let openLink: OpenLink | undefined;
  let pendingLink: string | undefined;
  let currentScan: CurrentScan | undefined;
  let upload: CurrentUpload | undefined;
  let drives: readonly DriveView[] = [];

  function requireLink(): OpenLink {
    if (!openLink) throw new ApiError('no-link', 'Open your upload link first.');
    return openLink;
  }

  async function thumbnail(
    root: string,
    seriesInstanceUid: string,
    instance: MediaInstance,
  ): Promise<ThumbnailView> {
    const base = { seriesInstanceUid, path: instance.path };
    let source: RenderSource;
    const files = fileSource(root);
    try {
      // A plain file is read in the worker; a zip entry is inflated here and handed over.
      source = instance.path.includes('!/')
        ? {
            bytes: await readStream(
              (await files.source({ ...instance, studyInstanceUid: '' })).stream,
            ),
          }
        : { path: insideRoot(root, instance.path) };
    } catch {
      return {
        ...base,
        kind: 'unrenderable',
        code: 'malformed',
        reason: 'the file cannot be read',
      };
    } finally {
      files.close();
    }
    const result = await render(source, { maxSize: THUMBNAIL_SIZE });
    if (result.kind === 'unrenderable') return { ...base, ...result };
    const png = encodePng(result);
    return {
      ...base,
      kind: 'rendered',
      dataUrl: `data:image/png;base64,${Buffer.from(png).toString('base64')}`,
      width: result.width,
      height: result.height,
    };
  }

  function requireScan(scanId: string): CurrentScan & { result: ScanResult } {
    if (!currentScan || currentScan.scanId !== scanId || !currentScan.result) {
      throw new ApiError('no-scan', 'Read the disc or folder again: this list is out of date.');
    }
    return currentScan as CurrentScan & { result: ScanResult };
  }

  async function validation(
    scanned: CurrentScan & { result: ScanResult },
  ): Promise<ValidationOutcome | undefined> {
    if (!engines.validate) return undefined;
    const expected = openLink?.view.patient;
    scanned.validation = await engines.validate.validate(scanned.result, {
      ...(expected ? { expectedPatient: expected } : {}),
      ...(scanned.collector ? { collector: scanned.collector } : {}),
    });
    return scanned.validation;
  }

  async function resolve(url: string): Promise<LinkView> {
    // Throws FerryError link-invalid / link-insecure with the catalogue's sentence.
    const link = parseUploadLink(url.trim().replace(/^<(.*)>$/su, '$1'));
    if (!engines.link) throw notAvailable('Opening upload links');
    const view = await engines.link.resolve(link);
    openLink = { link, view };
    if (!kiosk) await platform.secrets.set(LINK_SECRET, `${link.portalUrl}/u/${link.token}`);
    return view;
  }

  function selectedInstances(result: ScanResult, studyKeys: readonly string[]): SelectedInstance[] {
    const wanted = new Set(studyKeys);
    const selected: SelectedInstance[] = [];
    result.patients.forEach((patient, p) =>
      patient.studies.forEach((study, s) => {
        if (!wanted.delete(`p${p + 1}s${s + 1}`)) return;
        for (const series of study.series) {
          for (const instance of series.instances) {
            selected.push({
              studyInstanceUid: study.studyInstanceUid,
              seriesInstanceUid: series.seriesInstanceUid,
              instance,
            });
          }
        }
      }),
    );
    if (wanted.size > 0) throw new ApiError('bad-request', 'A chosen study is not on this disc.');
    if (selected.length === 0) throw new ApiError('bad-request', 'Choose at least one study.');
    return selected;
  }

  function historyEntry(current: CurrentUpload, state: string, message: string): HistoryEntry {
    return {
      transferId: current.progress.transferId ?? current.uploadId,
      portal: current.link.link.portalUrl,
      provider: {
        name: current.link.view.provider.name,
        organization: current.link.view.provider.organization,
      },
      startedAt: current.startedAt,
      studies: current.studies,
      instances: current.progress.totalInstances,
      bytes: current.progress.totalBytes,
      state,
      message,
      checkedAt: now().toISOString(),
    };
  }

  const handlers: ApiHandlers = {
    'app.info': async (): Promise<AppInfo> => {
      const info: AppInfo = {
        host: options.host,
        version: options.version,
        platform: options.platform ?? process.platform,
        canPickFolder: platform.pickFolder !== undefined,
        canEject: platform.drives?.eject !== undefined,
        engines: {
          link: engines.link !== undefined,
          upload: engines.upload !== undefined,
          validate: engines.validate !== undefined,
          deid: engines.deid !== undefined,
        },
        pendingLink: pendingLink ?? null,
        kiosk,
      };
      pendingLink = undefined;
      return info;
    },

    'link.open': async ({ url }) => resolve(url),

    'link.current': async () => {
      if (openLink) return openLink.view;
      const kept = await platform.secrets.get(LINK_SECRET);
      return kept === undefined ? null : resolve(kept);
    },

    'link.forget': async () => {
      openLink = undefined;
      await platform.secrets.delete(LINK_SECRET);
      return null;
    },

    'media.listDrives': async () => {
      if (!platform.drives) return [];
      drives = await platform.drives.list();
      return [...drives];
    },

    'media.pickFolder': async () => {
      if (!platform.pickFolder) throw notAvailable('A folder dialog');
      const chosen = await platform.pickFolder();
      return chosen === null ? null : { path: chosen };
    },

    'media.eject': async ({ driveId }) => {
      const source = platform.drives;
      if (!source?.eject) throw notAvailable('Ejecting');
      const known = drives.length > 0 ? drives : await source.list();
      const drive = known.find((candidate) => candidate.id === driveId);
      if (!drive) throw new ApiError('not-found', 'This drive is no longer there.');
      try {
        await source.eject(drive);
      } catch {
        throw new ApiError(
          'eject-failed',
          'Ferry could not eject this drive. Close any window that shows its files and try again, or eject it from the computer.',
        );
      }
      return null;
    },

    'media.scan': async ({ path: target }): Promise<ScanView> => {
      if (!path.isAbsolute(target)) {
        throw new ApiError(
          'bad-request',
          'Give the full path of the folder or drive, for example /media/cdrom or D:\\.',
        );
      }
      currentScan?.controller.abort();
      const collector = engines.validate?.collector();
      const mine: CurrentScan = {
        scanId: newId('scan'),
        controller: new AbortController(),
        ...(collector ? { collector } : {}),
      };
      currentScan = mine;
      try {
        const result = await scan(target, {
          signal: mine.controller.signal,
          ...(collector ? { onInstanceHeader: collector.onInstanceHeader } : {}),
          onEvent: (event) => {
            if (currentScan !== mine) return;
            if (event.kind === 'progress') {
              emit('scan.progress', {
                scanId: mine.scanId,
                phase: event.phase,
                done: event.done,
                total: event.total,
              });
            } else if (event.kind === 'study-list') {
              emit('scan.studyList', { scan: toScanView(mine.scanId, event.result, false) });
            } else {
              emit('scan.progress', { scanId: mine.scanId, phase: event.phase, done: 0, total: 0 });
            }
          },
        });
        if (mine.controller.signal.aborted) throw new ApiError('cancelled', 'Reading was stopped.');
        mine.result = result;
        return toScanView(mine.scanId, result, true);
      } catch (error) {
        if (currentScan === mine) currentScan = undefined;
        if (error instanceof ApiError) throw error;
        if ((error as Error).name === 'AbortError') {
          throw new ApiError('cancelled', 'Reading was stopped.');
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          throw new ApiError('not-found', 'There is no folder or drive at this path.');
        }
        if (code === 'EACCES' || code === 'EPERM') {
          throw new ApiError('not-readable', 'Ferry is not allowed to read this folder.');
        }
        throw error;
      }
    },

    'media.cancelScan': async () => {
      currentScan?.controller.abort();
      return null;
    },

    'validate.run': async ({ scanId }): Promise<ValidationView> => {
      const scanned = requireScan(scanId);
      const outcome = await validation(scanned);
      if (!outcome) {
        // The scan's own findings are real; only the identity check needs the validator.
        return {
          scanId,
          findings: groupFindings(scanned.result.findings),
          identity: { status: 'not-checked', mismatchedPatientKeys: [] },
        };
      }
      const expected = openLink?.view.patient;
      return {
        scanId,
        findings: groupFindings(outcome.findings),
        identity: {
          status: outcome.identity.status,
          ...(outcome.identity.message !== undefined ? { message: outcome.identity.message } : {}),
          ...(expected ? { expected } : {}),
          mismatchedPatientKeys: mismatchedKeys(scanned.result, outcome),
        },
      };
    },

    'preview.instance': async ({ scanId, path: relPath }) => {
      const { result } = requireScan(scanId);
      const link = requireLink();
      const known = result.patients.some((patient) =>
        patient.studies.some((study) =>
          study.series.some((series) => series.instances.some((i) => i.path === relPath)),
        ),
      );
      // Only files the scan found: the renderer cannot name any other file on the computer.
      if (!known) throw new ApiError('not-found', 'This image is not on the disc that was read.');
      if (!engines.deid) throw notAvailable('The before-and-after preview');
      const preview = await engines.deid.previewInstance(result.root, relPath, link.view.policy);
      return { path: relPath, policy: link.view.policy, ...preview };
    },

    'preview.thumbnail': async ({ scanId, seriesInstanceUid }) => {
      const scanned = requireScan(scanId);
      const series = scanned.result.patients
        .flatMap((patient) => patient.studies)
        .flatMap((study) => study.series)
        .find((item) => item.seriesInstanceUid === seriesInstanceUid);
      const instance = series && middleInstance(series);
      if (!instance)
        throw new ApiError('not-found', 'This series is not on the disc that was read.');
      const cache = scanned.thumbnails ?? new Map<string, Promise<ThumbnailView>>();
      if (!scanned.thumbnails) Object.assign(scanned, { thumbnails: cache });
      let pending = cache.get(seriesInstanceUid);
      if (!pending) {
        pending = thumbnail(scanned.result.root, seriesInstanceUid, instance);
        cache.set(seriesInstanceUid, pending);
      }
      return pending;
    },

    'upload.start': async ({ scanId, studyKeys, burnedInConfirmed, identityConfirmed }) => {
      const link = requireLink();
      const scanned = requireScan(scanId);
      const { result } = scanned;
      if (upload && !['done', 'failed', 'cancelled'].includes(upload.progress.state)) {
        throw new ApiError('busy', 'An upload is already running.');
      }
      if (!engines.upload) throw notAvailable('Sending images');
      const policy = link.view.policy;
      if (policy.kind !== 'none' && !engines.deid) {
        throw new ApiError(
          'deid-unavailable',
          'The hospital asks for the images to be de-identified before they are sent, and this version of Ferry cannot do that yet. Nothing was sent.',
        );
      }
      const outcome = scanned.validation ?? (await validation(scanned));
      if (outcome && !identityConfirmed) {
        const flagged = new Set(mismatchedKeys(result, outcome));
        if (studyKeys.some((key) => flagged.has(key.replace(/s\d+$/u, '')))) {
          throw new ApiError(
            'identity-unconfirmed',
            'Some chosen images may be of another person. Confirm that they are of the person the link was made for, or leave them out.',
          );
        }
      }
      const instances = withoutBlocked(selectedInstances(result, studyKeys), outcome);
      const uploadId = newId('up');
      const totalBytes = instances.reduce((n, item) => n + item.instance.bytes, 0);
      const initial: UploadProgress = {
        uploadId,
        state: 'preparing',
        sentInstances: 0,
        totalInstances: instances.length,
        sentBytes: 0,
        totalBytes,
        bytesPerSecond: 0,
        etaSeconds: null,
      };
      const studies = new Set(instances.map((item) => item.studyInstanceUid)).size;
      platform.keepAwake.start();
      const current: CurrentUpload = {
        uploadId,
        control: { pause() {}, resume() {}, cancel() {}, finished: Promise.resolve() },
        progress: initial,
        startedAt: now().toISOString(),
        studies,
        link,
      };
      upload = current;
      let recorded = false;
      current.control = engines.upload.start(
        {
          link: link.link,
          root: result.root,
          instances,
          policy,
          // Under a de-identifying policy the engine holds back burned-in images unless confirmed.
          burnedInConfirmed,
          client: { name: 'DICOM Ferry', version: options.version },
        },
        (update) => {
          const progress: UploadProgress = { ...update, uploadId };
          current.progress = progress;
          emit('upload.progress', progress);
          if (progress.transferId !== undefined) {
            const terminal = ['done', 'failed', 'cancelled'].includes(progress.state);
            // Recorded as soon as the portal names the transfer, and again when it ends.
            if (terminal || !recorded) {
              recorded = true;
              void history
                .upsert(historyEntry(current, progress.state, progress.error?.message ?? ''))
                .catch(() => {});
            }
          }
        },
      );
      void current.control.finished.finally(() => platform.keepAwake.stop());
      return current.progress;
    },

    'upload.pause': async ({ uploadId }) => {
      const current = requireUpload(uploadId);
      current.control.pause();
      return current.progress;
    },

    'upload.resume': async ({ uploadId }) => {
      const current = requireUpload(uploadId);
      current.control.resume();
      return current.progress;
    },

    'upload.cancel': async ({ uploadId }) => {
      const current = requireUpload(uploadId);
      current.control.cancel();
      return current.progress;
    },

    'upload.current': async () => upload?.progress ?? null,

    'transfer.status': async ({ transferId }) => {
      const link = requireLink();
      if (!engines.link) throw notAvailable('Transfer status');
      const status: TransferStatusView = {
        ...(await engines.link.transferStatus(link.link, transferId)),
        portal: link.link.portalUrl,
        provider: { name: link.view.provider.name, organization: link.view.provider.organization },
      };
      const known = (await history.list()).find((entry) => entry.transferId === status.transferId);
      if (known) {
        await history.upsert({
          ...known,
          state: status.state,
          message: status.message,
          checkedAt: now().toISOString(),
        });
      }
      return status;
    },

    'history.list': async () => history.list(),
  };

  /**
   * What validation holds back: files with an error finding (damaged, unreadable) and extra
   * copies. An identity mismatch is an error finding too, released by the user's confirmation
   * (checked before this is called).
   */
  function withoutBlocked(
    instances: SelectedInstance[],
    outcome: ValidationOutcome | undefined,
  ): SelectedInstance[] {
    if (!outcome) return instances;
    const held = new Set(outcome.duplicatePaths);
    for (const finding of outcome.findings) {
      if (finding.severity !== 'error') continue;
      if (finding.code === 'dicomdir-missing-file' || finding.code === 'patient-mismatch') continue;
      for (const relPath of finding.paths) held.add(relPath);
    }
    const kept = instances.filter((item) => !held.has(item.instance.path));
    if (kept.length === 0) {
      throw new ApiError(
        'nothing-sendable',
        'None of the chosen images can be sent: they are damaged or unreadable (see what Ferry noticed on the disc).',
      );
    }
    return kept;
  }

  function requireUpload(uploadId: string): CurrentUpload {
    if (!upload || upload.uploadId !== uploadId) {
      throw new ApiError('no-upload', 'This upload is no longer running.');
    }
    return upload;
  }

  return {
    handlers,
    openLinkFromOutside(url) {
      pendingLink = url;
      emit('link.opened', { url });
    },
    drivesChanged(next) {
      drives = next;
      emit('drives.changed', { drives: [...next] });
    },
    close() {
      currentScan?.controller.abort();
      if (upload && !['done', 'failed', 'cancelled'].includes(upload.progress.state)) {
        upload.control.pause();
      }
      platform.keepAwake.stop();
    },
  };
}
