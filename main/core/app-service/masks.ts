/**
 * masks.get / masks.set / masks.clear: the user's rectangles per series of the current scan
 * (main/core/deid/series-masks.ts, read by the preview and the uploader alike) and the templates
 * per device and image size (main/core/deid/mask-templates.ts) that propose them.
 */

import type { MaskView } from '../api.ts';
import type { MaskRect } from '../deid/mask.ts';
import {
  imageKindOf,
  readImageKind,
  rectsProblem,
  templateKey,
  type ImageKind,
  type MaskTemplateStore,
} from '../deid/mask-templates.ts';
import type { SeriesMasks } from '../deid/series-masks.ts';
import type { MediaSeries, ScanResult } from '../media/model.ts';
import { ApiError } from './errors.ts';
import { readZipEntry, resolveMediaPath } from './media-files.ts';

export interface MaskHandlerOptions {
  readonly scanFor: (scanId: string) => { readonly result: ScanResult };
  readonly masks: SeriesMasks;
  readonly templates: MaskTemplateStore;
  /** The series whose instance the editor shows (the thumbnail's: the middle one). */
  readonly referenceInstance: (series: MediaSeries) => { readonly path: string } | undefined;
  /** What is sent for this series changed: drop kept outgoing bytes and its thumbnail. */
  readonly changed: (seriesInstanceUid: string) => void;
}

interface SeriesRequest {
  readonly scanId: string;
  readonly seriesInstanceUid: string;
}

async function imageKindAt(root: string, relPath: string): Promise<ImageKind | undefined> {
  const target = resolveMediaPath(root, relPath);
  // Only inside the media root, as everywhere else.
  if (!target) return undefined;
  return target.inZip ? imageKindOf(await readZipEntry(root, relPath)) : readImageKind(target.file);
}

export function createMaskHandlers(options: MaskHandlerOptions) {
  const { masks, templates } = options;

  async function seriesOf({ scanId, seriesInstanceUid }: SeriesRequest) {
    const { result } = options.scanFor(scanId);
    const series = result.patients
      .flatMap((patient) => patient.studies)
      .flatMap((study) => study.series)
      .find((item) => item.seriesInstanceUid === seriesInstanceUid);
    const reference = series && options.referenceInstance(series);
    if (!series || !reference) throw new ApiError('series-not-on-disc');
    let kind: ImageKind | undefined;
    try {
      kind = await imageKindAt(result.root, reference.path);
    } catch {
      kind = undefined;
    }
    if (!kind) throw new ApiError('mask-no-image');
    return { root: result.root, series, kind, path: reference.path };
  }

  async function view(request: SeriesRequest): Promise<MaskView> {
    const { root, kind, path } = await seriesOf(request);
    const base = {
      seriesInstanceUid: request.seriesInstanceUid,
      rows: kind.rows,
      columns: kind.columns,
      path,
    };
    const own = masks.get(root, request.seriesInstanceUid);
    if (own) {
      return { ...base, rectangles: own.rects, source: 'user', templateKey: templateKey(kind) };
    }
    const template = await templates.get(kind);
    if (template) {
      return {
        ...base,
        rectangles: template.rects,
        source: 'template',
        templateKey: templateKey(kind),
      };
    }
    return { ...base, rectangles: [], source: 'none' };
  }

  return {
    'masks.get': (request: SeriesRequest): Promise<MaskView> => view(request),

    'masks.set': async (
      request: SeriesRequest & { readonly rectangles: readonly MaskRect[] },
    ): Promise<MaskView> => {
      const { root, series, kind } = await seriesOf(request);
      const rects = request.rectangles.map(({ x, y, width, height }) => ({ x, y, width, height }));
      if (rectsProblem(rects, kind.rows, kind.columns) !== undefined) {
        throw new ApiError('mask-outside', { columns: kind.columns, rows: kind.rows });
      }
      if (rects.length === 0) {
        masks.delete(root, request.seriesInstanceUid);
      } else {
        masks.set(
          root,
          request.seriesInstanceUid,
          series.instances.map((instance) => instance.path),
          { rows: kind.rows, columns: kind.columns, rects },
        );
        // The device burns its text in the same place for the next patient: remember it.
        await templates.set(kind, rects);
      }
      options.changed(request.seriesInstanceUid);
      return view(request);
    },

    'masks.clear': async (request: SeriesRequest): Promise<MaskView> => {
      const { root } = await seriesOf(request);
      masks.delete(root, request.seriesInstanceUid);
      options.changed(request.seriesInstanceUid);
      return view(request);
    },
  };
}
