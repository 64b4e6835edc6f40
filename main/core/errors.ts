/**
 * Errors of the upload link and the upload engine, as values with stable codes: the one catalogue
 * of their plain-language sentences (media findings have their own, findings.ts). `message` is
 * what a patient reads; `detail` is for a clerk or an administrator (HTTP statuses, portal codes,
 * system error codes). Neither ever carries patient values: no names, IDs, dates or UIDs.
 * Documented in docs/upload.md ("Errors").
 */

interface CatalogEntry {
  readonly message: string;
  /** Whether trying again later (same link, same selection) may succeed. */
  readonly retryable: boolean;
}

export const errorCatalog = {
  'link-invalid': {
    retryable: false,
    message:
      'This is not an upload link. An upload link looks like https://portal.example/u/… — copy the whole link from the e-mail.',
  },
  'link-unknown': {
    retryable: false,
    message:
      'This upload link is not valid. Check that you copied the whole link, or ask the hospital for a new one.',
  },
  'link-revoked': {
    retryable: false,
    message:
      'The hospital revoked this upload link. Nothing already sent is lost: ask the hospital for a new link and run the upload again to send the rest.',
  },
  'link-expired': {
    retryable: false,
    message:
      'This upload link has expired. Nothing already sent is lost: ask the hospital for a new link and run the upload again to send the rest.',
  },
  'link-insecure': {
    retryable: false,
    message:
      'The portal asked Ferry to send the images over an unencrypted or unexpected address, so nothing was sent. Tell the hospital.',
  },
  'portal-unreachable': {
    retryable: true,
    message:
      'The hospital’s portal cannot be reached. Check the internet connection; the upload continues from where it stopped when you try again.',
  },
  'portal-busy': {
    retryable: true,
    message:
      'The hospital’s portal is busy or its image archive is not answering. Nothing was lost; try again in a few minutes and the upload continues from where it stopped.',
  },
  'portal-protocol': {
    retryable: false,
    message:
      'The hospital’s portal answered in a way this version of Ferry does not understand. Update Ferry, or tell the hospital.',
  },
  'policy-unknown': {
    retryable: false,
    message:
      'The hospital asks for a kind of privacy protection this version of Ferry does not know, so nothing was sent. Update Ferry.',
  },
  'deid-unavailable': {
    retryable: false,
    message:
      'The hospital asks that names and other personal details be removed from the images before they are sent, and this copy of Ferry cannot do that yet, so nothing was sent.',
  },
  'over-limit': {
    retryable: false,
    message:
      'This is more than the hospital accepts through this link. Choose fewer studies, or ask the hospital for a link with a higher limit.',
  },
  'instance-too-large': {
    retryable: false,
    message:
      'An image is larger than the hospital’s portal accepts in one piece, so it cannot be sent through this link. Tell the hospital.',
  },
  'nothing-selected': {
    retryable: false,
    message: 'No images are selected, so there is nothing to send.',
  },
  'transfer-closed': {
    retryable: true,
    message:
      'The portal closed this transfer. Run the upload again: Ferry starts a new transfer and sends only what is missing.',
  },
  'transfer-not-found': {
    retryable: true,
    message:
      'The portal does not know this transfer for this link. Run the upload again: Ferry starts a new transfer and sends only what is missing.',
  },
  'transfer-incomplete': {
    retryable: true,
    message:
      'The portal does not hold every image yet. Run the upload again: Ferry sends only what is missing.',
  },
  'instance-refused': {
    retryable: false,
    message: 'The portal refused this image; it was not stored.',
  },
  'instance-conflict': {
    retryable: false,
    message:
      'The portal already holds a different image with the same identifier, so this one was not stored. Tell the hospital.',
  },
  'instance-not-authorized': {
    retryable: false,
    message:
      'This image does not belong to what this link accepts (another study or another patient), so it was not stored.',
  },
  'instance-unreadable': {
    retryable: false,
    message:
      'This image could not be read from the disc, so it was not sent. The disc may be scratched.',
  },
  'instance-changed': {
    retryable: false,
    message:
      'This image is not the one that was checked before the upload started (the file changed), so it was not sent.',
  },
  'retries-exhausted': {
    retryable: true,
    message:
      'The upload kept failing and stopped. Nothing already sent is lost: try again later and it continues from where it stopped.',
  },
  'journal-key': {
    retryable: false,
    message:
      'Ferry cannot read its record of this upload with the key it has (the key changed or the record is damaged). Remove the record to start this upload afresh.',
  },
  'journal-busy': {
    retryable: true,
    message: 'This upload is already running in another Ferry window or command.',
  },
  cancelled: {
    retryable: true,
    message: 'The upload was cancelled. Run it again to continue from where it stopped.',
  },
  internal: {
    retryable: false,
    message: 'Something went wrong inside Ferry. Nothing already sent is lost.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type FerryErrorCode = keyof typeof errorCatalog;

/** An error of the upload path: stable code, a sentence for the patient, detail for support. */
export class FerryError extends Error {
  override readonly name = 'FerryError';
  readonly retryable: boolean;

  constructor(
    readonly code: FerryErrorCode,
    options: {
      /** Replaces the catalogue sentence (e.g. the portal's own sentence, shown word for word). */
      message?: string;
      detail?: string;
      /** Seconds the server asked us to wait (Retry-After). */
      retryAfterSeconds?: number;
      /** The portal's own machine code (docs/upload-link-protocol.md, "Errors"), when it sent one. */
      portalCode?: string;
      /** The HTTP status of the answer, when there was one. */
      httpStatus?: number;
      cause?: unknown;
    } = {},
  ) {
    super(options.message ?? errorCatalog[code].message, { cause: options.cause });
    this.retryable = errorCatalog[code].retryable;
    this.detail = options.detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.portalCode = options.portalCode;
    this.httpStatus = options.httpStatus;
  }

  readonly detail: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly portalCode: string | undefined;
  readonly httpStatus: number | undefined;

  /** What crosses the api.ts bridge and what `--json` prints. */
  toJSON(): { code: FerryErrorCode; message: string; detail?: string; retryable: boolean } {
    return {
      code: this.code,
      message: this.message,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      retryable: this.retryable,
    };
  }
}

export function isFerryError(value: unknown, code?: FerryErrorCode): value is FerryError {
  return value instanceof FerryError && (code === undefined || value.code === code);
}

/** An AbortError for cancellation, the shape util/pool.ts's throwIfAborted also throws. */
export function isAbortError(value: unknown): boolean {
  return (
    (value as { name?: string } | null)?.name === 'AbortError' ||
    (value as { code?: string } | null)?.code === 'ERR_CANCELED'
  );
}
