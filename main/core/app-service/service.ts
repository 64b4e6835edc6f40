/**
 * The app service: api.ts implemented on the core, in plain Node. One instance per app window
 * (Electron) or per browser host. It keeps the session's state (the open link, the last scan,
 * the running upload) so the renderer holds views only and never touches files or the network.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type {
  ApiErrorBody,
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
import { FerryError } from '../errors.ts';
import { memoryMaskTemplates, type MaskTemplateStore } from '../deid/mask-templates.ts';
import { SeriesMasks } from '../deid/series-masks.ts';
import { encodePng } from '../imaging/png.ts';
import { renderInWorker, type RenderSource } from '../imaging/render-pool.ts';
import { THUMBNAIL_SIZE } from '../imaging/render.ts';
import type { RenderOptions, RenderResult } from '../imaging/types.ts';
import { parseUploadLink, type UploadLink } from '../link/link-url.ts';
import type { MediaInstance, MediaSeries, ScanResult } from '../media/model.ts';
import { scanMedia, type ScanOptions } from '../media/scan.ts';
import { buildSupportBundle, createSupportLog, type SupportLog } from '../support-bundle.ts';
import { fileSource } from '../upload/source.ts';
import type {
  Engines,
  HeaderCollector,
  Platform,
  SelectedInstance,
  UploadControl,
  ValidationOutcome,
} from './engines.ts';
import { ApiError, toErrorBody } from './errors.ts';
import type { HistoryStore } from './history.ts';
import { createMaskHandlers } from './masks.ts';
import { createImageRenderer } from './image.ts';
import { DEFAULT_KIOSK_IDLE_SECONDS, ejectMediaDrive, removeContents } from './kiosk.ts';
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
  readonly render?: (source: RenderSource, options: RenderOptions) => Promise<RenderResult>;
  /**
   * Folders whose contents belong to the person being served (upload journals, kept timelines,
   * the app's own temporary files): emptied by session.reset in kiosk mode.
   */
  readonly sessionDirs?: readonly string[];
  /** Kiosk: inactivity before the UI offers to return to the start (AppInfo.kioskIdleSeconds). */
  readonly kioskIdleSeconds?: number;
  /** Kiosk: what else the host clears on session.reset (Electron: the page's caches). */
  readonly onSessionReset?: () => Promise<void>;
  /** Error codes, timings and findings for the support file; one is made when absent. */
  readonly supportLog?: SupportLog;
  /** Mask templates per device and image size (a file in the app's data folder, kept in kiosk mode). */
  readonly maskTemplates?: MaskTemplateStore;
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

/** Whether the scan found an instance at this path (relative to the media root). */
function isOnScan(result: ScanResult, relPath: string): boolean {
  return result.patients.some((patient) =>
    patient.studies.some((study) =>
      study.series.some((series) => series.instances.some((i) => i.path === relPath)),
    ),
  );
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
  // Keeps the last instances' outgoing bytes: call images.forget() when what is sent changes.
  const images = createImageRenderer({
    render,
    deid: () => engines.deid,
    masked: (root, relPath) => seriesMasks.forPath(root, relPath) !== undefined,
  });
  const supportLog = options.supportLog ?? createSupportLog();
  // The user's masks: the engines read them for the preview and the upload alike.
  const seriesMasks = engines.masks ?? new SeriesMasks();
  const maskHandlers = createMaskHandlers({
    scanFor: (scanId) => requireScan(scanId),
    masks: seriesMasks,
    templates: options.maskTemplates ?? memoryMaskTemplates(),
    referenceInstance: middleInstance,
    changed: (seriesInstanceUid) => {
      images.forget();
      // The thumbnail shows the masked pixels that are sent: render it again.
      currentScan?.thumbnails?.delete(seriesInstanceUid);
    },
  });

  let openLink: OpenLink | undefined;
  let pendingLink: string | undefined;
  let currentScan: CurrentScan | undefined;
  let upload: CurrentUpload | undefined;
  let drives: readonly DriveView[] = [];

  function requireLink(): OpenLink {
    if (!openLink) throw new ApiError('no-link');
    return openLink;
  }

  async function thumbnail(
    scanId: string,
    root: string,
    seriesInstanceUid: string,
    instance: MediaInstance,
  ): Promise<ThumbnailView> {
    const base = { seriesInstanceUid, path: instance.path };
    if (seriesMasks.get(root, seriesInstanceUid)) {
      // A masked series: the thumbnail shows the outgoing pixels, as the image view does.
      let masked: RenderResult;
      try {
        masked = await images.renderOutgoing(
          {
            scanId,
            root,
            path: instance.path,
            policy: openLink?.view.policy ?? { kind: 'none' },
          },
          { maxSize: THUMBNAIL_SIZE },
        );
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return { ...base, kind: 'unrenderable', code: error.code, reason: error.message };
      }
      return thumbnailOf(base, masked);
    }
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
    return thumbnailOf(base, await render(source, { maxSize: THUMBNAIL_SIZE }));
  }

  function thumbnailOf(
    base: { readonly seriesInstanceUid: string; readonly path: string },
    result: RenderResult,
  ): ThumbnailView {
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
      throw new ApiError('scan-outdated');
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
    if (!engines.link) throw new ApiError('links-unavailable');
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
    if (wanted.size > 0) throw new ApiError('study-not-on-disc');
    if (selected.length === 0) throw new ApiError('no-study-chosen');
    return selected;
  }

  function historyEntry(
    current: CurrentUpload,
    state: string,
    message: string,
    error?: ApiErrorBody,
  ): HistoryEntry {
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
      ...(error !== undefined ? { error } : {}),
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
        ...(kiosk
          ? { kioskIdleSeconds: options.kioskIdleSeconds ?? DEFAULT_KIOSK_IDLE_SECONDS }
          : {}),
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
      images.forget();
      await platform.secrets.delete(LINK_SECRET);
      return null;
    },

    'media.listDrives': async () => {
      if (!platform.drives) return [];
      drives = await platform.drives.list();
      return [...drives];
    },

    'media.pickFolder': async () => {
      if (!platform.pickFolder) throw new ApiError('folder-dialog-unavailable');
      const chosen = await platform.pickFolder();
      return chosen === null ? null : { path: chosen };
    },

    'media.eject': async ({ driveId }) => {
      const source = platform.drives;
      if (!source?.eject) throw new ApiError('eject-unavailable');
      const known = drives.length > 0 ? drives : await source.list();
      const drive = known.find((candidate) => candidate.id === driveId);
      if (!drive) throw new ApiError('drive-gone');
      try {
        await source.eject(drive);
      } catch {
        throw new ApiError('eject-failed');
      }
      return null;
    },

    'media.scan': async ({ path: target }): Promise<ScanView> => {
      if (!path.isAbsolute(target)) {
        throw new ApiError('path-not-absolute');
      }
      currentScan?.controller.abort();
      // Masks belong to the disc they were drawn on.
      seriesMasks.clear();
      // The last disc's images leave memory with it.
      images.forget();
      const collector = engines.validate?.collector();
      const mine: CurrentScan = {
        scanId: newId('scan'),
        controller: new AbortController(),
        ...(collector ? { collector } : {}),
      };
      currentScan = mine;
      const startedAt = performance.now();
      try {
        const result = await scan(target, {
          signal: mine.controller.signal,
          ...(collector
            ? {
                onInstanceHeader: collector.onInstanceHeader,
                instanceHeadersOnly: collector.instanceHeadersOnly === true,
              }
            : {}),
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
        if (mine.controller.signal.aborted) throw new ApiError('scan-stopped');
        mine.result = result;
        const view = toScanView(mine.scanId, result, true);
        supportLog.scanFinished(view, performance.now() - startedAt);
        return view;
      } catch (error) {
        if (currentScan === mine) currentScan = undefined;
        if (error instanceof ApiError) throw error;
        if ((error as Error).name === 'AbortError') {
          throw new ApiError('scan-stopped');
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          throw new ApiError('path-not-found');
        }
        if (code === 'EACCES' || code === 'EPERM') {
          throw new ApiError('path-not-readable');
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
      const findings = groupFindings(outcome.findings);
      supportLog.findingsShown(findings);
      return {
        scanId,
        findings,
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
      if (!known) throw new ApiError('image-not-on-disc');
      if (!engines.deid) throw new ApiError('preview-unavailable');
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
      if (!instance) throw new ApiError('series-not-on-disc');
      const cache = scanned.thumbnails ?? new Map<string, Promise<ThumbnailView>>();
      if (!scanned.thumbnails) Object.assign(scanned, { thumbnails: cache });
      let pending = cache.get(seriesInstanceUid);
      if (!pending) {
        pending = thumbnail(scanId, scanned.result.root, seriesInstanceUid, instance);
        cache.set(seriesInstanceUid, pending);
      }
      return pending;
    },

    'preview.image': async ({ scanId, path: relPath, frame, window, maxSize }) => {
      const { result } = requireScan(scanId);
      const link = requireLink();
      // Only files the scan found: the renderer cannot name any other file on the computer.
      if (!isOnScan(result, relPath)) throw new ApiError('image-not-on-disc');
      return images.render({
        scanId,
        root: result.root,
        path: relPath,
        policy: link.view.policy,
        frame,
        ...(window ? { window } : {}),
        ...(maxSize !== undefined ? { maxSize } : {}),
      });
    },

    ...maskHandlers,

    'upload.start': async ({ scanId, studyKeys, burnedInConfirmed, identityConfirmed }) => {
      const link = requireLink();
      const scanned = requireScan(scanId);
      const { result } = scanned;
      if (upload && !['done', 'failed', 'cancelled'].includes(upload.progress.state)) {
        throw new ApiError('upload-running');
      }
      if (!engines.upload) throw new ApiError('upload-unavailable');
      const policy = link.view.policy;
      if (policy.kind !== 'none' && !engines.deid) {
        throw new FerryError('deid-unavailable', { detail: `policy ${policy.kind}` });
      }
      const outcome = scanned.validation ?? (await validation(scanned));
      if (outcome && !identityConfirmed) {
        const flagged = new Set(mismatchedKeys(result, outcome));
        if (studyKeys.some((key) => flagged.has(key.replace(/s\d+$/u, '')))) {
          throw new ApiError('identity-unconfirmed');
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
      let ended = false;
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
          if (!ended && ['done', 'failed', 'cancelled'].includes(progress.state)) {
            ended = true;
            supportLog.uploadEnded(progress.state, progress.error?.code);
            if (kiosk && progress.state === 'done') void ejectAfterTransfer(result.root);
          }
          if (progress.transferId !== undefined) {
            const terminal = ['done', 'failed', 'cancelled'].includes(progress.state);
            // Recorded as soon as the portal names the transfer, and again when it ends.
            if (terminal || !recorded) {
              recorded = true;
              void history
                .upsert(
                  historyEntry(
                    current,
                    progress.state,
                    progress.error?.message ?? '',
                    progress.error,
                  ),
                )
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
      if (!engines.link) throw new ApiError('status-unavailable');
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

    'session.reset': async () => {
      if (upload && !['done', 'failed', 'cancelled'].includes(upload.progress.state)) {
        throw new ApiError('reset-while-sending');
      }
      const finishing = upload?.control.finished;
      currentScan?.controller.abort();
      currentScan = undefined;
      seriesMasks.clear();
      images.forget();
      upload = undefined;
      openLink = undefined;
      pendingLink = undefined;
      supportLog.forgetScan();
      engines.link?.forget?.();
      await platform.secrets.delete(LINK_SECRET);
      // The engine closes the journal after its last update; wait before removing it.
      await finishing?.catch(() => {});
      let removedFiles = 0;
      if (kiosk) {
        for (const dir of options.sessionDirs ?? []) removedFiles += await removeContents(dir);
        await options.onSessionReset?.();
      }
      return { removedFiles };
    },

    'support.bundle': async ({ language }) =>
      buildSupportBundle({
        log: supportLog,
        app: { version: options.version, host: options.host },
        settings: {
          kiosk,
          language,
          linkOpen: openLink !== undefined,
          secretsPersistent: platform.secrets.persistent,
        },
        engines: {
          link: engines.link !== undefined,
          upload: engines.upload !== undefined,
          validate: engines.validate !== undefined,
          deid: engines.deid !== undefined,
        },
        now: now(),
      }),
  };

  /** Kiosk: the disc goes back out of the drive once its images are sent. */
  async function ejectAfterTransfer(mediaRoot: string): Promise<void> {
    const outcome = await ejectMediaDrive(mediaRoot, platform.drives, drives);
    if (outcome.kind === 'failed') supportLog.callFailed('media.eject', 'eject-failed', 0);
    if (outcome.kind !== 'ejected' || !platform.drives) return;
    const remaining = await platform.drives.list().catch(() => undefined);
    // The watcher would notice too, seconds later; the status screen should know now.
    drives = remaining ?? drives.filter((drive) => drive.id !== outcome.drive.id);
    emit('drives.changed', { drives: [...drives] });
  }

  /** Every call timed; the ones that fail are counted by code for the support file. */
  const timed = Object.fromEntries(
    Object.entries(handlers).map(([method, handler]) => [
      method,
      async (request: unknown) => {
        const started = performance.now();
        try {
          return await (handler as (request: unknown) => Promise<unknown>)(request);
        } catch (error) {
          supportLog.callFailed(
            method as keyof ApiHandlers,
            toErrorBody(error).code,
            performance.now() - started,
            now(),
          );
          throw error;
        }
      },
    ]),
  ) as unknown as ApiHandlers;

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
      throw new ApiError('nothing-sendable');
    }
    return kept;
  }

  function requireUpload(uploadId: string): CurrentUpload {
    if (!upload || upload.uploadId !== uploadId) {
      throw new ApiError('no-upload');
    }
    return upload;
  }

  return {
    handlers: timed,
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
