/**
 * The audit log: <data>/audit.jsonl, one JSON object a line, appended and never rewritten.
 * It names who did what to which record by ids only: no patient names, birth dates, e-mail
 * addresses, MRNs or UIDs of studies; counts and error codes where they matter.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';

export type AuditAction =
  | 'staff-user-created'
  | 'staff-sign-in'
  | 'staff-sign-in-failed'
  | 'staff-sign-out'
  | 'account-created'
  | 'link-issued'
  | 'link-emailed'
  | 'link-revoked'
  | 'link-rejected'
  | 'transfer-created'
  | 'instances-received'
  | 'instances-rejected'
  | 'archive-unavailable'
  | 'transfer-state'
  | 'rate-limited';

export interface AuditEntry {
  readonly action: AuditAction;
  /** `staff:<username>`, `cli`, `link:<linkId>`, `portal` (the portal itself) or `anonymous`. */
  readonly actor: string;
  readonly ip?: string;
  readonly accountId?: string;
  readonly linkId?: string;
  readonly transferId?: string;
  readonly state?: string;
  readonly count?: number;
  readonly bytes?: number;
  readonly code?: string;
}

export class AuditLog {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'audit.jsonl');
  }

  record(entry: AuditEntry, now: Date): void {
    appendFileSync(this.file, JSON.stringify({ at: now.toISOString(), ...entry }) + '\n', {
      mode: 0o600,
    });
  }
}
