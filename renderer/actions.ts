/** What the screens do: call api.ts, put the answers in the store, announce what changed. */
import type { ApiErrorBody, MaskView, ScanView, Step, UploadProgress } from './types.ts';
import { call, errorBody, getBridge } from './api-client.ts';
import {
  currentLanguage,
  errorMessage,
  forgetLanguage,
  formatNumber,
  portalSentence,
  t,
} from './i18n/index.ts';
import {
  applyEvent,
  defaultSelection,
  discCleared,
  initialState,
  isUploadFinished,
  type FlowState,
  type Store,
} from './store.ts';

export function createActions(store: Store) {
  const set = store.setState;
  const get = store.getState;
  let statusTimer: ReturnType<typeof setTimeout> | undefined;
  let lastAnnouncedTenth = -1;

  const goTo = (step: Step): void => set({ step });

  async function openLink(url: string): Promise<void> {
    set({ linkBusy: true, linkError: undefined });
    try {
      const link = await call('link.open', { url });
      set({ link, linkBusy: false });
      store.announce(t('link.expectsTitle'));
    } catch (error) {
      set({ link: undefined, linkBusy: false, linkError: errorBody(error) });
    }
  }

  async function forgetLink(): Promise<void> {
    await call('link.forget', undefined).catch(() => null);
    set({ link: undefined, linkError: undefined, step: 'link' });
  }

  async function init(): Promise<void> {
    const bridge = getBridge();
    bridge.on('scan.progress', (p) => set((s) => applyEvent(s, 'scan.progress', p)));
    bridge.on('scan.studyList', (p) => {
      set((s) => applyEvent(s, 'scan.studyList', p));
      store.announce(t('media.studyListReady'));
    });
    bridge.on('drives.changed', (p) => {
      const { info, mediaPath, drives, upload } = get();
      const wasThere = drives.some((drive) => drive.mountPath === mediaPath);
      set((s) => applyEvent(s, 'drives.changed', p));
      // Kiosk: the core ejects the disc once its images are sent; tell the person to take it.
      const gone = !p.drives.some((drive) => drive.mountPath === mediaPath);
      if (info?.kiosk && wasThere && gone && upload?.state === 'done') {
        set({ ejected: true });
        store.announce(t('status.ejected'));
      }
    });
    bridge.on('upload.progress', (p) => onUploadProgress(p));
    bridge.on('link.opened', ({ url }) => {
      // A link clicked while images are being sent waits: switching links mid-upload would
      // leave the running transfer without its screen.
      const running = get().upload;
      if (running && !isUploadFinished(running)) {
        store.announce(t('link.openedWhileSending'));
        return;
      }
      set({ step: 'link' });
      void openLink(url);
    });
    const info = await call('app.info', undefined);
    set({ info });
    const [drives, upload] = await Promise.all([
      call('media.listDrives', undefined).catch(() => []),
      call('upload.current', undefined).catch(() => null),
    ]);
    set({ drives, ...(upload ? { upload } : {}) });
    if (info.pendingLink) {
      await openLink(info.pendingLink);
    } else {
      try {
        const link = await call('link.current', undefined);
        if (link) set({ link });
      } catch (error) {
        set({ linkError: errorBody(error) });
      }
    }
    if (upload && !isUploadFinished(upload)) set({ step: 'upload' });
  }

  function onUploadProgress(progress: UploadProgress): void {
    const before = get().upload;
    set((s) => applyEvent(s, 'upload.progress', progress));
    const tenth =
      progress.totalBytes > 0 ? Math.floor((progress.sentBytes / progress.totalBytes) * 10) : 0;
    if (before?.state !== progress.state) {
      store.announce(t(`upload.state.${progress.state}`));
    } else if (tenth !== lastAnnouncedTenth && progress.state === 'sending') {
      lastAnnouncedTenth = tenth;
      store.announce(t('upload.announce', { percent: tenth * 10 }));
    }
    if (progress.state === 'done') {
      set({ step: 'status' });
      void refreshStatus();
    }
  }

  async function scan(path: string): Promise<void> {
    set({
      ...discCleared,
      mediaPath: path,
      scanning: true,
      scanError: undefined,
      scanProgress: undefined,
      identityConfirmed: false,
      ejected: false,
    });
    store.announce(t('media.reading'));
    try {
      const result = await call('media.scan', { path });
      set({ scan: result, scanning: false, selected: defaultSelection(result) });
      store.announce(
        t('media.done', {
          patients: t('media.patients', { count: result.summary.patients }),
          studies: t('common.studies', { count: result.summary.studies }),
          images: t('common.images', { count: result.summary.instances }),
        }),
      );
      set({ step: 'studies' });
      await validate(result);
    } catch (error) {
      set({ scanning: false, scan: undefined, scanError: errorBody(error) });
    }
  }

  async function validate(result: ScanView): Promise<void> {
    set({ validating: true });
    try {
      const validation = await call('validate.run', { scanId: result.scanId });
      set({ validation, validating: false, selected: defaultSelection(result, validation) });
    } catch (error) {
      set({ validating: false, scanError: errorBody(error) });
    }
  }

  async function pickFolder(): Promise<void> {
    try {
      const chosen = await call('media.pickFolder', undefined);
      if (chosen) await scan(chosen.path);
    } catch (error) {
      set({ scanError: errorBody(error) });
    }
  }

  async function cancelScan(): Promise<void> {
    await call('media.cancelScan', undefined).catch(() => null);
  }

  function toggleStudy(key: string, on: boolean): void {
    set((s: FlowState) => ({
      selected: on ? [...new Set([...s.selected, key])] : s.selected.filter((k) => k !== key),
    }));
  }

  async function preview(path: string): Promise<void> {
    const scanView = get().scan;
    if (!scanView) return;
    try {
      const result = await call('preview.instance', { scanId: scanView.scanId, path });
      set((s) => ({ previews: { ...s.previews, [path]: result } }));
    } catch (error) {
      set((s) => ({ previews: { ...s.previews, [path]: errorBody(error) } }));
    }
  }

  /** The rectangles applied to what is sent ('' when none: a proposal is not applied). */
  function appliedRects(view: MaskView | undefined): string {
    return view?.source === 'user' ? JSON.stringify(view.rectangles) : '';
  }

  async function thumbnail(seriesInstanceUid: string): Promise<void> {
    const scanView = get().scan;
    if (!scanView) return;
    try {
      const result = await call('preview.thumbnail', {
        scanId: scanView.scanId,
        seriesInstanceUid,
      });
      set((s) => ({ thumbnails: { ...s.thumbnails, [seriesInstanceUid]: result } }));
    } catch (error) {
      set((s) => ({ thumbnails: { ...s.thumbnails, [seriesInstanceUid]: errorBody(error) } }));
    }
  }

  async function startUpload(): Promise<void> {
    const { scan: scanView, selected, burnedInConfirmed, identityConfirmed } = get();
    if (!scanView) return;
    set({ uploadError: undefined, transfer: undefined, transferError: undefined });
    lastAnnouncedTenth = -1;
    try {
      const upload = await call('upload.start', {
        scanId: scanView.scanId,
        studyKeys: [...selected],
        burnedInConfirmed,
        identityConfirmed,
      });
      set({ upload });
    } catch (error) {
      set({ uploadError: errorBody(error) });
    }
  }

  async function control(
    action: 'upload.pause' | 'upload.resume' | 'upload.cancel',
  ): Promise<void> {
    const current = get().upload;
    if (!current) return;
    try {
      // The new state arrives as an upload.progress event; the answer may predate it.
      await call(action, { uploadId: current.uploadId });
    } catch (error) {
      set({ uploadError: errorBody(error) });
    }
  }

  async function refreshStatus(transferId?: string): Promise<void> {
    clearTimeout(statusTimer);
    const id = transferId ?? get().upload?.transferId ?? get().transfer?.transferId;
    try {
      const transfer = await call('transfer.status', id === undefined ? {} : { transferId: id });
      const before = get().transfer;
      set({ transfer, transferError: undefined });
      if (before?.message !== transfer.message) store.announce(portalSentence(transfer.message));
      if (!transfer.terminal && get().step === 'status') {
        statusTimer = setTimeout(() => void refreshStatus(transfer.transferId), 3000);
      }
    } catch (error) {
      set({ transferError: errorBody(error) });
    }
  }

  async function showTransfer(transferId: string): Promise<void> {
    set({ step: 'status', transfer: undefined });
    await refreshStatus(transferId);
  }

  async function loadHistory(): Promise<void> {
    const history = await call('history.list', undefined).catch(() => []);
    set({ history });
  }

  async function eject(): Promise<void> {
    const { drives, mediaPath } = get();
    const drive = drives.find((d) => d.mountPath === mediaPath);
    if (!drive) return;
    try {
      await call('media.eject', { driveId: drive.id });
      set({ ejected: true });
      store.announce(t('status.ejected'));
    } catch (error) {
      set({ transferError: errorBody(error) });
    }
  }

  /**
   * Kiosk: back to the first screen with nothing of this person left in the page, and the core
   * removes what it kept of them (session.reset: link, scan, previews, journal). Refused while
   * images are being sent.
   */
  async function resetKiosk(): Promise<void> {
    const { info, drives } = get();
    try {
      await call('session.reset', undefined);
    } catch (error) {
      const body = errorBody(error);
      if (body.code === 'busy') {
        store.announce(errorMessage(body));
        return;
      }
      await call('link.forget', undefined).catch(() => null);
    }
    clearTimeout(statusTimer);
    // The language this person chose is theirs too: the next one starts in the computer's.
    forgetLanguage(
      (globalThis as { navigator?: { language?: string } }).navigator?.language ?? 'en',
    );
    // Every optional field (link, scan, upload, transfer...) cleared, then the initial values.
    const cleared = Object.fromEntries(Object.keys(get()).map((key) => [key, undefined]));
    set({ ...(cleared as Partial<FlowState>), ...initialState, info, drives });
    store.announce(t('kiosk.resetDone'));
  }

  /** The support file (codes and counts only) saved as JSON; true, or why it could not be made. */
  async function saveSupportFile(): Promise<true | ApiErrorBody> {
    try {
      const bundle = await call('support.bundle', { language: currentLanguage() });
      const page = globalThis as { document?: Document; URL?: typeof URL };
      if (!page.document || !page.URL) return true;
      const blob = new Blob([`${JSON.stringify(bundle, null, 2)}\n`], {
        type: 'application/json',
      });
      const href = page.URL.createObjectURL(blob);
      const anchor = page.document.createElement('a');
      anchor.href = href;
      anchor.download = `ferry-support-${bundle.createdAt.replace(/[:.]/gu, '-')}.json`;
      anchor.hidden = true;
      page.document.body.append(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => page.URL?.revokeObjectURL(href), 60_000);
      return true;
    } catch (error) {
      return errorBody(error);
    }
  }

  function sendAnother(): void {
    set({ ...discCleared, step: 'media', upload: undefined, transfer: undefined });
  }

  return {
    goTo,
    init,
    openLink,
    forgetLink,
    scan,
    pickFolder,
    cancelScan,
    toggleStudy,
    preview,
    thumbnail,
    confirmBurnedIn: (on: boolean) => set({ burnedInConfirmed: on }),
    maskChanged: (view: MaskView) => {
      const before = get().masks[view.seriesInstanceUid];
      set((s) => ({ masks: { ...s.masks, [view.seriesInstanceUid]: view } }));
      // The thumbnail shows the pixels that are sent: when the applied mask changed, fetch it again.
      if (appliedRects(before) !== appliedRects(view)) void thumbnail(view.seriesInstanceUid);
    },
    confirmIdentity: (on: boolean) => set({ identityConfirmed: on }),
    startUpload,
    pause: () => control('upload.pause'),
    resume: () => control('upload.resume'),
    cancel: () => control('upload.cancel'),
    refreshStatus,
    showTransfer,
    loadHistory,
    eject,
    sendAnother,
    resetKiosk,
    saveSupportFile,
    formatNumber,
  };
}

export type Actions = ReturnType<typeof createActions>;
