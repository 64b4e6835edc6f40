/**
 * The UI's one small store: what the screens show, fed by api.ts answers and core events.
 * Plain TypeScript (no React) so its transitions are unit-tested on Node.
 */
import type {
  ApiErrorBody,
  ApiEvents,
  AppInfo,
  DriveView,
  EventName,
  HistoryEntry,
  LinkView,
  MaskView,
  PreviewView,
  ScanView,
  ThumbnailView,
  TransferStatusView,
  UploadProgress,
  ValidationView,
} from '../main/core/api.ts';

export const FLOW_STEPS = ['link', 'media', 'studies', 'preview', 'upload', 'status'] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];
export type Step = FlowStep | 'history';

export interface FlowState {
  readonly step: Step;
  readonly info?: AppInfo;
  readonly disconnected: boolean;
  readonly link?: LinkView;
  readonly linkError?: ApiErrorBody;
  readonly linkBusy: boolean;
  readonly drives: readonly DriveView[];
  /** The drive or folder that was read. */
  readonly mediaPath?: string;
  readonly scanning: boolean;
  readonly scanProgress?: ApiEvents['scan.progress'];
  readonly scan?: ScanView;
  readonly scanError?: ApiErrorBody;
  readonly validation?: ValidationView;
  readonly validating: boolean;
  readonly selected: readonly string[];
  readonly previews: Readonly<Record<string, PreviewView | ApiErrorBody>>;
  /** By series UID; an error body when the request itself failed. */
  readonly thumbnails: Readonly<Record<string, ThumbnailView | ApiErrorBody>>;
  /** The masks the core holds, by series UID (mask-editor.tsx); a user mask counts as looked at. */
  readonly masks: Readonly<Record<string, MaskView>>;
  readonly burnedInConfirmed: boolean;
  readonly identityConfirmed: boolean;
  readonly upload?: UploadProgress;
  readonly uploadError?: ApiErrorBody;
  readonly transfer?: TransferStatusView;
  readonly transferError?: ApiErrorBody;
  readonly history: readonly HistoryEntry[];
  readonly ejected: boolean;
  /** For the polite live region; `seq` makes a repeated sentence announce again. */
  readonly announcement: { readonly text: string; readonly seq: number };
}

export const initialState: FlowState = {
  step: 'link',
  disconnected: false,
  linkBusy: false,
  drives: [],
  scanning: false,
  validating: false,
  selected: [],
  previews: {},
  thumbnails: {},
  masks: {},
  burnedInConfirmed: false,
  identityConfirmed: false,
  history: [],
  ejected: false,
  announcement: { text: '', seq: 0 },
};

/** What belongs to one disc's reading: cleared when another disc is read or sent. */
export const discCleared = {
  scan: undefined,
  validation: undefined,
  selected: [],
  previews: {},
  thumbnails: {},
  masks: {},
  burnedInConfirmed: false,
} satisfies Partial<FlowState>;

export type Listener = () => void;

export interface Store {
  getState(): FlowState;
  setState(update: Partial<FlowState> | ((state: FlowState) => Partial<FlowState>)): void;
  subscribe(listener: Listener): () => void;
  announce(text: string): void;
}

export function createStore(initial: FlowState = initialState): Store {
  let state = initial;
  const listeners = new Set<Listener>();
  const store: Store = {
    getState: () => state,
    setState(update) {
      const patch = typeof update === 'function' ? update(state) : update;
      state = { ...state, ...patch };
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    announce(text) {
      store.setState((s) => ({ announcement: { text, seq: s.announcement.seq + 1 } }));
    },
  };
  return store;
}

/** Which steps may be visited now: each needs what the one before it produced. */
export function reachableSteps(state: FlowState): ReadonlySet<Step> {
  const steps = new Set<Step>(['link', 'history']);
  const uploading = state.upload !== undefined && !isUploadFinished(state.upload);
  if (state.link && !uploading) steps.add('media');
  if (state.link && state.scan?.complete && !uploading) {
    steps.add('studies');
    if (
      state.selected.length > 0 &&
      (flaggedSelection(state).length === 0 || state.identityConfirmed)
    ) {
      steps.add('preview');
      steps.add('upload');
    }
  }
  if (state.upload) steps.add('upload');
  if (state.upload?.transferId || state.transfer) steps.add('status');
  return steps;
}

export function isUploadFinished(progress: UploadProgress): boolean {
  return ['done', 'failed', 'cancelled'].includes(progress.state);
}

/** Chosen studies of patients the identity check flagged (they need the user's confirmation). */
export function flaggedSelection(state: FlowState): string[] {
  const flagged = new Set(state.validation?.identity.mismatchedPatientKeys ?? []);
  return state.selected.filter((key) => flagged.has(key.replace(/s\d+$/u, '')));
}

/** Studies chosen by default: every study of the patients the identity check did not flag. */
export function defaultSelection(scan: ScanView, validation?: ValidationView): string[] {
  const flagged = new Set(validation?.identity.mismatchedPatientKeys ?? []);
  return scan.patients
    .filter((patient) => !flagged.has(patient.key))
    .flatMap((patient) => patient.studies.map((study) => study.key));
}

/** A core event's effect on the state. */
export function applyEvent<E extends EventName>(
  state: FlowState,
  event: E,
  payload: ApiEvents[E],
): Partial<FlowState> {
  switch (event) {
    case 'scan.progress': {
      const progress = payload as ApiEvents['scan.progress'];
      return state.scanning ? { scanProgress: progress } : {};
    }
    case 'scan.studyList': {
      const { scan } = payload as ApiEvents['scan.studyList'];
      return state.scanning ? { scan } : {};
    }
    case 'upload.progress': {
      const progress = payload as ApiEvents['upload.progress'];
      if (state.upload && state.upload.uploadId !== progress.uploadId) return {};
      return { upload: progress };
    }
    case 'drives.changed':
      return { drives: (payload as ApiEvents['drives.changed']).drives };
    default:
      return {};
  }
}
