/**
 * Errors that cross the bridge (api.ts ApiErrorBody): a stable code, a plain English sentence,
 * and the id of that sentence in a catalogue so the UI can show it in the user's language
 * (renderer/i18n/errors.es.ts). The upload path's sentences are FerryError's (../errors.ts), named
 * by their code; the app service's own are below, named by their id (several share a code).
 */
import type { ApiErrorBody, ApiErrorCode } from '../api.ts';
import { FerryError } from '../errors.ts';

interface CatalogEntry {
  readonly code: ApiErrorCode;
  /** One sentence a patient understands; `{name}` marks a parameter. No patient values. */
  readonly message: string;
}

export const apiErrorCatalog = {
  'links-unavailable': {
    code: 'not-available',
    message: 'Opening upload links is not available in this version of Ferry yet.',
  },
  'folder-dialog-unavailable': {
    code: 'not-available',
    message: 'A folder dialog is not available in this version of Ferry yet.',
  },
  'eject-unavailable': {
    code: 'not-available',
    message: 'Ejecting is not available in this version of Ferry yet.',
  },
  'preview-unavailable': {
    code: 'not-available',
    message: 'The before-and-after preview is not available in this version of Ferry yet.',
  },
  'upload-unavailable': {
    code: 'not-available',
    message: 'Sending images is not available in this version of Ferry yet.',
  },
  'status-unavailable': {
    code: 'not-available',
    message: 'Transfer status is not available in this version of Ferry yet.',
  },
  'no-link': { code: 'no-link', message: 'Open your upload link first.' },
  'scan-outdated': {
    code: 'no-scan',
    message: 'Read the disc or folder again: this list is out of date.',
  },
  'study-not-on-disc': { code: 'bad-request', message: 'A chosen study is not on this disc.' },
  'no-study-chosen': { code: 'bad-request', message: 'Choose at least one study.' },
  'path-not-absolute': {
    code: 'bad-request',
    message: 'Give the full path of the folder or drive, for example /media/cdrom or D:\\.',
  },
  'path-not-found': { code: 'not-found', message: 'There is no folder or drive at this path.' },
  'path-not-readable': {
    code: 'not-readable',
    message: 'Ferry is not allowed to read this folder.',
  },
  'scan-stopped': { code: 'cancelled', message: 'Reading was stopped.' },
  'file-not-on-disc': { code: 'not-found', message: 'This file is not on the disc.' },
  'file-unreadable': { code: 'not-readable', message: 'This file cannot be read ({code}).' },
  /** `reason` is de-identification's technical sentence (DeidError), in English. */
  'not-sent': { code: 'not-sent', message: 'This file is not sent: {reason}.' },
  'sent-as-is': {
    code: 'bad-request',
    message: 'Under this link the files are sent as they are.',
  },
  'drive-gone': { code: 'not-found', message: 'This drive is no longer there.' },
  'eject-failed': {
    code: 'eject-failed',
    message:
      'Ferry could not eject this drive. Close any window that shows its files and try again, or eject it from the computer.',
  },
  'image-not-on-disc': {
    code: 'not-found',
    message: 'This image is not on the disc that was read.',
  },
  'series-not-on-disc': {
    code: 'not-found',
    message: 'This series is not on the disc that was read.',
  },
  'upload-running': { code: 'busy', message: 'An upload is already running.' },
  'mask-no-image': {
    code: 'not-available',
    message: 'This series has no image Ferry can read, so it cannot be masked.',
  },
  'mask-outside': {
    code: 'bad-request',
    message: 'Each mask rectangle must lie inside the image ({columns} x {rows} pixels).',
  },
  'reset-while-sending': {
    code: 'busy',
    message: 'Images are still being sent. Wait until sending has finished, or stop it first.',
  },
  'identity-unconfirmed': {
    code: 'identity-unconfirmed',
    message:
      'Some chosen images may be of another person. Confirm that they are of the person the link was made for, or leave them out.',
  },
  'burned-in-unconfirmed': {
    code: 'burned-in-unconfirmed',
    message:
      'Some of the chosen images ({count}) may show a name in the picture itself, which de-identification cannot remove. Nothing was sent. Look at them in the preview and confirm, or leave their studies out.',
  },
  'nothing-sendable': {
    code: 'nothing-sendable',
    message:
      'None of the chosen images can be sent: they are damaged or unreadable (see what Ferry noticed on the disc).',
  },
  'no-upload': { code: 'no-upload', message: 'This upload is no longer running.' },
  'nothing-sent-yet': { code: 'not-found', message: 'Nothing has been sent with this link yet.' },
  stopped: { code: 'cancelled', message: 'Stopped.' },
  unexpected: {
    code: 'internal',
    message: 'Something went wrong inside Ferry. Try again; if it keeps happening, ask for help.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type ApiMessageId = keyof typeof apiErrorCatalog;
export type MessageParams = Readonly<Record<string, string | number>>;

/** `{name}` parameters filled in; an unknown name stays as written. */
function fillMessage(template: string, params: MessageParams = {}): string {
  return template.replace(/\{(\w+)\}/gu, (whole, name: string) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly messageId: ApiMessageId | undefined;
  readonly params: MessageParams | undefined;

  constructor(messageId: ApiMessageId, params?: MessageParams);
  /**
   * A sentence outside the catalogue reaches the user in English only; test/renderer's catalogue
   * test fails on it. Add the sentence to apiErrorCatalog (and its translations) instead.
   */
  constructor(code: ApiErrorCode, message: string);
  constructor(id: string, paramsOrMessage?: MessageParams | string) {
    const entry: CatalogEntry | undefined =
      typeof paramsOrMessage === 'string' || !Object.hasOwn(apiErrorCatalog, id)
        ? undefined
        : apiErrorCatalog[id as ApiMessageId];
    const params = typeof paramsOrMessage === 'string' ? undefined : paramsOrMessage;
    super(entry ? fillMessage(entry.message, params) : String(paramsOrMessage ?? ''));
    this.name = 'ApiError';
    this.code = entry ? entry.code : id;
    this.messageId = entry ? (id as ApiMessageId) : undefined;
    this.params = entry ? params : undefined;
  }

  toBody(): ApiErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.messageId !== undefined ? { messageId: this.messageId } : {}),
      ...(this.params !== undefined ? { params: this.params } : {}),
    };
  }
}

/**
 * What any thrown value becomes on the wire. Only the catalogues' sentences are passed on: other
 * messages come from deeper layers and may carry paths or file contents.
 */
export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof ApiError) return error.toBody();
  // The upload path's catalogue (errors.ts): its sentences carry no patient values, and the code
  // names the sentence. Where the portal's own words stand in (over-limit, dead links), English
  // shows them and other languages show the code's translation.
  if (error instanceof FerryError) return { code: error.code, message: error.message };
  if (error instanceof Error && error.name === 'AbortError')
    return new ApiError('stopped').toBody();
  return new ApiError('unexpected').toBody();
}
