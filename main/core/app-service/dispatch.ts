/**
 * Transport-neutral dispatch of api.ts: checks the method name and the request's shape, calls
 * the handler, and turns the outcome into an ApiResult. IPC (main/app/ipc.ts) and the browser
 * host's WebSocket (main/host/server.ts) both call this and nothing else.
 */
import {
  checkRequest,
  isMethodName,
  type ApiHandlers,
  type ApiResult,
  type MethodName,
} from '../api.ts';
import { toErrorBody } from './errors.ts';

export type Dispatch = (method: unknown, request: unknown) => Promise<ApiResult<unknown>>;

export function createDispatch(
  handlers: ApiHandlers,
  options: { onUnexpected?: (method: MethodName, error: unknown) => void } = {},
): Dispatch {
  return async (method, request) => {
    if (!isMethodName(method)) {
      return { ok: false, error: { code: 'unknown-method', message: 'No such method.' } };
    }
    const problem = checkRequest(method, request);
    if (problem !== undefined) {
      return { ok: false, error: { code: 'bad-request', message: problem } };
    }
    try {
      // The schema above proved the request's shape for this method.
      const handler = handlers[method] as (request: unknown) => Promise<unknown>;
      const value = await handler(request ?? undefined);
      return { ok: true, value: value === undefined ? null : value };
    } catch (error) {
      const body = toErrorBody(error);
      if (body.code === 'internal') options.onUnexpected?.(method, error);
      return { ok: false, error: body };
    }
  };
}
