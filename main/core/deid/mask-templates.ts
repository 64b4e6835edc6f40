/**
 * Mask templates: the rectangles a user drew over one kind of image, remembered per
 * manufacturer + model + rows x columns (the place an ultrasound scanner burns the name in does
 * not move between patients). When a flagged series matches a template its rectangles are
 * proposed; the user still confirms them.
 *
 * One JSON file in the app's data folder. A template holds only the device's manufacturer and
 * model names, the image size and rectangles: no patient data, so it is kept in kiosk mode too.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { Tag } from '../dicom/dictionary.ts';
import { DicomParseError, parseDicom } from '../dicom/parse.ts';
import { getInteger, getText } from '../dicom/values.ts';
import type { MaskRect } from './mask.ts';

/** At most this many rectangles per series (the API refuses more). */
export const MAX_MASK_RECTS = 32;

/** What identifies a template: the device and the image size, never the patient. */
export interface ImageKind {
  readonly manufacturer: string;
  readonly model: string;
  readonly rows: number;
  readonly columns: number;
}

export interface StoredTemplate extends ImageKind {
  readonly rects: readonly MaskRect[];
  readonly updatedAt: string;
}

export interface MaskTemplateStore {
  get(kind: ImageKind): Promise<StoredTemplate | undefined>;
  set(kind: ImageKind, rects: readonly MaskRect[]): Promise<StoredTemplate>;
}

/** `MANUFACTURER|MODEL|ROWSxCOLUMNS`, case and surrounding spaces ignored. */
export function templateKey(kind: ImageKind): string {
  const clean = (text: string): string => text.trim().replace(/\s+/gu, ' ').toUpperCase();
  return `${clean(kind.manufacturer)}|${clean(kind.model)}|${kind.rows}x${kind.columns}`;
}

/** The first problem with the rectangles for an image of rows x columns, or undefined. */
export function rectsProblem(
  rects: readonly MaskRect[],
  rows: number,
  columns: number,
): string | undefined {
  if (rects.length > MAX_MASK_RECTS) return `at most ${MAX_MASK_RECTS} rectangles per series`;
  for (const [index, rect] of rects.entries()) {
    const numbers = [rect.x, rect.y, rect.width, rect.height];
    if (!numbers.every(Number.isInteger)) return `rectangle ${index + 1} is not in whole pixels`;
    if (rect.width < 1 || rect.height < 1) return `rectangle ${index + 1} is empty`;
    if (rect.x < 0 || rect.y < 0 || rect.x + rect.width > columns || rect.y + rect.height > rows) {
      return `rectangle ${index + 1} lies outside the ${columns} x ${rows} image`;
    }
  }
  return undefined;
}

/** The device and image size from a file's header (read up to Pixel Data). */
export async function readImageKind(file: string): Promise<ImageKind | undefined> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    let length = Math.min(size, 64 * 1024);
    for (;;) {
      const bytes = new Uint8Array(length);
      await handle.read(bytes, 0, length, 0);
      try {
        return imageKindOf(bytes, size);
      } catch (error) {
        if (error instanceof DicomParseError && error.code === 'need-more' && length < size) {
          length = Math.min(size, Math.max(error.atLeast, length * 2));
          continue;
        }
        return undefined;
      }
    }
  } finally {
    await handle.close();
  }
}

/** The same from bytes (a zip entry); throws DicomParseError need-more when cut short. */
export function imageKindOf(bytes: Uint8Array, fileSize = bytes.length): ImageKind | undefined {
  const dataset = parseDicom(bytes, { untilPixelData: true, fileSize }).dataset;
  const rows = getInteger(dataset, Tag.Rows);
  const columns = getInteger(dataset, Tag.Columns);
  if (!rows || !columns) return undefined;
  return {
    manufacturer: getText(dataset, Tag.Manufacturer) ?? '',
    model: getText(dataset, Tag.ManufacturerModelName) ?? '',
    rows,
    columns,
  };
}

export function memoryMaskTemplates(): MaskTemplateStore {
  const templates = new Map<string, StoredTemplate>();
  return {
    get: async (kind) => templates.get(templateKey(kind)),
    set: async (kind, rects) => {
      const stored = storedTemplate(kind, rects);
      templates.set(templateKey(kind), stored);
      return stored;
    },
  };
}

function storedTemplate(kind: ImageKind, rects: readonly MaskRect[]): StoredTemplate {
  return {
    manufacturer: kind.manufacturer,
    model: kind.model,
    rows: kind.rows,
    columns: kind.columns,
    rects: rects.map(({ x, y, width, height }) => ({ x, y, width, height })),
    updatedAt: new Date().toISOString(),
  };
}

interface TemplateFile {
  readonly version: 1;
  readonly templates: Record<string, StoredTemplate>;
}

function isTemplate(value: unknown): value is StoredTemplate {
  const t = value as StoredTemplate;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.manufacturer === 'string' &&
    typeof t.model === 'string' &&
    Number.isInteger(t.rows) &&
    Number.isInteger(t.columns) &&
    Array.isArray(t.rects) &&
    rectsProblem(t.rects, t.rows, t.columns) === undefined
  );
}

/** Templates in one JSON file (written whole through a temporary name, owner-only). */
export function fileMaskTemplates(file: string): MaskTemplateStore {
  let chain: Promise<unknown> = Promise.resolve();
  const read = async (): Promise<Record<string, StoredTemplate>> => {
    let parsed: TemplateFile;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8')) as TemplateFile;
    } catch {
      return {};
    }
    const kept: Record<string, StoredTemplate> = {};
    // A damaged or hand-edited entry is dropped, never proposed.
    for (const [key, value] of Object.entries(parsed?.templates ?? {})) {
      if (isTemplate(value) && templateKey(value) === key) kept[key] = value;
    }
    return kept;
  };
  return {
    get: async (kind) => (await read())[templateKey(kind)],
    set: (kind, rects) => {
      const next = chain.then(async () => {
        const templates = await read();
        const stored = storedTemplate(kind, rects);
        templates[templateKey(kind)] = stored;
        await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        const temp = `${file}.${process.pid}.tmp`;
        const body: TemplateFile = { version: 1, templates };
        try {
          const handle = await open(temp, 'w', 0o600);
          try {
            await handle.writeFile(JSON.stringify(body, null, 2));
          } finally {
            await handle.close();
          }
          await rename(temp, file);
        } catch (error) {
          await rm(temp, { force: true });
          throw error;
        }
        return stored;
      });
      chain = next.catch(() => {});
      return next;
    },
  };
}
