import { useEffect } from 'react';
import { actions, useFlow } from '../app-state.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { Screen } from '../components/screen.tsx';
import { formatBytes, formatDuration, formatNumber, t } from '../i18n/index.ts';
import { isUploadFinished } from '../store.ts';
import type { UploadProgress } from '../types.ts';

/** While images are being sent, leaving or closing the page asks first. */
function useLeaveWarning(active: boolean): void {
  useEffect(() => {
    if (!active) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = t('upload.leaveWarning');
      return t('upload.leaveWarning');
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [active]);
}

export function UploadScreen() {
  const upload = useFlow((s) => s.upload);
  const error = useFlow((s) => s.uploadError);
  const scan = useFlow((s) => s.scan);
  const selected = useFlow((s) => s.selected);
  const link = useFlow((s) => s.link);
  const active = upload !== undefined && !isUploadFinished(upload);
  useLeaveWarning(active);

  if (!upload || (upload.state === 'cancelled' && !active && scan)) {
    if (!scan || !link) return null;
    const studies = scan.patients.flatMap((p) => p.studies).filter((s) => selected.includes(s.key));
    const images = studies.reduce((n, s) => n + s.instances, 0);
    const bytes = studies.reduce((n, s) => n + s.bytes, 0);
    return (
      <Screen title={t('upload.title')}>
        {upload?.state === 'cancelled' && (
          <p className="notice notice-info">{t('upload.state.cancelled')}</p>
        )}
        <p>
          {t('upload.ready', {
            images: t('common.images', { count: images }),
            size: formatBytes(bytes),
            studies: t('common.studies', { count: studies.length }),
            provider: link.provider.name,
          })}
        </p>
        {error && <ErrorNotice error={error} />}
        <div className="actions">
          <button type="button" className="primary" onClick={() => void actions.startUpload()}>
            {t('upload.start')}
          </button>
          <button type="button" onClick={() => actions.goTo('preview')}>
            {t('common.back')}
          </button>
        </div>
      </Screen>
    );
  }
  return <Sending upload={upload} errorMessage={error} />;
}

function Sending({
  upload,
  errorMessage,
}: {
  upload: UploadProgress;
  errorMessage: ReturnType<typeof useFlow<UploadProgress['error']>>;
}) {
  const finished = isUploadFinished(upload);
  const counts = t('upload.counts', {
    sent: formatNumber(upload.sentInstances),
    total: formatNumber(upload.totalInstances),
    sentSize: formatBytes(upload.sentBytes),
    totalSize: formatBytes(upload.totalBytes),
  });
  return (
    <Screen title={t('upload.title')}>
      <p className="upload-state" data-state={upload.state}>
        {t(`upload.state.${upload.state}`)}
      </p>
      <ProgressBar
        id="upload-progress"
        label={t('upload.progressLabel')}
        value={upload.sentBytes}
        max={upload.totalBytes}
        valueText={counts}
      />
      {upload.state === 'sending' && (
        <p className="muted">
          {upload.bytesPerSecond > 0 &&
            t('upload.rate', { rate: formatBytes(upload.bytesPerSecond) })}
          {' · '}
          {upload.etaSeconds === null
            ? t('upload.etaUnknown')
            : t('upload.eta', { time: formatDuration(upload.etaSeconds) })}
        </p>
      )}
      {upload.error && <ErrorNotice error={upload.error} />}
      {errorMessage && <ErrorNotice error={errorMessage} />}
      <div className="actions">
        {!finished && upload.state !== 'paused' && (
          <button type="button" onClick={() => void actions.pause()}>
            {t('upload.pause')}
          </button>
        )}
        {upload.state === 'paused' && (
          <button type="button" className="primary" onClick={() => void actions.resume()}>
            {t('upload.resume')}
          </button>
        )}
        {!finished && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm(t('upload.cancelConfirm'))) void actions.cancel();
            }}
          >
            {t('upload.cancel')}
          </button>
        )}
        {upload.state === 'failed' && (
          <button type="button" className="primary" onClick={() => void actions.startUpload()}>
            {t('upload.retry')}
          </button>
        )}
        {upload.transferId && (
          <button type="button" onClick={() => void actions.showTransfer(upload.transferId ?? '')}>
            {t('upload.toStatus')}
          </button>
        )}
      </div>
    </Screen>
  );
}
