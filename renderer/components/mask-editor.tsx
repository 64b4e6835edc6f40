/**
 * Black out parts of a series' images (burned-in names, dates, IDs) before they are sent.
 * Rectangles are drawn with the mouse over the image view (image-view.tsx), moved by dragging,
 * resized by their corner handle, deleted with a button or the Delete key. Without a mouse:
 * "Add a rectangle", then arrow keys move it and Shift+arrow keys resize it (steps of about 1 %
 * of the image), Delete removes it.
 *
 * Coordinates are the image's own pixels (Columns x Rows). "Apply to the series" sends them
 * (masks.set): every image of the series of that size is masked, whatever the link's policy,
 * and the view then shows the image rendered from the masked bytes that will be sent.
 */
import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type KeyboardEvent,
  type PointerEvent,
} from 'react';
import { call, errorBody } from '../api-client.ts';
import { formatNumber, t } from '../i18n/index.ts';
import type { ApiErrorBody, MaskRectView, MaskView } from '../types.ts';
import { ErrorNotice } from './error-notice.tsx';
import { ImageView, type ImageGeometry } from './image-view.tsx';
import { PanelHead } from './panel-head.tsx';

const MAX_RECTS = 32;

export interface MaskEditorProps {
  readonly scanId: string;
  readonly seriesInstanceUid: string;
  /** The series' label, for headings and screen readers. */
  readonly label: string;
  /** The mask as the core now holds it (after get, set or clear). */
  readonly onChange?: (view: MaskView) => void;
  readonly onClose?: () => void;
}

type Gesture =
  | { kind: 'draw'; pointerId: number; x0: number; y0: number }
  | { kind: 'move'; pointerId: number; index: number; dx: number; dy: number }
  | { kind: 'resize'; pointerId: number; index: number };

const sameRects = (a: readonly MaskRectView[], b: readonly MaskRectView[]): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

function clampRect(rect: MaskRectView, columns: number, rows: number): MaskRectView {
  const width = Math.min(Math.max(1, Math.round(rect.width)), columns);
  const height = Math.min(Math.max(1, Math.round(rect.height)), rows);
  return {
    x: Math.min(Math.max(0, Math.round(rect.x)), columns - width),
    y: Math.min(Math.max(0, Math.round(rect.y)), rows - height),
    width,
    height,
  };
}

export function MaskEditor({
  scanId,
  seriesInstanceUid,
  label,
  onChange,
  onClose,
}: MaskEditorProps) {
  const ids = useId();
  const [mask, setMask] = useState<MaskView | undefined>(undefined);
  const [rects, setRects] = useState<readonly MaskRectView[]>([]);
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const [error, setError] = useState<ApiErrorBody | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  /** Bumped after apply or clear: the image view renders the new outgoing bytes. */
  const [version, setVersion] = useState(0);
  const [geometry, setGeometry] = useState<ImageGeometry | undefined>(undefined);
  const overlay = useRef<HTMLDivElement>(null);
  const gesture = useRef<Gesture | undefined>(undefined);
  const [draft, setDraft] = useState<MaskRectView | undefined>(undefined);
  const rectRefs = useRef<(HTMLDivElement | null)[]>([]);
  const addButton = useRef<HTMLButtonElement>(null);
  /**
   * The image view is remade after apply or clear (to render the new outgoing bytes) and takes
   * the focus when it mounts; give it back to the tools, where the user was.
   */
  const refocusTools = (): void => {
    requestAnimationFrame(() => requestAnimationFrame(() => addButton.current?.focus()));
  };

  // The latest callback, without re-fetching the mask whenever the parent renders.
  const changed = useRef(onChange);
  changed.current = onChange;
  const adopt = useCallback((view: MaskView) => {
    setMask(view);
    setRects(view.rectangles);
    setSelected(undefined);
    changed.current?.(view);
  }, []);

  useEffect(() => {
    let alive = true;
    call('masks.get', { scanId, seriesInstanceUid })
      .then((view) => {
        if (!alive) return;
        adopt(view);
        if (view.source === 'template') setStatus(t('mask.templateProposed'));
      })
      .catch((failure: unknown) => alive && setError(errorBody(failure)));
    return () => {
      alive = false;
    };
  }, [scanId, seriesInstanceUid, adopt]);

  const columns = mask?.columns ?? 0;
  const rows = mask?.rows ?? 0;
  const step = Math.max(1, Math.round(Math.max(columns, rows) / 100));
  const applied = mask?.source === 'user' && sameRects(mask.rectangles, rects);
  // Something to apply: other rectangles than the user's applied ones, or a proposal to accept.
  const dirty =
    mask !== undefined &&
    (mask.source === 'user' ? !sameRects(mask.rectangles, rects) : rects.length > 0);

  /** A pointer position in native pixels, clamped to the image. */
  const nativeAt = (clientX: number, clientY: number): { x: number; y: number } | undefined => {
    const box = overlay.current?.getBoundingClientRect();
    if (!box || box.width === 0 || columns === 0) return undefined;
    return {
      x: Math.min(columns, Math.max(0, ((clientX - box.left) / box.width) * columns)),
      y: Math.min(rows, Math.max(0, ((clientY - box.top) / box.height) * rows)),
    };
  };

  const update = (index: number, rect: MaskRectView): void =>
    setRects((list) => list.map((r, i) => (i === index ? clampRect(rect, columns, rows) : r)));

  const remove = (index: number): void => {
    setRects((list) => list.filter((_, i) => i !== index));
    setSelected(undefined);
    setStatus(t('mask.deleted', { number: index + 1 }));
  };

  const add = (): void => {
    if (columns === 0 || rects.length >= MAX_RECTS) return;
    const rect = clampRect(
      {
        x: columns / 4,
        y: rows / 4,
        width: Math.max(1, columns / 2),
        height: Math.max(1, rows / 8),
      },
      columns,
      rows,
    );
    const index = rects.length;
    setRects((list) => [...list, rect]);
    setSelected(index);
    setStatus(t('mask.added', { number: index + 1 }));
    // Focus the new rectangle so the arrow keys move it at once.
    requestAnimationFrame(() => rectRefs.current[index]?.focus());
  };

  const onRectKeyDown = (event: KeyboardEvent<HTMLDivElement>, index: number): void => {
    const rect = rects[index];
    if (!rect) return;
    const arrows: Record<string, [number, number]> = {
      ArrowLeft: [-1, 0],
      ArrowRight: [1, 0],
      ArrowUp: [0, -1],
      ArrowDown: [0, 1],
    };
    const direction = arrows[event.key];
    let handled = true;
    if (direction && event.shiftKey) {
      update(index, {
        ...rect,
        width: rect.width + direction[0] * step,
        height: rect.height + direction[1] * step,
      });
    } else if (direction) {
      update(index, { ...rect, x: rect.x + direction[0] * step, y: rect.y + direction[1] * step });
    } else if (event.key === 'Delete' || event.key === 'Backspace') {
      remove(index);
      overlay.current?.focus();
    } else {
      handled = false;
    }
    // The image view's own keys (frames, contrast) must not also act on these.
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>): void => {
    if (event.button !== 0 || columns === 0) return;
    const point = nativeAt(event.clientX, event.clientY);
    if (!point) return;
    const target = event.target as HTMLElement;
    const index = Number(target.dataset.index ?? -1);
    event.currentTarget.setPointerCapture(event.pointerId);
    event.preventDefault();
    event.stopPropagation();
    if (index >= 0 && target.dataset.handle === 'resize') {
      gesture.current = { kind: 'resize', pointerId: event.pointerId, index };
      setSelected(index);
    } else if (index >= 0) {
      const rect = rects[index]!;
      gesture.current = {
        kind: 'move',
        pointerId: event.pointerId,
        index,
        dx: point.x - rect.x,
        dy: point.y - rect.y,
      };
      setSelected(index);
      rectRefs.current[index]?.focus();
    } else if (rects.length < MAX_RECTS) {
      gesture.current = { kind: 'draw', pointerId: event.pointerId, x0: point.x, y0: point.y };
      setSelected(undefined);
    }
  };

  const onPointerMove = (event: PointerEvent<HTMLDivElement>): void => {
    const current = gesture.current;
    if (!current || current.pointerId !== event.pointerId) return;
    const point = nativeAt(event.clientX, event.clientY);
    if (!point) return;
    event.stopPropagation();
    if (current.kind === 'draw') {
      setDraft({
        x: Math.min(current.x0, point.x),
        y: Math.min(current.y0, point.y),
        width: Math.abs(point.x - current.x0),
        height: Math.abs(point.y - current.y0),
      });
    } else if (current.kind === 'move') {
      const rect = rects[current.index]!;
      update(current.index, { ...rect, x: point.x - current.dx, y: point.y - current.dy });
    } else {
      const rect = rects[current.index]!;
      update(current.index, { ...rect, width: point.x - rect.x, height: point.y - rect.y });
    }
  };

  const onPointerUp = (event: PointerEvent<HTMLDivElement>): void => {
    const current = gesture.current;
    if (!current || current.pointerId !== event.pointerId) return;
    gesture.current = undefined;
    event.stopPropagation();
    if (current.kind === 'draw' && draft) {
      setDraft(undefined);
      // A click without a drag draws nothing.
      if (draft.width >= 1 && draft.height >= 1) {
        const x = Math.floor(draft.x);
        const y = Math.floor(draft.y);
        const rect = clampRect(
          {
            x,
            y,
            width: Math.ceil(draft.x + draft.width) - x,
            height: Math.ceil(draft.y + draft.height) - y,
          },
          columns,
          rows,
        );
        const index = rects.length;
        setRects((list) => [...list, rect]);
        setSelected(index);
        setStatus(t('mask.added', { number: index + 1 }));
      }
    }
  };

  const apply = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const view =
        rects.length === 0
          ? await call('masks.clear', { scanId, seriesInstanceUid })
          : await call('masks.set', { scanId, seriesInstanceUid, rectangles: [...rects] });
      adopt(view);
      setVersion((v) => v + 1);
      refocusTools();
      setStatus(
        view.source === 'user'
          ? t('mask.appliedStatus', { count: view.rectangles.length })
          : t('mask.clearedStatus'),
      );
    } catch (failure) {
      setError(errorBody(failure));
    } finally {
      setBusy(false);
    }
  };

  const clear = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const view = await call('masks.clear', { scanId, seriesInstanceUid });
      adopt(view);
      // A template proposal stays proposed, not applied: start from no rectangles.
      setRects([]);
      setVersion((v) => v + 1);
      refocusTools();
      setStatus(t('mask.clearedStatus'));
    } catch (failure) {
      setError(errorBody(failure));
    } finally {
      setBusy(false);
    }
  };

  const titleId = `${ids}-title`;
  const helpId = `${ids}-help`;
  const scale = geometry?.scale ?? 0;
  const box = (rect: MaskRectView) => ({
    left: rect.x * scale,
    top: rect.y * scale,
    width: rect.width * scale,
    height: rect.height * scale,
  });
  const describe = (rect: MaskRectView, index: number): string =>
    t('mask.rectangle', {
      number: index + 1,
      x: formatNumber(rect.x),
      y: formatNumber(rect.y),
      width: formatNumber(rect.width),
      height: formatNumber(rect.height),
    });

  return (
    <section className="mask-editor" aria-labelledby={titleId} data-testid="mask-editor">
      <PanelHead
        titleId={titleId}
        title={t('mask.title', { label })}
        closeLabel={t('mask.close')}
        onClose={onClose}
      />
      <p id={helpId}>{t('mask.help')}</p>
      {mask?.source === 'template' && rects.length > 0 && (
        <p className="notice notice-info" data-testid="mask-template">
          {t('mask.templateProposed')}
        </p>
      )}
      {error && <ErrorNotice error={error} />}
      <div className="mask-tools" role="group" aria-label={t('mask.tools')}>
        <button
          ref={addButton}
          type="button"
          onClick={add}
          disabled={columns === 0 || rects.length >= MAX_RECTS}
          data-testid="mask-add"
        >
          {t('mask.add')}
        </button>
        <button
          type="button"
          onClick={() => selected !== undefined && remove(selected)}
          disabled={selected === undefined}
        >
          {t('mask.delete')}
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => void apply()}
          disabled={busy || mask === undefined || !dirty}
          data-testid="mask-apply"
        >
          {t('mask.apply')}
        </button>
        <button
          type="button"
          onClick={() => void clear()}
          disabled={busy || mask?.source !== 'user'}
          data-testid="mask-clear"
        >
          {t('mask.clear')}
        </button>
      </div>
      <p className="muted" data-testid="mask-state">
        {applied
          ? t('mask.applied', { count: rects.length })
          : dirty
            ? t('mask.notApplied')
            : t('mask.none')}
      </p>
      {rects.length > 0 && (
        <ol className="mask-list" aria-label={t('mask.list')}>
          {rects.map((rect, index) => (
            <li key={index}>
              <button
                type="button"
                aria-pressed={selected === index}
                onClick={() => {
                  setSelected(index);
                  rectRefs.current[index]?.focus();
                }}
              >
                {describe(rect, index)}
              </button>
            </li>
          ))}
        </ol>
      )}
      {mask && (
        <ImageView
          key={`${mask.path}#${version}`}
          scanId={scanId}
          path={mask.path}
          label={label}
          dragWindow={false}
          onImageGeometry={setGeometry}
        >
          <div
            ref={overlay}
            className="mask-surface"
            role="group"
            tabIndex={-1}
            aria-label={t('mask.surface')}
            aria-describedby={helpId}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={onPointerUp}
            data-testid="mask-surface"
          >
            {rects.map((rect, index) => (
              <div
                key={index}
                ref={(element) => {
                  rectRefs.current[index] = element;
                }}
                className={`mask-rect${selected === index ? ' selected' : ''}${applied ? ' applied' : ''}`}
                style={box(rect)}
                data-index={index}
                role="button"
                tabIndex={0}
                aria-label={describe(rect, index)}
                aria-describedby={helpId}
                aria-pressed={selected === index}
                onFocus={() => setSelected(index)}
                onKeyDown={(event) => onRectKeyDown(event, index)}
                data-testid="mask-rect"
              >
                {selected === index && (
                  <span
                    className="mask-handle"
                    data-index={index}
                    data-handle="resize"
                    aria-hidden="true"
                  />
                )}
              </div>
            ))}
            {draft && <div className="mask-rect draft" style={box(draft)} aria-hidden="true" />}
          </div>
        </ImageView>
      )}
      <p className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {status}
      </p>
    </section>
  );
}
