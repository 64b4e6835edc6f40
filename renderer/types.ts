/** The contract's types as the renderer uses them (type-only: nothing of the core is bundled). */
export type {
  ApiErrorBody,
  AppInfo,
  AttributeRow,
  DriveView,
  FindingView,
  HistoryEntry,
  LinkView,
  PatientView,
  PolicyView,
  PreviewView,
  ScanView,
  SeriesView,
  StudyView,
  ThumbnailView,
  TransferStatusView,
  UploadProgress,
  ValidationView,
} from '../main/core/api.ts';
export type { Step, FlowStep } from './store.ts';
