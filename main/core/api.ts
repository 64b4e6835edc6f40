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
import type { UnrenderableCode } from './imaging/types.ts';
import type { LinkPolicy } from './link/model.ts';

export type { Schema } from './api-schema.ts';
export type { UnrenderableCode } from './imaging/types.ts';

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
  /**
   * Kiosk: seconds without input after which the UI offers to return to the start (a countdown
   * any key or click cancels); absent outside kiosk mode.
   */
  readonly kioskIdleSeconds?: number;
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
  /** The validator's plain sentence when it found a mismatch: the patient-mismatch finding's. */
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

/** A rectangle to black out, in the image's own pixels from the top left (0-based). */
export interface MaskRectView {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A series' mask: the user's rectangles (applied to every instance of the series with the same
 * rows and columns, whatever the link's policy), or a template's proposal for this device and
 * image size (not applied until the user sets it), or none.
 */
export interface MaskView {
  readonly seriesInstanceUid: string;
  readonly rectangles: readonly MaskRectView[];
  readonly source: 'user' | 'template' | 'none';
  /** The template that proposed or received the rectangles: manufacturer|model|rowsxcolumns. */
  readonly templateKey?: string;
  /** The image size the rectangles belong to. */
  readonly rows: number;
  readonly columns: number;
  /** The instance the editor shows (relative to the media root): the series' thumbnail image. */
  readonly path: string;
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

/** A window (VOI) as center and width, in the image's modality values (PS3.3 C.11.2.1.2). */
export interface WindowView {
  readonly center: number;
  readonly width: number;
}

/**
 * One frame of one instance for the image view, rendered in a worker from the bytes that will be
 * sent (de-identified and masked when the link's policy asks for it), or why it cannot be.
 */
export type ImageRenderView =
  | {
      readonly kind: 'rendered';
      /** The instance, relative to the media root. */
      readonly path: string;
      /** 0-based. */
      readonly frame: number;
      readonly frames: number;
      /** Native size (Columns, Rows): mask rectangles are in these pixels. */
      readonly columns: number;
      readonly rows: number;
      /** Rendered size, at most maxSize on the longer side. */
      readonly width: number;
      readonly height: number;
      /** image/png */
      readonly dataUrl: string;
      /**
       * The window applied. Null when none applies: colour images, or the header's VOI LUT
       * before the user chose a window.
       */
      readonly window: WindowView | null;
      /** What a reset returns to: the header's first window, else the frame's min-max. */
      readonly defaultWindow: WindowView | null;
      /** The outgoing pixels were masked (rectangles blanked before sending). */
      readonly masked: boolean;
    }
  | {
      readonly kind: 'unrenderable';
      readonly path: string;
      /** Plain words, no patient values. The image can still be sent. */
      readonly reason: string;
      /** Why, for the UI's language: main/core/imaging's code, or the error that stopped it. */
      readonly why?:
        | { readonly kind: 'imaging'; readonly code: UnrenderableCode }
        | { readonly kind: 'error'; readonly error: ApiErrorBody };
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
  /** Why the upload stopped, when `message` is that error's sentence (shown in the UI's language). */
  readonly error?: ApiErrorBody;
  readonly checkedAt: string;
}

/** What session.reset removed: nothing of the previous person stays for the next. */
export interface SessionResetView {
  /** Files removed from the app's data and temporary folders (journals, kept timelines...). */
  readonly removedFiles: number;
}

/**
 * A support file for the help desk (main/core/support-bundle.ts): versions, settings, error codes
 * and findings' codes with counts. Built from codes and numbers only: no names, IDs, UIDs, dates
 * of birth, paths or messages.
 */
export interface SupportBundleView {
  readonly format: 'dicom-ferry-support';
  readonly version: 1;
  readonly createdAt: string;
  readonly app: { readonly version: string; readonly host: HostKind };
  readonly runtime: {
    readonly node: string;
    readonly electron: string | null;
    readonly chrome: string | null;
    readonly os: string;
    readonly osRelease: string;
    readonly arch: string;
  };
  readonly settings: {
    readonly kiosk: boolean;
    readonly language: string;
    readonly linkOpen: boolean;
    readonly secretsPersistent: boolean;
  };
  readonly engines: EngineAvailability;
  readonly uptimeSeconds: number;
  /** Per method and error code: how often, when first and last, and how long the calls took. */
  readonly errors: readonly {
    readonly method: string;
    readonly code: string;
    readonly count: number;
    readonly firstAt: string;
    readonly lastAt: string;
    readonly medianMs: number;
    readonly maxMs: number;
  }[];
  /** Upload outcomes by state and error code. */
  readonly uploads: readonly {
    readonly state: string;
    readonly code: string | null;
    readonly count: number;
  }[];
  /** The last scan's findings: code, severity, how many files. */
  readonly findings: readonly {
    readonly code: string;
    readonly severity: Severity;
    readonly files: number;
  }[];
  readonly lastScan: {
    readonly source: 'dicomdir' | 'walk';
    readonly patients: number;
    readonly studies: number;
    readonly series: number;
    readonly instances: number;
    readonly bytes: number;
    readonly nonDicomFiles: number;
    readonly unreadableFiles: number;
    readonly durationMs: number;
  } | null;
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
  /**
   * Which catalogue sentence `message` is (main/core/app-service/errors.ts), for the UI to show
   * it in the user's language; absent when the code alone names it (main/core/errors.ts).
   */
  readonly messageId?: string;
  /** Values the sentence mentions (counts), for the translation's `{name}` parameters. */
  readonly params?: Readonly<Record<string, string | number>>;
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
  /** One frame large (the image view), from the bytes that will be sent; rendered in a worker. */
  'preview.image': s.object({
    scanId: key,
    path: s.string({ min: 1, max: 4096 }),
    frame: s.integer({ min: 0, max: 1_000_000 }),
    window: s.optional(
      s.object({
        center: s.number({ min: -1e9, max: 1e9 }),
        width: s.number({ min: 1e-6, max: 1e9 }),
      }),
    ),
    maxSize: s.optional(s.integer({ min: 64, max: 2048 })),
  }),
  /** The series' mask, or a template's proposal for it. */
  'masks.get': s.object({ scanId: key, seriesInstanceUid: s.string({ min: 1, max: 64 }) }),
  /** Rectangles (image pixels) to black out in every instance of the series; saved as a template. */
  'masks.set': s.object({
    scanId: key,
    seriesInstanceUid: s.string({ min: 1, max: 64 }),
    rectangles: s.array(
      s.object({
        x: s.integer({ min: 0, max: 65535 }),
        y: s.integer({ min: 0, max: 65535 }),
        width: s.integer({ min: 1, max: 65535 }),
        height: s.integer({ min: 1, max: 65535 }),
      }),
      { max: 32 },
    ),
  }),
  /** The series is sent unmasked again (the template stays). */
  'masks.clear': s.object({ scanId: key, seriesInstanceUid: s.string({ min: 1, max: 64 }) }),
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
  /**
   * Next person (kiosk): forgets the link, the scan, previews and thumbnails, the finished upload,
   * and in kiosk mode removes that person's files (journals, kept timelines). Refused while
   * images are being sent.
   */
  'session.reset': s.none(),
  /** A PHI-free support file; the UI's language is the renderer's to tell. */
  'support.bundle': s.object({
    language: s.optional(
      s.string({ min: 2, max: 20, pattern: /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/u }),
    ),
  }),
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
  'preview.image': ImageRenderView;
  'masks.get': MaskView;
  'masks.set': MaskView;
  'masks.clear': MaskView;
  'upload.start': UploadProgress;
  'upload.pause': UploadProgress;
  'upload.resume': UploadProgress;
  'upload.cancel': UploadProgress;
  'upload.current': UploadProgress | null;
  'transfer.status': TransferStatusView;
  'history.list': HistoryEntry[];
  'session.reset': SessionResetView;
  'support.bundle': SupportBundleView;
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
