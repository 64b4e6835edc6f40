/**
 * What the app service needs from the engines other parts of the core build (link and upload:
 * issue 4, de-identification: issue 5, validation: issue 6), and from the platform (what only
 * Electron has: dialogs, safeStorage, powerSaveBlocker, drive detection). Each is an interface so
 * main/app and the browser host hand in real ones, and tests hand in small fakes.
 */
import type {
  AttributeRow,
  DriveView,
  IdentityStatus,
  LinkView,
  PolicyView,
  TransferStatusView,
  UploadProgress,
} from '../api.ts';
import type { SeriesMasks } from '../deid/series-masks.ts';
import type { Finding } from '../findings.ts';
import type { MediaInstance, ScanResult } from '../media/model.ts';
import type { ScanOptions } from '../media/scan.ts';
import type { UploadLink } from '../link/link-url.ts';

export interface LinkEngine {
  /** Throws ApiError with the portal's code and sentence (link-expired, link-revoked...). */
  resolve(link: UploadLink, signal?: AbortSignal): Promise<LinkView>;
  /** The transfer's status as the portal shows it; the newest transfer when no id is given. */
  transferStatus(
    link: UploadLink,
    transferId: string | undefined,
  ): Promise<Omit<TransferStatusView, 'portal' | 'provider'>>;
  /** Drops every link client it keeps (tokens included): the next person starts afresh. */
  forget?(): void;
}

export interface SelectedInstance {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly instance: MediaInstance;
}

export interface UploadRequest {
  readonly link: UploadLink;
  readonly root: string;
  readonly instances: readonly SelectedInstance[];
  readonly policy: PolicyView;
  /** Send images flagged for burned-in text under a de-identifying policy (the user confirmed). */
  readonly burnedInConfirmed: boolean;
  readonly client: { readonly name: string; readonly version: string };
}

export type UploadUpdate = Omit<UploadProgress, 'uploadId'>;

export interface UploadControl {
  pause(): void;
  resume(): void;
  cancel(): void;
  /** Settles when the upload is done, failed or cancelled (the last update says which). */
  readonly finished: Promise<void>;
}

export interface UploadEngine {
  start(request: UploadRequest, onUpdate: (update: UploadUpdate) => void): UploadControl;
}

export interface ValidationOutcome {
  /** The scan's findings and the validator's, each code's files grouped. */
  readonly findings: readonly Finding[];
  /** Identical copies: every copy but the first of each SOP Instance UID is not sent. */
  readonly duplicatePaths: readonly string[];
  readonly identity: {
    readonly status: IdentityStatus;
    readonly message?: string;
    /** Disc patients that are not the expected one, by their ID and name on the disc. */
    readonly mismatched: readonly { readonly patientId: string; readonly patientName: string }[];
  };
}

/** Collects per-instance checks while the scan reads headers, so no file is read twice. */
export interface HeaderCollector {
  readonly onInstanceHeader: NonNullable<ScanOptions['onInstanceHeader']>;
  /** It takes the scan's header-only parse (ScanOptions.instanceHeadersOnly). */
  readonly instanceHeadersOnly?: boolean;
}

export interface ValidateEngine {
  collector(): HeaderCollector;
  validate(
    scan: ScanResult,
    options: {
      readonly expectedPatient?: { readonly name: string; readonly birthDate: string };
      readonly collector?: HeaderCollector;
    },
  ): Promise<ValidationOutcome>;
}

export interface DeidEngine {
  previewInstance(
    root: string,
    relPath: string,
    policy: PolicyView,
  ): Promise<{
    readonly attributes: readonly AttributeRow[];
    readonly burnedIn: 'yes' | 'possible' | 'no';
  }>;
  /**
   * The instance as it will be sent under a de-identifying policy (the uploader's own path):
   * its bytes and whether its pixels were masked. Throws ApiError with a plain reason when the
   * instance would not be sent (a DICOMDIR, an unreadable file).
   */
  outgoingInstance?(
    root: string,
    relPath: string,
    policy: PolicyView,
  ): Promise<{ readonly bytes: Uint8Array; readonly masked: boolean }>;
}

export interface Engines {
  /** The user's masks per series; the deid and upload engines read them (series-masks.ts). */
  readonly masks?: SeriesMasks;
  readonly link?: LinkEngine;
  readonly upload?: UploadEngine;
  readonly validate?: ValidateEngine;
  readonly deid?: DeidEngine;
}

/** A small secret store: Electron's safeStorage on disk; memory only elsewhere. */
export interface SecretStore {
  /** False when secrets live only as long as the process (no OS keychain). */
  readonly persistent: boolean;
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** Keeps the computer awake while an upload runs (Electron: powerSaveBlocker). */
export interface KeepAwake {
  start(): void;
  stop(): void;
}

export interface DriveSource {
  list(): Promise<DriveView[]>;
  eject?(drive: DriveView): Promise<void>;
}

export interface Platform {
  readonly pickFolder?: () => Promise<string | null>;
  readonly secrets: SecretStore;
  readonly keepAwake: KeepAwake;
  readonly drives?: DriveSource;
}

export function memorySecretStore(): SecretStore {
  const values = new Map<string, string>();
  return {
    persistent: false,
    get: async (name) => values.get(name),
    set: async (name, value) => {
      values.set(name, value);
    },
    delete: async (name) => {
      values.delete(name);
    },
  };
}

export const noKeepAwake: KeepAwake = { start: () => {}, stop: () => {} };
