import { useEffect, useRef, useState } from 'react';
import { actions, useFlow } from '../app-state.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { ImageView } from '../components/image-view.tsx';
import { MaskEditor } from '../components/mask-editor.tsx';
import { PolicySummary } from '../components/policy-summary.tsx';
import { Screen } from '../components/screen.tsx';
import { t, type MessageKey } from '../i18n/index.ts';
import type { ApiErrorBody, PreviewView, SeriesView, ThumbnailView } from '../types.ts';

const isPreview = (value: PreviewView | ApiErrorBody | undefined): value is PreviewView =>
  value !== undefined && 'attributes' in value;

export function PreviewScreen() {
  const scan = useFlow((s) => s.scan);
  const selected = useFlow((s) => s.selected);
  const link = useFlow((s) => s.link);
  const info = useFlow((s) => s.info);
  const previews = useFlow((s) => s.previews);
  const confirmed = useFlow((s) => s.burnedInConfirmed);
  const thumbnails = useFlow((s) => s.thumbnails);
  const masks = useFlow((s) => s.masks);
  /** The series whose mask editor is open (mask-editor.tsx). */
  const [masking, setMasking] = useState<string | undefined>(undefined);
  const requested = useRef(new Set<string>());
  const thumbnailsRequested = useRef(new Set<string>());
  /** The series whose image is open large (image-view.tsx). */
  const [viewing, setViewing] = useState<string | undefined>(undefined);
  const series: SeriesView[] = (scan?.patients ?? [])
    .flatMap((patient) => patient.studies)
    .filter((study) => selected.includes(study.key))
    .flatMap((study) => study.series);
  const deidAvailable = info?.engines.deid ?? false;
  const deidentifying = link !== undefined && link.policy.kind !== 'none';
  const wanted = deidAvailable && deidentifying ? series.map((s) => s.firstPath).join('\n') : '';
  useEffect(() => {
    // Under a de-identifying policy every series' first image is previewed: the burned-in flags
    // must be seen before sending.
    for (const path of wanted.split('\n').filter(Boolean)) {
      if (requested.current.has(path)) continue;
      requested.current.add(path);
      void actions.preview(path);
    }
  }, [wanted]);
  const seriesUids = series.map((s) => s.seriesInstanceUid).join('\n');
  useEffect(() => {
    // One thumbnail per series, rendered in the core's worker pool, never on this thread.
    for (const uid of seriesUids.split('\n').filter(Boolean)) {
      if (thumbnailsRequested.current.has(uid)) continue;
      thumbnailsRequested.current.add(uid);
      void actions.thumbnail(uid);
    }
  }, [seriesUids]);
  if (!scan || !link) return null;
  const blocked = deidentifying && !deidAvailable;
  const masked = (s: SeriesView): boolean => masks[s.seriesInstanceUid]?.source === 'user';
  // Masking a flagged series counts as looking at it: only the others need the confirmation.
  const flagged = series.filter((s) => {
    const preview = previews[s.firstPath];
    return isPreview(preview) && preview.burnedIn !== 'no' && !masked(s);
  });
  const needsConfirmation = flagged.length > 0 && !confirmed;
  return (
    <Screen title={t('preview.title')}>
      <p>{t('preview.intro')}</p>
      <PolicySummary policy={link.policy} />
      {link.policy.kind === 'none' && !deidAvailable && <p>{t('preview.asIs')}</p>}
      {blocked && (
        <div className="notice notice-error" role="alert">
          <p>{t('preview.deidMissing')}</p>
        </div>
      )}
      <h2>{t('preview.series')}</h2>
      <ul className="series">
        {series.map((item) => {
          const label = t('preview.seriesLabel', {
            modality: item.modality || '—',
            number: item.number ?? '',
            description: item.description || t('studies.noDescription'),
            images: t('common.images', { count: item.instances }),
          });
          const preview = previews[item.firstPath];
          return (
            <li key={item.seriesInstanceUid}>
              <p>{label}</p>
              <Thumbnail
                view={thumbnails[item.seriesInstanceUid]}
                label={label}
                seriesInstanceUid={item.seriesInstanceUid}
                open={viewing === item.seriesInstanceUid}
                onOpen={() => setViewing(item.seriesInstanceUid)}
              />
              {viewing === item.seriesInstanceUid && (
                <LargeImage
                  view={thumbnails[item.seriesInstanceUid]}
                  scanId={scan.scanId}
                  label={label}
                  onClose={() => {
                    setViewing(undefined);
                    document
                      .querySelector<HTMLElement>(
                        `[data-series="${CSS.escape(item.seriesInstanceUid)}"]`,
                      )
                      ?.focus();
                  }}
                />
              )}
              {masked(item) && (
                <p className="badge mask-badge" data-testid="series-masked">
                  {t('mask.seriesMasked', {
                    count: masks[item.seriesInstanceUid]!.rectangles.length,
                  })}
                </p>
              )}
              {isThumbnail(thumbnails[item.seriesInstanceUid]) && (
                <button
                  type="button"
                  aria-expanded={masking === item.seriesInstanceUid}
                  data-mask-series={item.seriesInstanceUid}
                  onClick={() =>
                    setMasking(
                      masking === item.seriesInstanceUid ? undefined : item.seriesInstanceUid,
                    )
                  }
                  data-testid="mask-open"
                >
                  {t('mask.open', { label })}
                </button>
              )}
              {masking === item.seriesInstanceUid && (
                <MaskEditor
                  scanId={scan.scanId}
                  seriesInstanceUid={item.seriesInstanceUid}
                  label={label}
                  onChange={(view) => {
                    const before = masks[item.seriesInstanceUid];
                    actions.maskChanged(view);
                    // What is sent changed: the details table shows it again, from the core.
                    if (before && before.source !== view.source && (deidentifying || preview)) {
                      void actions.preview(item.firstPath);
                    }
                  }}
                  onClose={() => {
                    setMasking(undefined);
                    document
                      .querySelector<HTMLElement>(
                        `[data-mask-series="${CSS.escape(item.seriesInstanceUid)}"]`,
                      )
                      ?.focus();
                  }}
                />
              )}
              {deidAvailable && !preview && link.policy.kind === 'none' && (
                <button type="button" onClick={() => void actions.preview(item.firstPath)}>
                  {t('preview.show', { label })}
                </button>
              )}
              {preview && !isPreview(preview) && <ErrorNotice error={preview} />}
              {isPreview(preview) && <AttributeTable preview={preview} />}
            </li>
          );
        })}
      </ul>
      {flagged.length > 0 && (
        <div className="notice notice-warning">
          <p>{t('preview.burnedIn')}</p>
          <p>
            <input
              type="checkbox"
              id="burned-in-confirm"
              checked={confirmed}
              onChange={(event) => actions.confirmBurnedIn(event.target.checked)}
            />{' '}
            <label htmlFor="burned-in-confirm">{t('preview.burnedInConfirm')}</label>
          </p>
        </div>
      )}
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={blocked || needsConfirmation}
          onClick={() => actions.goTo('upload')}
        >
          {t('preview.continue')}
        </button>
        <button type="button" onClick={() => actions.goTo('studies')}>
          {t('common.back')}
        </button>
      </div>
    </Screen>
  );
}

const isThumbnail = (value: ThumbnailView | ApiErrorBody | undefined): value is ThumbnailView =>
  value !== undefined && 'kind' in value;

/** The thumbnail's instance shown large (image-view.tsx), as it will be sent. */
function LargeImage({
  view,
  scanId,
  label,
  onClose,
}: {
  view: ThumbnailView | ApiErrorBody | undefined;
  scanId: string;
  label: string;
  onClose: () => void;
}) {
  if (!isThumbnail(view) || view.kind !== 'rendered') return null;
  return (
    <ImageView key={view.path} scanId={scanId} path={view.path} label={label} onClose={onClose} />
  );
}

/**
 * The series' middle image, a button that opens it large; a plain sentence when it cannot be
 * shown (it is still sent).
 */
function Thumbnail({
  view,
  label,
  seriesInstanceUid,
  open,
  onOpen,
}: {
  view: ThumbnailView | ApiErrorBody | undefined;
  label: string;
  seriesInstanceUid: string;
  open: boolean;
  onOpen: () => void;
}) {
  if (view === undefined) return <p className="muted">{t('preview.thumbnailLoading')}</p>;
  if (isThumbnail(view) && view.kind === 'rendered') {
    return (
      <button
        type="button"
        className="thumbnail-button"
        aria-label={t('preview.openImage', { label })}
        aria-expanded={open}
        data-series={seriesInstanceUid}
        onClick={onOpen}
      >
        <img
          className="thumbnail"
          src={view.dataUrl}
          width={view.width}
          height={view.height}
          alt={t('preview.thumbnail', { label })}
          data-testid="thumbnail"
        />
      </button>
    );
  }
  return (
    <p className="muted" data-testid="no-thumbnail">
      {t('preview.noThumbnail')}
    </p>
  );
}

function AttributeTable({ preview }: { preview: PreviewView }) {
  if (preview.attributes.length === 0) return <p>{t('preview.asIs')}</p>;
  return (
    <table className="attributes">
      <caption>
        {t('preview.table')}
        {preview.burnedIn !== 'no' && (
          <span className="badge badge-warning">{t('preview.burnedInFlag')}</span>
        )}
      </caption>
      <thead>
        <tr>
          <th scope="col">{t('preview.col.attribute')}</th>
          <th scope="col">{t('preview.col.before')}</th>
          <th scope="col">{t('preview.col.after')}</th>
          <th scope="col">{t('preview.col.action')}</th>
        </tr>
      </thead>
      <tbody>
        {preview.attributes.map((row) => (
          <tr key={row.tag} className={`action-${row.action}`}>
            <th scope="row">
              {row.keyword} <span className="muted">{row.tag}</span>
            </th>
            <td>{row.before}</td>
            <td>{row.after}</td>
            <td>{t(`preview.action.${row.action}` as MessageKey)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
