import { useId, useState, type DragEvent, type FormEvent } from 'react';
import { actions, useFlow } from '../app-state.ts';
import { getBridge } from '../api-client.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { Screen } from '../components/screen.tsx';
import { formatBytes, formatNumber, t, type MessageKey } from '../i18n/index.ts';

/** A dropped folder's path: Electron's preload knows it; a file manager's drag carries a file:// URI. */
function droppedPath(event: DragEvent): string | undefined {
  const file = event.dataTransfer.files[0];
  const bridge = getBridge();
  if (file && bridge.pathForFile) {
    const path = bridge.pathForFile(file);
    if (path) return path;
  }
  const uri = event.dataTransfer
    .getData('text/uri-list')
    .split(/\r?\n/u)
    .find((line) => line.startsWith('file://'));
  if (!uri) return undefined;
  const url = new URL(uri);
  const path = decodeURIComponent(url.pathname);
  // file:///C:/DISC -> C:/DISC on Windows
  return /^\/[A-Za-z]:\//u.test(path) ? path.slice(1) : path;
}

export function MediaScreen() {
  const info = useFlow((s) => s.info);
  const drives = useFlow((s) => s.drives);
  const scanning = useFlow((s) => s.scanning);
  const progress = useFlow((s) => s.scanProgress);
  const error = useFlow((s) => s.scanError);
  const [path, setPath] = useState('');
  const [dropProblem, setDropProblem] = useState(false);
  const [dragging, setDragging] = useState(false);
  const pathId = useId();
  const pathHelpId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (path.trim() !== '') void actions.scan(path.trim());
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const dropped = droppedPath(event);
    setDropProblem(dropped === undefined);
    if (dropped) {
      setPath(dropped);
      void actions.scan(dropped);
    }
  };

  return (
    <Screen title={t('media.title')}>
      <p>{t('media.intro')}</p>
      <h2>{t('media.drives')}</h2>
      {drives.length === 0 ? (
        <p>{t('media.noDrives')}</p>
      ) : (
        <ul className="drives">
          {drives.map((drive) => (
            <li key={drive.id}>
              <button
                type="button"
                disabled={scanning}
                onClick={() => void actions.scan(drive.mountPath)}
              >
                {t('media.readDrive', { label: drive.label })}
              </button>{' '}
              <span className="muted">
                {t(`media.kind.${drive.kind}` as MessageKey)}
                {drive.bytes !== undefined && `, ${formatBytes(drive.bytes)}`}
              </span>
            </li>
          ))}
        </ul>
      )}
      {info?.canPickFolder && (
        <p>
          <button type="button" disabled={scanning} onClick={() => void actions.pickFolder()}>
            {t('media.pick')}
          </button>
        </p>
      )}
      <form onSubmit={submit} className="stack">
        <label htmlFor={pathId}>{t('media.path')}</label>
        <input
          id={pathId}
          type="text"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={pathHelpId}
          value={path}
          onChange={(event) => setPath(event.target.value)}
        />
        <p id={pathHelpId} className="help">
          {t('media.pathHelp')}
        </p>
        <div>
          <button type="submit" className="primary" disabled={scanning}>
            {t('media.read')}
          </button>
        </div>
      </form>
      <div
        className={dragging ? 'dropzone dragging' : 'dropzone'}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
      >
        <p>{t('media.drop')}</p>
        {dropProblem && <p className="help">{t('media.dropNoPath')}</p>}
      </div>
      {scanning && (
        <div className="scan-progress">
          <ProgressBar
            id="scan-progress"
            label={progress ? t(`media.phase.${progress.phase}` as MessageKey) : t('media.reading')}
            value={progress && progress.total > 0 ? progress.done : undefined}
            max={progress?.total ?? 0}
            valueText={
              progress && progress.total > 0
                ? t('media.progress', {
                    done: formatNumber(progress.done),
                    total: formatNumber(progress.total),
                  })
                : t('media.reading')
            }
          />
          <button type="button" onClick={() => void actions.cancelScan()}>
            {t('media.stop')}
          </button>
        </div>
      )}
      {error && <ErrorNotice error={error} />}
    </Screen>
  );
}
