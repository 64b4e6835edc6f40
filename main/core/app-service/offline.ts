/**
 * The app service with a link whose answer is given instead of asked of a portal: the benchmarks
 * and the tests of scanning, previews, the image view and masks use it to drive the real core
 * through its API without a network. Calls go through the dispatcher, as from the renderer.
 */
import type { LinkView, PolicyView } from '../api.ts';
import { createDispatch, type Dispatch } from './dispatch.ts';
import { memorySecretStore, noKeepAwake } from './engines.ts';
import { memoryHistory } from './history.ts';
import { deidEngine } from './real-engines.ts';
import { createAppService, type AppService } from './service.ts';
import type { SeriesMasks } from '../deid/series-masks.ts';

/** A portal's answer for a link: a radiologist's, valid until 2030, under `policy`. */
export function offlineLinkView(
  policy: PolicyView,
  options: { who?: string; limits?: LinkView['limits'] } = {},
): LinkView {
  const who = options.who ?? 'Test';
  return {
    portal: 'https://portal.example',
    provider: { name: `Dr. ${who}`, department: 'Radiology', organization: `${who} Hospital` },
    recipientName: who,
    patient: { name: `${who.toUpperCase()}^PATIENT`, birthDate: '19700101' },
    expiresAt: '2030-01-01T00:00:00.000Z',
    policy,
    limits: options.limits ?? { maxBytes: 1e9, maxInstances: 1000 },
    transfers: [],
  };
}

/** A method's answer, or its `{ code, message }` thrown as an Error carrying both. */
export type ApiCall = <T>(method: string, request?: unknown) => Promise<T>;

export function callerOf(dispatch: Dispatch): ApiCall {
  return async <T>(method: string, request?: unknown): Promise<T> => {
    const answer = await dispatch(method, request);
    if (!answer.ok) throw Object.assign(new Error(answer.error.message), answer.error);
    return answer.value as T;
  };
}

/**
 * A browser-host app service whose link resolves to `link` (transfer status is not offered),
 * with the real de-identification engine sharing `masks` with the service, as in the app.
 */
export function offlineService(options: {
  link: LinkView;
  masks?: SeriesMasks;
  /** The journal key's byte; any fixed value serves. */
  keyByte?: number;
  version?: string;
}): { service: AppService; dispatch: Dispatch; call: ApiCall } {
  const { masks } = options;
  const keyByte = options.keyByte ?? 7;
  const service = createAppService({
    host: 'browser-host',
    version: options.version ?? '0.1.0',
    engines: {
      ...(masks ? { masks } : {}),
      link: {
        resolve: async () => options.link,
        transferStatus: async () => {
          throw new Error('not used');
        },
      },
      deid: deidEngine({
        journalKey: async () => Buffer.alloc(32, keyByte),
        ...(masks ? { masks } : {}),
      }),
    },
    platformServices: { secrets: memorySecretStore(), keepAwake: noKeepAwake },
    history: memoryHistory(),
    emit: () => {},
  });
  const dispatch = createDispatch(service.handlers);
  return { service, dispatch, call: callerOf(dispatch) };
}
