/**
 * One instance shown large, exactly as it will be sent (preview.image renders it in the core's
 * worker pool from the outgoing bytes). Window/level by dragging (across: width, up and down:
 * center) or by Shift+arrow keys and buttons; frames by the wheel, PageUp/PageDown, arrow keys
 * and a slider; zoom by buttons and +/-/0. At most one render is in flight: while one runs, only
 * the latest wish is kept and sent next, so a drag never queues stale renders.
 *
 * Other tools draw over the image (a mask editor): `children` are placed in a box exactly over
 * the displayed image, and `onImageGeometry` gives the mapping between screen and native pixels.
 * Give it `key={path}`: another image starts afresh (first frame, its own window, fitted).
 */
import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type KeyboardEvent,
  type PointerEvent,
  type ReactNode,
} from 'react';
import { call, errorBody } from '../api-client.ts';
import { formatNumber, t, unrenderableReason } from '../i18n/index.ts';
import type { ApiErrorBody, ImageRenderView, WindowView } from '../types.ts';
import { ErrorNotice } from './error-notice.tsx';
import { PanelHead } from './panel-head.tsx';

/** Where the image is on screen, and how its native pixels map to it. */
export interface ImageGeometry {
  /** Native size (Columns, Rows). */
  readonly columns: number;
  readonly rows: number;
  /** The displayed image (and the overlay box), CSS pixels. */
  readonly displayWidth: number;
  readonly displayHeight: number;
  /** CSS pixels per native pixel. */
  readonly scale: number;
  /** A point on screen (clientX, clientY) in native pixels (fractional), or null outside. */
  toNative(clientX: number, clientY: number): { x: number; y: number } | null;
  /** A native pixel position in CSS pixels from the overlay box's top left. */
  toOverlay(x: number, y: number): { left: number; top: number };
}

export interface ImageViewProps {
  readonly scanId: string;
  /** The instance, relative to the media root (as the scan gives it). */
  readonly path: string;
  /** What the image is (the series' label): the heading and the screen reader's name. */
  readonly label: string;
  readonly onClose?: () => void;
  /** Drawn over the image, in a box the size and place of the displayed image. */
  readonly children?: ReactNode;
  readonly onImageGeometry?: (geometry: ImageGeometry) => void;
  /** False while an overlay uses the pointer (drawing rectangles): dragging then leaves the window. */
  readonly dragWindow?: boolean;
}

interface Wish {
  readonly scanId: string;
  readonly path: string;
  readonly frame: number;
  readonly window?: WindowView;
  readonly maxSize: number;
}

const ZOOM_STEP = 1.25;
const ZOOM_MIN = 0.25;
const ZOOM_MAX = 16;
/** Wheel travel (pixels) per frame. */
const WHEEL_PER_FRAME = 60;

const sameWish = (a: Wish | undefined, b: Wish | undefined): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

/** Rounds a window for display: whole numbers when wide, a few decimals when tiny. */
function shown(value: number): string {
  const magnitude = Math.abs(value);
  return formatNumber(
    magnitude >= 100 ? Math.round(value) : Number(value.toPrecision(magnitude >= 1 ? 4 : 3)),
  );
}

export function ImageView({
  scanId,
  path,
  label,
  onClose,
  children,
  onImageGeometry,
  dragWindow = true,
}: ImageViewProps) {
  const ids = useId();
  const [frame, setFrame] = useState(0);
  const [userWindow, setUserWindow] = useState<WindowView | undefined>(undefined);
  const [zoom, setZoom] = useState(1);
  const [view, setView] = useState<ImageRenderView | undefined>(undefined);
  const [error, setError] = useState<ApiErrorBody | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [box, setBox] = useState({ width: 640, height: 480 });
  const [announcement, setAnnouncement] = useState('');
  const viewport = useRef<HTMLDivElement>(null);
  const image = useRef<HTMLImageElement>(null);
  const wanted = useRef<Wish | undefined>(undefined);
  const inFlight = useRef(false);
  const alive = useRef(true);
  const drag = useRef<{ x: number; y: number; window: WindowView; pointerId: number }>(undefined);
  const wheel = useRef(0);

  const rendered = view?.kind === 'rendered' ? view : undefined;
  const frames = rendered?.frames ?? 1;
  const columns = rendered?.columns ?? 0;
  const rows = rendered?.rows ?? 0;
  const current = userWindow ?? rendered?.window ?? undefined;
  const windowable =
    rendered !== undefined && (rendered.window !== null || userWindow !== undefined);

  // The size the image is shown at: fit in the viewport, times the zoom.
  const fit = columns > 0 && rows > 0 ? Math.min(box.width / columns, box.height / rows) : 1;
  const displayWidth = Math.max(1, Math.round(columns * fit * zoom));
  const displayHeight = Math.max(1, Math.round(rows * fit * zoom));
  const ratio = typeof devicePixelRatio === 'number' ? devicePixelRatio : 1;
  // Rendered pixels: 1024 on the longer side to start; more (in steps of 256, up to 2048) only
  // when zooming shows a downscaled image larger than it was rendered.
  const [maxSize, setMaxSize] = useState(1024);
  useEffect(() => {
    if (!rendered) return;
    const downscaled = rendered.width < rendered.columns || rendered.height < rendered.rows;
    const needed = Math.min(
      2048,
      Math.ceil((Math.max(displayWidth, displayHeight) * ratio) / 256) * 256,
    );
    if (downscaled && needed > maxSize) setMaxSize(needed);
  }, [rendered, displayWidth, displayHeight, ratio, maxSize]);
  const geometryListener = useRef(onImageGeometry);
  geometryListener.current = onImageGeometry;

  useEffect(() => {
    alive.current = true;
    // Opened from a thumbnail (click or Enter): the keys work at once.
    viewport.current?.focus();
    return () => {
      alive.current = false;
    };
  }, []);

  /** Sends the latest wish; while a render runs, newer wishes replace each other. */
  const pump = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    let sent: Wish | undefined;
    try {
      while (wanted.current && !sameWish(sent, wanted.current)) {
        const wish = wanted.current;
        sent = wish;
        try {
          const answer = await call('preview.image', {
            scanId: wish.scanId,
            path: wish.path,
            frame: wish.frame,
            maxSize: wish.maxSize,
            ...(wish.window ? { window: wish.window } : {}),
          });
          if (!alive.current) return;
          setView(answer);
          setError(undefined);
        } catch (failure) {
          if (!alive.current) return;
          setError(errorBody(failure));
        }
      }
    } finally {
      inFlight.current = false;
      if (alive.current) setBusy(false);
    }
  }, []);

  useEffect(() => {
    wanted.current = {
      scanId,
      path,
      frame,
      maxSize,
      ...(userWindow ? { window: userWindow } : {}),
    };
    void pump();
  }, [scanId, path, frame, userWindow, maxSize, pump]);

  // The viewport's size, for fitting.
  useEffect(() => {
    const element = viewport.current;
    if (!element) return undefined;
    const measure = (): void => {
      const style = getComputedStyle(element);
      const width =
        element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const height =
        element.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      setBox({ width: Math.max(64, width), height: Math.max(64, height) });
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // Told again only when the numbers change (a parent may pass a new function each render).
  useEffect(() => {
    const listener = geometryListener.current;
    if (!listener || columns === 0) return;
    const scale = displayWidth / columns;
    listener({
      columns,
      rows,
      displayWidth,
      displayHeight,
      scale,
      toNative(clientX, clientY) {
        const rect = image.current?.getBoundingClientRect();
        if (!rect || rect.width === 0) return null;
        const x = ((clientX - rect.left) / rect.width) * columns;
        const y = ((clientY - rect.top) / rect.height) * rows;
        return x < 0 || y < 0 || x > columns || y > rows ? null : { x, y };
      },
      toOverlay: (x, y) => ({ left: x * scale, top: y * scale }),
    });
  }, [columns, rows, displayWidth, displayHeight]);

  // Say what is shown once a render lands: frame, and window for grey images.
  useEffect(() => {
    if (!rendered) return;
    const frameText = t('imageView.frameOf', {
      frame: formatNumber(rendered.frame + 1),
      frames: formatNumber(rendered.frames),
    });
    setAnnouncement(
      rendered.window
        ? `${frameText}. ${t('imageView.windowValue', { center: shown(rendered.window.center), width: shown(rendered.window.width) })}`
        : frameText,
    );
  }, [rendered]);

  const goToFrame = useCallback(
    (next: number) => setFrame(Math.min(Math.max(0, next), Math.max(0, frames - 1))),
    [frames],
  );

  const windowStep = (width: number): number =>
    width >= 20 ? Math.max(1, Math.round(width * 0.05)) : width * 0.05;

  const changeWindow = (dCenter: number, dWidth: number): void => {
    if (!current) return;
    const step = windowStep(current.width);
    setUserWindow({
      center: current.center + dCenter * step,
      width: Math.max(step, current.width + dWidth * step),
    });
  };

  const zoomBy = (factor: number): void =>
    setZoom((value) => Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, value * factor)));

  // The wheel pages through frames; it needs a non-passive listener to keep the page still.
  useEffect(() => {
    const element = viewport.current;
    if (!element) return undefined;
    const onWheel = (event: WheelEvent): void => {
      if (frames <= 1 || event.ctrlKey) return;
      event.preventDefault();
      wheel.current += event.deltaMode === 1 ? event.deltaY * 20 : event.deltaY;
      const steps = Math.trunc(wheel.current / WHEEL_PER_FRAME);
      if (steps !== 0) {
        wheel.current -= steps * WHEEL_PER_FRAME;
        setFrame((value) => Math.min(Math.max(0, value + steps), frames - 1));
      }
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, [frames]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const plain = !event.altKey && !event.ctrlKey && !event.metaKey;
    let handled = true;
    if (event.shiftKey && plain && event.key.startsWith('Arrow')) {
      // Shift+arrows: across narrows or widens the window, up and down brightens or darkens.
      if (event.key === 'ArrowLeft') changeWindow(0, -1);
      else if (event.key === 'ArrowRight') changeWindow(0, 1);
      else if (event.key === 'ArrowUp') changeWindow(-1, 0);
      else changeWindow(1, 0);
    } else if (event.altKey && !event.ctrlKey && !event.metaKey && event.key.startsWith('Arrow')) {
      // Alt+arrows move a zoomed image inside the viewer (plain arrows page the frames).
      const element = viewport.current;
      const dx = element ? element.clientWidth / 8 : 0;
      const dy = element ? element.clientHeight / 8 : 0;
      const [left, top] =
        event.key === 'ArrowLeft'
          ? [-dx, 0]
          : event.key === 'ArrowRight'
            ? [dx, 0]
            : event.key === 'ArrowUp'
              ? [0, -dy]
              : [0, dy];
      element?.scrollBy({ left, top });
    } else if (!plain) {
      handled = false;
    } else if (['PageDown', 'ArrowDown', 'ArrowRight'].includes(event.key)) goToFrame(frame + 1);
    else if (['PageUp', 'ArrowUp', 'ArrowLeft'].includes(event.key)) goToFrame(frame - 1);
    else if (event.key === 'Home') goToFrame(0);
    else if (event.key === 'End') goToFrame(frames - 1);
    else if (event.key === '+' || event.key === '=') zoomBy(ZOOM_STEP);
    else if (event.key === '-') zoomBy(1 / ZOOM_STEP);
    else if (event.key === '0') setZoom(1);
    else if (event.key === 'r' || event.key === 'R') setUserWindow(undefined);
    else if (event.key === 'Escape' && onClose) onClose();
    else handled = false;
    if (handled) event.preventDefault();
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>): void => {
    if (!dragWindow || event.button !== 0 || !current) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = {
      x: event.clientX,
      y: event.clientY,
      window: current,
      pointerId: event.pointerId,
    };
    event.preventDefault();
    viewport.current?.focus();
  };

  const onPointerMove = (event: PointerEvent<HTMLDivElement>): void => {
    const start = drag.current;
    if (!start || start.pointerId !== event.pointerId) return;
    // One screen pixel moves the window by 1/256 of its width at the start of the drag.
    const unit = start.window.width / 256;
    const width = Math.max(unit / 4, start.window.width + (event.clientX - start.x) * unit);
    setUserWindow({ center: start.window.center + (event.clientY - start.y) * unit, width });
  };

  const endDrag = (event: PointerEvent<HTMLDivElement>): void => {
    if (drag.current?.pointerId !== event.pointerId) return;
    drag.current = undefined;
  };

  const titleId = `${ids}-title`;
  const helpId = `${ids}-help`;
  const frameText = t('imageView.frameOf', {
    frame: formatNumber(frame + 1),
    frames: formatNumber(frames),
  });

  return (
    <section className="image-view" aria-labelledby={titleId} data-testid="image-view">
      <PanelHead
        titleId={titleId}
        title={t('imageView.title', { label })}
        closeLabel={t('imageView.close')}
        onClose={onClose}
      />
      <p id={helpId} className="muted">
        {t('imageView.help')}
      </p>
      {rendered?.masked && <p className="badge badge-info">{t('imageView.masked')}</p>}
      <div className="image-view-tools">
        <div role="group" aria-label={t('imageView.frames')} className="image-view-group">
          <button
            type="button"
            onClick={() => goToFrame(frame - 1)}
            disabled={frame <= 0}
            aria-label={t('imageView.previousFrame')}
          >
            ‹
          </button>
          <input
            type="range"
            min={1}
            max={Math.max(1, frames)}
            value={frame + 1}
            disabled={frames <= 1}
            aria-label={t('imageView.frameSlider')}
            aria-valuetext={frameText}
            onChange={(event) => goToFrame(Number(event.target.value) - 1)}
          />
          <button
            type="button"
            onClick={() => goToFrame(frame + 1)}
            disabled={frame >= frames - 1}
            aria-label={t('imageView.nextFrame')}
          >
            ›
          </button>
          <span className="image-view-readout" data-testid="frame-readout">
            {frameText}
          </span>
        </div>
        <div role="group" aria-label={t('imageView.window')} className="image-view-group">
          <button type="button" disabled={!windowable} onClick={() => changeWindow(0, -1)}>
            {t('imageView.moreContrast')}
          </button>
          <button type="button" disabled={!windowable} onClick={() => changeWindow(0, 1)}>
            {t('imageView.lessContrast')}
          </button>
          <button type="button" disabled={!windowable} onClick={() => changeWindow(-1, 0)}>
            {t('imageView.brighter')}
          </button>
          <button type="button" disabled={!windowable} onClick={() => changeWindow(1, 0)}>
            {t('imageView.darker')}
          </button>
          <button
            type="button"
            disabled={userWindow === undefined}
            onClick={() => setUserWindow(undefined)}
          >
            {t('imageView.resetWindow')}
          </button>
          <span className="image-view-readout" data-testid="window-readout">
            {current
              ? t('imageView.windowValue', {
                  center: shown(current.center),
                  width: shown(current.width),
                })
              : t('imageView.noWindow')}
          </span>
        </div>
        <div role="group" aria-label={t('imageView.zoom')} className="image-view-group">
          <button type="button" onClick={() => zoomBy(ZOOM_STEP)} disabled={zoom >= ZOOM_MAX}>
            {t('imageView.zoomIn')}
          </button>
          <button type="button" onClick={() => zoomBy(1 / ZOOM_STEP)} disabled={zoom <= ZOOM_MIN}>
            {t('imageView.zoomOut')}
          </button>
          <button type="button" onClick={() => setZoom(1)} disabled={zoom === 1}>
            {t('imageView.fit')}
          </button>
          <span className="image-view-readout" data-testid="zoom-readout">
            {t('imageView.zoomValue', { percent: formatNumber(Math.round(zoom * 100)) })}
          </span>
        </div>
      </div>
      <div
        ref={viewport}
        className={`image-view-viewport${busy ? ' busy' : ''}`}
        role="application"
        aria-roledescription={t('imageView.roleDescription')}
        aria-label={t('imageView.viewport', { label })}
        aria-describedby={helpId}
        aria-busy={busy}
        tabIndex={0}
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
        data-testid="image-viewport"
      >
        {rendered && (
          <div className="image-view-stage" style={{ width: displayWidth, height: displayHeight }}>
            <img
              ref={image}
              src={rendered.dataUrl}
              alt={t('imageView.alt', { label, frame: frameText })}
              width={displayWidth}
              height={displayHeight}
              // Enlarged well past its pixels: show them as squares, not a blur (as viewers do).
              className={displayWidth > rendered.width * 1.5 ? 'magnified' : undefined}
              draggable={false}
              data-testid="image-view-image"
            />
            {children !== undefined && <div className="image-view-overlay">{children}</div>}
          </div>
        )}
        {!rendered && !error && view === undefined && (
          <p className="muted image-view-message">{t('imageView.loading')}</p>
        )}
        {view?.kind === 'unrenderable' && (
          <p className="image-view-message" data-testid="image-view-unrenderable">
            {t('imageView.unrenderable')}{' '}
            <span className="muted">({unrenderableReason(view)})</span>
          </p>
        )}
      </div>
      {error && <ErrorNotice error={error} />}
      <p className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
    </section>
  );
}
