/** Errors that cross the bridge: a stable code and a plain sentence (api.ts ApiErrorBody). */
import type { ApiErrorBody, ApiErrorCode } from '../api.ts';
import { FerryError } from '../errors.ts';

export class ApiError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }

  toBody(): ApiErrorBody {
    return { code: this.code, message: this.message };
  }
}

/**
 * What any thrown value becomes on the wire. Only ApiError's sentence is passed on: other
 * messages come from deeper layers and may carry paths or file contents.
 */
export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof ApiError) return error.toBody();
  // The upload path's catalogue (errors.ts): its sentences carry no patient values.
  if (error instanceof FerryError) return { code: error.code, message: error.message };
  if (error instanceof Error && error.name === 'AbortError') {
    return { code: 'cancelled', message: 'Stopped.' };
  }
  return {
    code: 'internal',
    message: 'Something went wrong inside Ferry. Try again; if it keeps happening, ask for help.',
  };
}
