/**
 * The one typed contract between the UI and the core (ARCHITECTURE.md): every method as
 * request -> response, every event as its payload, and a runtime schema per request.
 *
 * Three transports carry it unchanged: Electron IPC (main/app/ipc.ts + preload/preload.ts), the
 * browser host's WebSocket (main/host/server.ts) and direct calls. After GitHub Desktop's
 * ipc-shared.ts: the channel list is derived from this file, never written twice.
 *
 * Everything here is plain data (structured-clone safe) and this file imports no Node module, so
 * the renderer and the preload may import it. Views carry what the screens show; file paths
 * relative to the media root appear only where the user chose them.
 */
import { s, type Infer, type Schema } from './api-schema.ts';
import type { LinkPolicy } from './link/model.ts';

export type { Schema } from './api-schema.ts';

// ---------------------------------------------------------------------------------------------
// Views

export type HostKind = 'electron' | 'browser-host';

/** Core engines that are built by other parts of the project; the UI says plainly what is missing. */
export interface EngineAvailability {
  readonly link: boolean;
  readonly upload: boolean;
  readonly validate: boolean;
  readonly deid: boolean;
}

export interface AppInfo {
  readonly host: HostKind;
  readonly version: string;
  readonly platform: string;
  /** A native folder dialog exists (Electron); the browser host offers a path field instead. */
  readonly canPickFolder: boolean;
  readonly canEject: boolean;
  readonly engines: EngineAvailability;
  /** A link handed over before the UI was ready (deep link at launch, --link); read once. */
  readonly pendingLink: string | null;
  /**
   * Front-desk mode (--kiosk): no history is kept or listed, the link is not remembered, and the
   * UI returns to the start after each finished transfer.
   */
  readonly kiosk: boolean;
}

/** The link's de-identification policy, as the protocol gives it (main/core/link/model.ts). */
export type PolicyView = LinkPolicy;

export interface LinkTransferView {
  readonly transferId: string;
  readonly state: string;
  readonly message: string;
}

export interface LinkView {
  /** The portal's origin, e.g. https://images.example-hospital.org */
  readonly portal: string;
  readonly provider: {
    readonly name: string;
    readonly department: string;
    readonly organization: string;
  };
  readonly recipientName: string;
  /** Whom the hospital expects images of (the identity check compares the disc with this). */
  readonly patient: { readonly name: string; readonly birthDate: string };
  readonly expiresAt: string;
  readonly policy: PolicyView;
  readonly limits: { readonly maxBytes: number; readonly maxInstances: number };
  readonly transfers: readonly LinkTransferView[];
}

export type DriveKind = 'optical' | 'usb' | 'removable';

export interface DriveView {
  /** Stable while the drive is present: the device or volume path. */
  readonly id: string;
  readonly label: string;
  readonly mountPath: string;
  readonly kind: DriveKind;
  readonly bytes?: number;
}

export type Severity = 'error' | 'warning' | 'info';

export interface FindingView {
  readonly severity: Severity;
  readonly code: string;
  /** The catalogue's plain sentence, word for word. */
  readonly message: string;
  /** How many files it concerns. */
  readonly count: number;
  /** The first few of them, relative to the media root. */
  readonly paths: readonly string[];
}

export interface SeriesView {
  readonly seriesInstanceUid: string;
  readonly modality: string;
  readonly number?: number;
  readonly description: string;
  readonly instances: number;
  readonly bytes: number;
  /** The first instance's path relative to the media root (for preview). */
  readonly firstPath: string;
}

export interface StudyView {
  /** Unique on this scan (a study UID may appear under two patients on a damaged disc). */
  readonly key: string;
  readonly studyInstanceUid: string;
  readonly date: string;
  readonly time: string;
  readonly description: string;
  readonly accessionNumber: string;
  readonly modalities: readonly string[];
  readonly instances: number;
  readonly bytes: number;
  readonly series: readonly SeriesView[];
}

export interface PatientView {
  readonly key: string;
  /** DICOM PN as on the disc (components separated by ^); the UI formats it. */
  readonly name: string;
  readonly patientId: string;
  readonly birthDate: string;
  readonly sex: string;
  readonly studies: readonly StudyView[];
}

export interface ScanView {
  readonly scanId: string;
  readonly root: string;
  readonly source: 'dicomdir' | 'walk';
  /** False while only the DICOMDIR has been read (the study list event). */
  readonly complete: boolean;
  readonly summary: {
    readonly patients: number;
    readonly studies: number;
    readonly series: number;
    readonly instances: number;
    readonly bytes: number;
    readonly nonDicomFiles: number;
    readonly unreadableFiles: number;
  };
  readonly patients: readonly PatientView[];
  readonly findings: readonly FindingView[];
}

export type IdentityStatus = 'match' | 'mismatch' | 'not-checked';

export interface IdentityView {
  readonly status: IdentityStatus;
  /** The validator's plain sentence when it found a mismatch. */
  readonly message?: string;
  readonly expected?: { readonly name: string; readonly birthDate: string };
  /** The disc's patients that do not match, by PatientView.key. */
  readonly mismatchedPatientKeys: readonly string[];
}

export interface ValidationView {
  readonly scanId: string;
  readonly findings: readonly FindingView[];
  readonly identity: IdentityView;
}

export type AttributeAction = 'kept' | 'removed' | 'replaced' | 'emptied' | 'added';

export interface AttributeRow {
  /** (gggg,eeee) */
  readonly tag: string;
  readonly keyword: string;
  readonly before: string;
  readonly after: string;
  readonly action: AttributeAction;
}

export interface PreviewView {
  readonly path: string;
  readonly policy: PolicyView;
  readonly attributes: readonly AttributeRow[];
  /** Burned-in Annotation YES, or a modality known for text in the pixels (US, SC...). */
  readonly burnedIn: 'yes' | 'possible' | 'no';
}

export type UploadState =
  | 'preparing'
  | 'sending'
  | 'paused'
  | 'waiting-network'
  | 'committing'
  | 'done'
  | 'failed'
  | 'cancelled';

/** A series' thumbnail: its middle image rendered off the main thread, or why it cannot be. */
export type ThumbnailView =
  | {
      readonly kind: 'rendered';
      readonly seriesInstanceUid: string;
      /** The rendered instance, relative to the media root. */
      readonly path: string;
      /** image/png, at most 128 pixels on the longer side. */
      readonly dataUrl: string;
      readonly width: number;
      readonly height: number;
    }
  | {
      readonly kind: 'unrenderable';
      readonly seriesInstanceUid: string;
      readonly path: string;
      /** main/core/imaging's code (unsupported-transfer-syntax, no-pixel-data, ...). */
      readonly code: string;
      /** For support; no patient values. The image can still be sent. */
      readonly reason: string;
    };

export interface UploadProgress {
  readonly uploadId: string;
  readonly state: UploadState;
  readonly transferId?: string;
  readonly sentInstances: number;
  readonly totalInstances: number;
  readonly sentBytes: number;
  readonly totalBytes: number;
  /** Over the last few seconds; 0 when paused. */
  readonly bytesPerSecond: number;
  /** Null when unknown (starting, paused, no rate yet). */
  readonly etaSeconds: number | null;
  readonly error?: ApiErrorBody;
}

export interface TimelineEntryView {
  readonly state: string;
  readonly at: string;
  /** The portal's sentence, shown word for word. */
  readonly message: string;
}

export interface TransferStatusView {
  /** Also the reference number printed on the receipt. */
  readonly transferId: string;
  readonly state: string;
  readonly terminal: boolean;
  readonly message: string;
  readonly received: { readonly instances: number; readonly bytes: number };
  readonly expected: { readonly instances: number; readonly bytes: number } | null;
  readonly createdAt: string;
  readonly timeline: readonly TimelineEntryView[];
  readonly portal: string;
  readonly provider: { readonly name: string; readonly organization: string };
}

/** A past transfer; no patient name or ID is kept (kiosk mode keeps none at all). */
export interface HistoryEntry {
  readonly transferId: string;
  readonly portal: string;
  readonly provider: { readonly name: string; readonly organization: string };
  readonly startedAt: string;
  readonly studies: number;
  readonly instances: number;
  readonly bytes: number;
  readonly state: string;
  readonly message: string;
  readonly checkedAt: string;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Stable codes. The portal's own codes (link-expired, link-revoked, link-unknown, over-limit...,
 * docs/upload-link-protocol.md) pass through unchanged with the portal's message.
 */
export type ApiErrorCode =
  | 'bad-request'
  | 'unknown-method'
  | 'not-available'
  | 'busy'
  | 'cancelled'
  | 'no-link'
  | 'no-scan'
  | 'no-upload'
  | 'not-found'
  | 'network'
  | 'deid-unavailable'
  | 'burned-in-unconfirmed'
  | 'internal'
  | (string & {});

export interface ApiErrorBody {
  readonly code: ApiErrorCode;
  /** A plain sentence; never carries patient values. */
  readonly message: string;
}

export type ApiResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiErrorBody };

// ---------------------------------------------------------------------------------------------
// Methods: one request schema each; the response types below

const uploadId = s.string({ min: 1, max: 100, pattern: /^[A-Za-z0-9_-]+$/u });
const key = s.string({ min: 1, max: 200 });

export const requestSchemas = {
  'app.info': s.none(),
  /** Paste or deep link: https://<portal>/u/<token> or ferry://<portal>/u/<token>. */
  'link.open': s.object({ url: s.string({ min: 1, max: 2048 }) }),
  /** The link kept from last time (safeStorage), resolved again; null when none. */
  'link.current': s.none(),
  'link.forget': s.none(),
  'media.listDrives': s.none(),
  /** App-provided folder dialog; null when the user cancels. */
  'media.pickFolder': s.none(),
  'media.eject': s.object({ driveId: s.string({ min: 1, max: 1024 }) }),
  'media.scan': s.object({ path: s.string({ min: 1, max: 4096 }) }),
  'media.cancelScan': s.none(),
  'validate.run': s.object({ scanId: key }),
  'preview.instance': s.object({ scanId: key, path: s.string({ min: 1, max: 4096 }) }),
  /** A thumbnail of the series' middle instance (by instance number), rendered in a worker. */
  'preview.thumbnail': s.object({ scanId: key, seriesInstanceUid: s.string({ min: 1, max: 64 }) }),
  'upload.start': s.object({
    scanId: key,
    studyKeys: s.array(key, { max: 1000 }),
    /** The user looked at the instances flagged for burned-in text and agreed to send them. */
    burnedInConfirmed: s.boolean(),
    /**
     * The user confirmed that chosen images the identity check flagged are of the link's patient;
     * without it they are not sent.
     */
    identityConfirmed: s.boolean(),
  }),
  'upload.pause': s.object({ uploadId }),
  'upload.resume': s.object({ uploadId }),
  'upload.cancel': s.object({ uploadId }),
  /** The running or last upload, to restore the screen after a reload. */
  'upload.current': s.none(),
  /** The current link's transfer; the latest one when transferId is absent. */
  'transfer.status': s.object({ transferId: s.optional(s.string({ min: 1, max: 200 })) }),
  'history.list': s.none(),
} as const satisfies Record<string, Schema<unknown>>;

export interface ApiResponses {
  'app.info': AppInfo;
  'link.open': LinkView;
  'link.current': LinkView | null;
  'link.forget': null;
  'media.listDrives': DriveView[];
  'media.pickFolder': { path: string } | null;
  'media.eject': null;
  'media.scan': ScanView;
  'media.cancelScan': null;
  'validate.run': ValidationView;
  'preview.instance': PreviewView;
  'preview.thumbnail': ThumbnailView;
  'upload.start': UploadProgress;
  'upload.pause': UploadProgress;
  'upload.resume': UploadProgress;
  'upload.cancel': UploadProgress;
  'upload.current': UploadProgress | null;
  'transfer.status': TransferStatusView;
  'history.list': HistoryEntry[];
}

export type MethodName = keyof ApiResponses;
export type ApiRequest<M extends MethodName> = Infer<(typeof requestSchemas)[M]>;
export type ApiResponse<M extends MethodName> = ApiResponses[M];

// Both maps name the same methods, or this fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameMethods: Same<keyof typeof requestSchemas, MethodName> = true;
void sameMethods;

export const METHOD_NAMES = Object.freeze(Object.keys(requestSchemas) as MethodName[]);

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(requestSchemas, value);
}

/** The first problem with a request, as a sentence, or undefined when it is valid. */
export function checkRequest(method: MethodName, request: unknown): string | undefined {
  return requestSchemas[method].check(request, 'request');
}

// ---------------------------------------------------------------------------------------------
// Events (core -> UI)

export interface ApiEvents {
  'scan.progress': {
    readonly scanId: string;
    readonly phase: 'dicomdir' | 'index' | 'headers' | 'zip';
    readonly done: number;
    readonly total: number;
  };
  /** The study list as soon as it is known (from the DICOMDIR, before image files are read). */
  'scan.studyList': { readonly scan: ScanView };
  'upload.progress': UploadProgress;
  /** A link arrived from outside: a ferry:// deep link, a second launch, or --link. */
  'link.opened': { readonly url: string };
  'drives.changed': { readonly drives: readonly DriveView[] };
}

export type EventName = keyof ApiEvents;

const eventNames: Record<EventName, true> = {
  'scan.progress': true,
  'scan.studyList': true,
  'upload.progress': true,
  'link.opened': true,
  'drives.changed': true,
};

export const EVENT_NAMES = Object.freeze(Object.keys(eventNames) as EventName[]);

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.hasOwn(eventNames, value);
}

// ---------------------------------------------------------------------------------------------
// What a transport exposes to the renderer (window.ferry in Electron, the WebSocket client in
// the browser host): one function per method, and event subscription.

export type BridgeMethods = {
  readonly [M in MethodName]: (request: ApiRequest<M>) => Promise<ApiResult<ApiResponse<M>>>;
};

export interface FerryBridge extends BridgeMethods {
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
  /**
   * Electron only: the path of a file or folder dropped on the window (sandboxed pages see none).
   * The browser host reads dropped paths from text/uri-list instead.
   */
  readonly pathForFile?: (file: unknown) => string;
}

/** The core side of the contract: what the service implements, whatever carries it. */
export type ApiHandlers = {
  readonly [M in MethodName]: (request: ApiRequest<M>) => Promise<ApiResponse<M>>;
};

export type EventSink = <E extends EventName>(event: E, payload: ApiEvents[E]) => void;

/** IPC channel names (Electron): one per method and one per event. */
export const invokeChannel = (method: MethodName): string => `ferry:${method}`;
export const eventChannel = (event: EventName): string => `ferry:event:${event}`;

/** The name under which the preload exposes the bridge: window.ferry. */
export const BRIDGE_GLOBAL = 'ferry';
