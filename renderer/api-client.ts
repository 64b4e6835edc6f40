/** Calls through whichever bridge carries api.ts here; failures become ApiCallError. */
import type {
  ApiErrorBody,
  ApiRequest,
  ApiResponse,
  ApiResult,
  FerryBridge,
  MethodName,
} from '../main/core/api.ts';

export class ApiCallError extends Error {
  readonly code: string;
  /** The whole body: its messageId and params let the UI translate the sentence. */
  readonly body: ApiErrorBody;

  constructor(body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiCallError';
    this.code = body.code;
    this.body = body;
  }

  toBody(): ApiErrorBody {
    return this.body;
  }
}

let bridge: FerryBridge | undefined;

export function setBridge(next: FerryBridge): void {
  bridge = next;
}

export function getBridge(): FerryBridge {
  if (!bridge) throw new Error('no bridge');
  return bridge;
}

export async function call<M extends MethodName>(
  method: M,
  request: ApiRequest<M>,
): Promise<ApiResponse<M>> {
  const invoke = getBridge()[method] as (
    request: ApiRequest<M>,
  ) => Promise<ApiResult<ApiResponse<M>>>;
  const result = await invoke(request);
  if (!result.ok) throw new ApiCallError(result.error);
  return result.value;
}

export function errorBody(error: unknown): ApiErrorBody {
  if (error instanceof ApiCallError) return error.toBody();
  return {
    code: 'internal',
    message: 'Something went wrong inside Ferry. Nothing already sent is lost.',
  };
}
