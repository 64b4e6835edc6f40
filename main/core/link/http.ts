/**
 * HTTP for the link protocol and STOW-RS: one axios instance per session (keep-alive sockets,
 * streamed bodies, no size cap on what we send), the mapping of every failure to a FerryError,
 * and retries with exponential backoff, full jitter and Retry-After.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { FerryError, isAbortError, type FerryErrorCode } from '../errors.ts';

export interface HttpOptions {
  /**
   * Idle time (no bytes either way) after which a request is given up and retried: a stalled
   * server or a dead connection. Default 60 s.
   */
  readonly idleTimeoutMs?: number;
  /** Sockets per host; at least the upload concurrency. Default 8. */
  readonly maxSockets?: number;
}

export function createHttp(options: HttpOptions = {}): AxiosInstance {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 8 };
  return axios.create({
    timeout: options.idleTimeoutMs ?? 60_000,
    // -1, not Infinity: any limit makes axios add a counting Transform stage to every upload body.
    maxBodyLength: -1,
    // Answers are JSON documents; a STOW-RS answer lists every instance of a batch.
    maxContentLength: 64 * 1024 * 1024,
    maxRedirects: 0,
    responseType: 'text',
    transitional: { forcedJSONParsing: false, silentJSONParsing: true, clarifyTimeoutError: true },
    validateStatus: () => true,
    httpAgent: new http.Agent(agentOptions),
    httpsAgent: new https.Agent(agentOptions),
    headers: { 'user-agent': 'DICOM-Ferry' },
  });
}

/** The JSON body of an answer, or undefined when it is not JSON. */
export function jsonBody(response: AxiosResponse): unknown {
  const data: unknown = response.data;
  if (typeof data !== 'string') return data;
  if (data.trim() === '') return undefined;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

/** Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. */
export function retryAfterSeconds(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

const PORTAL_CODES: Record<string, FerryErrorCode> = {
  'link-unknown': 'link-unknown',
  'link-revoked': 'link-revoked',
  'link-expired': 'link-expired',
  'too-many-attempts': 'portal-busy',
  'transfer-not-found': 'transfer-not-found',
  'transfer-closed': 'transfer-closed',
  'transfer-incomplete': 'transfer-incomplete',
  'over-limit': 'over-limit',
  'request-too-large': 'instance-too-large',
  'archive-unavailable': 'portal-busy',
  'server-busy': 'portal-busy',
  internal: 'portal-busy',
  'multipart-malformed': 'portal-busy',
};

/**
 * Portal sentences shown word for word: they are written for the patient, and a dead link's says
 * what the hospital wants done (protocol, "Errors"). Ferry's own sentence stands in when the
 * portal gives none.
 */
const SHOW_PORTAL_SENTENCE = new Set<FerryErrorCode>([
  'over-limit',
  'transfer-incomplete',
  'link-expired',
  'link-revoked',
]);

/** Longest portal sentence shown; a longer one is not a sentence for a patient. */
const MAX_PORTAL_SENTENCE = 600;

/**
 * The portal's sentence as it may be shown: one line of printable text (control characters and
 * runs of white space become one space), or undefined when there is nothing sensible to show.
 */
export function portalSentence(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\s]+/gu, ' ').trim();
  if (text === '' || text.length > MAX_PORTAL_SENTENCE || !/\p{L}/u.test(text)) return undefined;
  return text;
}

/**
 * The FerryError for a non-2xx answer: the portal's `{ error: { code, message, retryable } }`
 * body when there is one, the HTTP status otherwise.
 */
export function errorForResponse(response: AxiosResponse, what: string): FerryError {
  const status = response.status;
  const retryAfter = retryAfterSeconds(response.headers['retry-after']);
  const body = jsonBody(response) as
    { error?: { code?: unknown; message?: unknown; retryable?: unknown } } | undefined;
  const portalCode = typeof body?.error?.code === 'string' ? body.error.code : undefined;
  const portalMessage = portalSentence(body?.error?.message);
  const detail = `${what}: HTTP ${status}${portalCode ? ` ${portalCode}` : ''}`;
  const common = {
    detail,
    httpStatus: status,
    ...(portalCode !== undefined ? { portalCode } : {}),
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  };
  let code: FerryErrorCode | undefined =
    portalCode !== undefined ? PORTAL_CODES[portalCode] : undefined;
  if (code === undefined && body?.error?.retryable === true) code = 'portal-busy';
  if (code === undefined) {
    if (status === 429 || status >= 500) code = 'portal-busy';
    else if (status === 401) code = 'link-unknown';
    else if (status === 403) code = 'link-revoked';
    else if (status === 410) code = 'link-expired';
    else if (status === 413) code = 'instance-too-large';
    else code = 'portal-protocol';
  }
  return new FerryError(code, {
    ...common,
    ...(portalMessage !== undefined && SHOW_PORTAL_SENTENCE.has(code)
      ? { message: portalMessage }
      : {}),
  });
}

/** The FerryError for a request that got no answer (refused, reset, timed out, DNS). */
export function errorForTransport(error: unknown, what: string): FerryError {
  if (error instanceof FerryError) return error;
  if (isAbortError(error)) return new FerryError('cancelled', { detail: what, cause: error });
  const code = (error as { code?: string }).code ?? 'network';
  return new FerryError('portal-unreachable', { detail: `${what}: ${code}`, cause: error });
}

export interface RetryPolicy {
  /** Attempts in all, the first included. Default 10. */
  readonly maxAttempts?: number;
  /** First backoff; doubles each attempt. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Largest backoff of our own. Default 60 s. */
  readonly maxDelayMs?: number;
  /** Largest Retry-After honoured as asked (longer asks wait this long). Default 5 min. */
  readonly maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY: Required<RetryPolicy> = {
  maxAttempts: 10,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 5 * 60_000,
};

/** Full jitter (a random delay up to the exponential bound), or what Retry-After asks. */
export function backoffMs(
  attempt: number,
  policy: Required<RetryPolicy>,
  retryAfter?: number,
): number {
  if (retryAfter !== undefined) return Math.min(retryAfter * 1000, policy.maxRetryAfterMs);
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(bound / 2 + Math.random() * (bound / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new FerryError('cancelled'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new FerryError('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryEvent {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: FerryError;
}

/** Runs `attempt` until it succeeds, fails for good, or runs out of attempts. */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: { policy?: RetryPolicy; signal?: AbortSignal; onRetry?: (event: RetryEvent) => void },
): Promise<T> {
  const policy = { ...DEFAULT_RETRY, ...options.policy };
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const failure = error instanceof FerryError ? error : errorForTransport(error, 'request');
      if (failure.code === 'cancelled' || options.signal?.aborted)
        throw new FerryError('cancelled');
      if (!isTransient(failure)) throw failure;
      if (policy.maxAttempts === 1) throw failure;
      if (n >= policy.maxAttempts) {
        throw new FerryError('retries-exhausted', {
          detail: `${n} attempts; last: ${failure.detail ?? failure.code}`,
          cause: failure,
        });
      }
      const delayMs = backoffMs(n, policy, failure.retryAfterSeconds);
      options.onRetry?.({ attempt: n, delayMs, error: failure });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Failures worth the same request again: the network, a busy or failing server. */
export function isTransient(error: FerryError): boolean {
  return error.code === 'portal-unreachable' || error.code === 'portal-busy';
}
