/**
 * The portal's error catalogue: every non-2xx JSON answer is `{ "error": { code, message, retryable } }`
 * with one of these codes. The messages are plain sentences a patient can act on; the app shows them
 * word for word. Documented in docs/upload-link-protocol.md ("Errors").
 */

export const ERROR_CATALOGUE = {
  'link-unknown': {
    status: 401,
    retryable: false,
    message:
      'This upload link is not valid. Check that you copied the whole link, or ask the hospital for a new one.',
  },
  'link-revoked': {
    status: 403,
    retryable: false,
    message: 'This upload link was revoked by the hospital. Ask them for a new one.',
  },
  'link-expired': {
    status: 410,
    retryable: false,
    message: 'This upload link has expired. Ask the hospital for a new one.',
  },
  'too-many-attempts': {
    status: 429,
    retryable: true,
    message: 'Too many attempts from this computer. Wait a few minutes and try again.',
  },
  'transfer-not-found': {
    status: 404,
    retryable: false,
    message: 'This transfer does not exist for this upload link.',
  },
  'transfer-closed': {
    status: 409,
    retryable: false,
    message: 'This transfer is already finished and takes no more images. Start a new transfer.',
  },
  'transfer-incomplete': {
    status: 409,
    retryable: false,
    message:
      'Not all announced images have arrived yet. Send the missing images, then finish again.',
  },
  'idempotency-key-reused': {
    status: 422,
    retryable: false,
    message:
      'This Idempotency-Key was already used for a transfer with a different list of studies.',
  },
  'manifest-invalid': {
    status: 400,
    retryable: false,
    message: 'The list of studies to send is not valid.',
  },
  'over-limit': {
    status: 413,
    retryable: false,
    message: 'This is more than the hospital accepts through this link.',
  },
  'request-too-large': {
    status: 413,
    retryable: false,
    message:
      'This request is larger than the portal accepts at once. Send the images in smaller batches.',
  },
  'unsupported-media-type': {
    status: 415,
    retryable: false,
    message: 'The portal accepts images only as multipart/related; type="application/dicom".',
  },
  'multipart-malformed': {
    status: 400,
    retryable: true,
    message: 'The upload arrived damaged or incomplete. It is safe to send it again.',
  },
  'bad-request': {
    status: 400,
    retryable: false,
    message: 'The request is not valid.',
  },
  'not-found': { status: 404, retryable: false, message: 'There is nothing at this address.' },
  'method-not-allowed': {
    status: 405,
    retryable: false,
    message: 'This address does not accept that method.',
  },
  'archive-unavailable': {
    status: 503,
    retryable: true,
    message:
      "The hospital's image archive is not answering right now. Nothing was lost; the upload will continue when it is back.",
  },
  'server-busy': {
    status: 503,
    retryable: true,
    message: 'The portal is busy. The upload will continue shortly.',
  },
  internal: {
    status: 500,
    retryable: true,
    message: 'Something went wrong at the portal. Nothing was lost; try again in a moment.',
  },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class PortalError extends Error {
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly retryAfterSeconds?: number,
    /** Fields beside `error` in the body (a dead link's read-only resolution). */
    readonly extra?: Readonly<Record<string, unknown>>,
  ) {
    const entry = ERROR_CATALOGUE[code];
    super(message ?? entry.message);
    this.status = entry.status;
    this.retryable = entry.retryable;
  }

  toBody(): { error: { code: ErrorCode; message: string; retryable: boolean } } {
    return {
      ...this.extra,
      error: { code: this.code, message: this.message, retryable: this.retryable },
    };
  }
}
