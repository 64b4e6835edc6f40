/** The portal's records. Everything here is persisted through the journal (store.ts). */

import type { LinkLimits, TransferManifest, TransferState } from '../main/core/link/model.ts';

// The wire types of docs/upload-link-protocol.md are defined once, beside the client.
export type {
  LinkLimits,
  ManifestStudy,
  TransferManifest,
  TransferState,
} from '../main/core/link/model.ts';
export { OPEN_STATES, TERMINAL_STATES } from '../main/core/link/model.ts';

/** A de-identification policy the link asks the app to apply before anything leaves the computer. */
export type LinkPolicy =
  | { readonly kind: 'none' }
  /** PS3.15 E.1-1 Basic Application Level Confidentiality Profile with the named options (E.1-1 columns). */
  | {
      readonly kind: 'basic';
      readonly options: readonly BasicProfileOption[];
      /**
       * The hospital's research or subject ID for this account: the app writes it as Patient ID
       * (and Patient's Name) after de-identification, so the hospital can tell whose images these are.
       */
      readonly subjectId?: string;
    }
  /** Keep identity but replace Patient ID with the hospital's MRN (and its issuer) before sending. */
  | { readonly kind: 'reconcile'; readonly mrn: string; readonly issuer?: string };

export const BASIC_PROFILE_OPTIONS = [
  'retain-safe-private',
  'retain-uids',
  'retain-device-identity',
  'retain-institution-identity',
  'retain-patient-characteristics',
  'retain-longitudinal-full-dates',
  'retain-longitudinal-modified-dates',
  'clean-descriptors',
  'clean-structured-content',
  'clean-graphics',
  'clean-pixel-data',
  'clean-recognizable-visual-features',
] as const;
export type BasicProfileOption = (typeof BASIC_PROFILE_OPTIONS)[number];

export interface UploadAccount {
  readonly id: string;
  readonly createdAt: string;
  /** `staff:<username>` or `cli`. */
  readonly createdBy: string;
  readonly patient: { readonly name: string; readonly birthDate: string };
  readonly recipient: { readonly name: string; readonly email: string };
  readonly provider: {
    readonly name: string;
    readonly department: string;
    readonly organization: string;
  };
  readonly policy: LinkPolicy;
  readonly limits: LinkLimits;
}

export interface UploadLink {
  readonly id: string;
  readonly accountId: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  readonly tokenHash: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly revokedReason?: string;
}

export interface TimelineEvent {
  readonly state: TransferState;
  readonly at: string;
  /** For failed / expired / revoked: why, in a plain sentence. */
  readonly reason?: string;
}

export interface Transfer {
  readonly id: string;
  readonly accountId: string;
  readonly linkId: string;
  readonly createdAt: string;
  /** Absent for a transfer opened implicitly by a plain STOW-RS client (no manifest). */
  readonly manifest?: TransferManifest;
  readonly client?: { readonly name: string; readonly version: string };
  /** The client's Idempotency-Key on create: the same key (same account) gets this transfer again. */
  readonly idempotencyKey?: string;
  state: TransferState;
  /** The last instance arrival, for the "receiving" line of the timeline. */
  lastReceivedAt?: string;
  readonly timeline: TimelineEvent[];
}

export interface StoredInstance {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly accountId: string;
  /** The transfer that first delivered it. */
  readonly transferId: string;
  /** SHA-256 (hex) of the Part 10 bytes as received. */
  readonly sha256: string;
  readonly bytes: number;
  readonly storedAt: string;
}

export interface StaffUser {
  readonly username: string;
  /** `scrypt$N$r$p$salt$hash` (base64url). */
  readonly passwordHash: string;
  readonly createdAt: string;
}
