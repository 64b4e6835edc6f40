/**
 * What the portal says, as the client reads it (docs/upload-link-protocol.md, protocol version 1).
 * main/core never imports the portal's code; the reference portal imports these wire types
 * from here, so client and server cannot drift apart.
 */

/** The de-identification the link asks for before anything leaves the computer. */
export type LinkPolicy =
  | { readonly kind: 'none' }
  /** PS3.15 E.1-1 Basic Application Level Confidentiality Profile with the named options. */
  | {
      readonly kind: 'basic';
      readonly options: readonly string[];
      /** The portal's subject ID for this account: the pseudonym written as Patient ID and Name. */
      readonly subjectId?: string;
    }
  /** Keep identity but set Patient ID to the hospital's MRN (and its issuer). */
  | { readonly kind: 'reconcile'; readonly mrn: string; readonly issuer?: string }
  /** A policy this version does not know: never upload under it. */
  | { readonly kind: 'unknown'; readonly name: string };

export interface LinkLimits {
  /** Total bytes of DICOM instances the account may hold. */
  readonly maxBytes: number;
  /** Total instances the account may hold. */
  readonly maxInstances: number;
  /** Largest single HTTP request body: batches stay below it. */
  readonly maxRequestBytes: number;
}

export interface LinkTransferSummary {
  readonly transferId: string;
  readonly state: TransferState;
  readonly message: string;
  readonly statusUrl: string;
}

/** GET /api/v1/links/{token}. */
export interface LinkInfo {
  readonly protocol: number;
  readonly accountId: string;
  readonly provider: {
    readonly name: string;
    readonly department: string;
    readonly organization: string;
  };
  readonly recipient: { readonly name: string; readonly email: string };
  /** For the identity check the app shows (expected name and birth date). */
  readonly patient: { readonly name: string; readonly birthDate: string };
  readonly expiresAt: string;
  readonly policy: LinkPolicy;
  readonly limits: LinkLimits;
  readonly stowUrl: string;
  readonly transfersUrl: string;
  readonly transfers: readonly LinkTransferSummary[];
}

/** Every state a transfer can be in (docs/upload-link-protocol.md, "Transfer status"). */
export const TRANSFER_STATES = [
  'created',
  'receiving',
  'received',
  'verifying',
  'available',
  'failed',
  'expired',
  'revoked',
] as const;
export type TransferState = (typeof TRANSFER_STATES)[number];

/** Final: the portal changes nothing any more (the client stops following, the portal stops taking). */
export const TERMINAL_STATES: ReadonlySet<TransferState> = new Set([
  'available',
  'failed',
  'expired',
  'revoked',
]);
/** States in which a transfer still takes images. */
export const OPEN_STATES: ReadonlySet<TransferState> = new Set(['created', 'receiving']);
/** Committed, not yet final. */
export const COMMITTED_STATES: ReadonlySet<string> = new Set([
  'received',
  'verifying',
  'available',
]);

export interface TimelineEntry {
  readonly state: TransferState;
  readonly at: string;
  readonly updatedAt?: string;
  /** The portal's sentence, shown word for word. */
  readonly message: string;
}

/** GET /api/v1/transfers/{id}: the status the app shows. */
export interface TransferStatus {
  readonly transferId: string;
  readonly state: TransferState;
  readonly terminal: boolean;
  readonly message: string;
  readonly received: { readonly instances: number; readonly bytes: number };
  readonly expected: { readonly instances: number; readonly bytes: number } | null;
  readonly createdAt: string;
  readonly timeline: readonly TimelineEntry[];
  readonly urls: {
    readonly self: string;
    readonly instances: string;
    readonly commit: string;
    readonly stow: string;
  };
}

export interface ManifestStudy {
  readonly studyInstanceUid: string;
  readonly instances: number;
  readonly bytes: number;
}

export interface TransferManifest {
  readonly studies: readonly ManifestStudy[];
  readonly instances: number;
  readonly bytes: number;
}

/** GET /api/v1/transfers/{id}/instances: what the portal already holds for the transfer. */
export interface HeldInstance {
  readonly sopInstanceUid: string;
  readonly sha256?: string;
  readonly bytes?: number;
}
