import { useEffect, useState } from 'react';
import { actions, useFlow } from '../app-state.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { Screen } from '../components/screen.tsx';
import { formatDateTime, formatDuration, formatNumber, portalSentence, t } from '../i18n/index.ts';

/** Kiosk: how long a finished transfer stays on screen before the app returns to the start. */
export const KIOSK_RESET_SECONDS = 60;

export function StatusScreen() {
  const transfer = useFlow((s) => s.transfer);
  const error = useFlow((s) => s.transferError);
  const info = useFlow((s) => s.info);
  const drives = useFlow((s) => s.drives);
  const mediaPath = useFlow((s) => s.mediaPath);
  const ejected = useFlow((s) => s.ejected);
  useEffect(() => {
    if (!transfer) void actions.refreshStatus();
    // Only on opening the step; refreshStatus keeps polling until the status is final.
  }, []);
  const kiosk = info?.kiosk ?? false;
  const finished = transfer?.terminal ?? false;
  const onDrive = drives.some((drive) => drive.mountPath === mediaPath);
  return (
    <Screen title={t('status.title')}>
      {error && <ErrorNotice error={error} />}
      {transfer && (
        <div className="receipt">
          <p className="print-only receipt-title">{t('status.receiptTitle')}</p>
          <dl className="facts">
            <dt>{t('status.reference')}</dt>
            <dd className="reference" data-testid="reference">
              {transfer.transferId}
            </dd>
            <dt>{t('status.to')}</dt>
            <dd>
              {[transfer.provider.name, transfer.provider.organization].filter(Boolean).join(', ')}
            </dd>
            <dt>{t('status.started')}</dt>
            <dd>{formatDateTime(transfer.createdAt)}</dd>
          </dl>
          <p className="help no-print">{t('status.referenceHelp')}</p>
          <p className="status-message" data-state={transfer.state}>
            <strong>{portalSentence(transfer.message)}</strong>
          </p>
          {transfer.expected && (
            <p>
              {t('status.received', {
                received: formatNumber(transfer.received.instances),
                expected: formatNumber(transfer.expected.instances),
              })}
            </p>
          )}
          <h2>{t('status.timeline')}</h2>
          <ol className="timeline">
            {transfer.timeline.map((entry) => (
              <li key={`${entry.state}-${entry.at}`} data-state={entry.state}>
                <time dateTime={entry.at}>{formatDateTime(entry.at)}</time> —{' '}
                {portalSentence(entry.message)}
              </li>
            ))}
          </ol>
          <p className="muted no-print">
            {transfer.terminal ? t('status.final') : t('status.checking')}
          </p>
        </div>
      )}
      <div className="actions no-print">
        {transfer && (
          <button type="button" className="primary" onClick={() => window.print()}>
            {t('status.print')}
          </button>
        )}
        <button type="button" onClick={() => void actions.refreshStatus()}>
          {t('status.refresh')}
        </button>
        {info?.canEject && onDrive && !ejected && (
          <button type="button" onClick={() => void actions.eject()}>
            {t('status.eject')}
          </button>
        )}
        <button type="button" onClick={() => actions.sendAnother()}>
          {t('status.another')}
        </button>
      </div>
      {ejected && <p className="notice notice-ok">{t('status.ejected')}</p>}
      {kiosk && finished && <KioskReset />}
    </Screen>
  );
}

/** Kiosk: a visible countdown to the start screen, and a button to go there at once. */
function KioskReset() {
  const [left, setLeft] = useState(KIOSK_RESET_SECONDS);
  useEffect(() => {
    const timer = setInterval(() => setLeft((n) => Math.max(0, n - 1)), 1000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    if (left === 0) void actions.resetKiosk();
  }, [left]);
  return (
    <div className="notice notice-info no-print" data-testid="kiosk-reset">
      <p>{t('kiosk.reset', { time: formatDuration(Math.max(left, 1)) })}</p>
      <button type="button" className="primary" onClick={() => void actions.resetKiosk()}>
        {t('kiosk.resetNow')}
      </button>
    </div>
  );
}
