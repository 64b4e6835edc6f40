/**
 * The upload engine's public surface (api.ts builds on this): resolve a link, pre-flight, run an
 * upload session with progress, pause, resume and cancel, and read kept status timelines.
 */
export {
  manifestOf,
  preflight,
  resolveLink,
  startUpload,
  UploadSession,
  type PreflightReport,
  type UploadEvent,
  type UploadOptions,
  type UploadPhase,
  type UploadResult,
} from './session.ts';
export {
  runStow,
  type EngineEvent,
  type EngineOptions,
  type InstanceFailure,
  type Progress,
} from './engine.ts';
export { UploadJournal, type InstanceState, type JournalEntry } from './journal.ts';
export {
  fileSource,
  itemsFromScan,
  type InstanceSource,
  type OpenedInstance,
  type UploadItem,
} from './source.ts';
export { listTimelines, readTimeline, saveTimeline, type KeptTimeline } from './timeline.ts';
export { defaultJournalDir, defaultKeyFile, KEY_BYTES, loadOrCreateKeyFile } from './crypto.ts';
