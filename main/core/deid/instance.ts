/**
 * De-identification of one instance, from its source to the bytes that leave the computer.
 *
 * One code path: `deidentifyInstance` reads the header (header-only when it can), transforms
 * it, encodes the new header, and returns the instance with `chunks()` — header, then the pixel
 * value streamed from the source (byte-swapped for big-endian sources, masked when asked), then
 * what follows Pixel Data. The preview, the CLI's files and the upload all consume `chunks()`.
 */
import { Buffer } from 'node:buffer';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

import { attributeName, formatTag, Tag, TransferSyntax } from '../dicom/dictionary.ts';
import {
  DicomParseError,
  parseDicom,
  type DicomElement,
  type ParsedDicom,
} from '../dicom/parse.ts';
import { getInteger, getText } from '../dicom/values.ts';
import {
  encodeInstance,
  ferryImplementationClassUid,
  ferryImplementationVersionName,
  outputTransferSyntax,
  swapInPlace,
  swapUnit,
  type EncodedInstance,
  type OutputElement,
  type PixelElement,
  type PixelSource,
} from '../dicom/write.ts';
import { burnedInFlags, hasOverlays, type BurnedInFlag } from './burned-in.ts';
import {
  DeidError,
  keepDataset,
  transformDataset,
  type AttributeChange,
  type IdentityPolicy,
} from './engine.ts';
import {
  encapsulatedInFile,
  encapsulatedInMemory,
  maskEncapsulated,
  type DecodedMask,
} from './mask-decoded.ts';
import { MEDIA_STORAGE_DIRECTORY } from '../media/walk.ts';
import { MaskApplier, maskRanges, pixelGeometry, type MaskRect } from './mask.ts';
import { UidRemapper } from './uid.ts';

export type InstanceInput =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

export interface InstanceRequest {
  /**
   * Rectangles to mask in every frame (Clean Pixel Data). Native pixel data is masked while it
   * streams; compressed pixel data is decoded, masked and sent uncompressed (mask-decoded.ts).
   */
  readonly masks?: readonly MaskRect[];
  /** The image size the rectangles were drawn on: an instance of another size is not masked. */
  readonly maskSize?: { readonly rows: number; readonly columns: number };
}

export interface DeidentifiedInstance {
  readonly changes: readonly AttributeChange[];
  /** Why the pixels may still show identity; empty when nothing suggests it. */
  readonly burnedIn: readonly BurnedInFlag[];
  readonly masked: boolean;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly byteLength: number;
  readonly encoded: EncodedInstance;
  /** The output file's bytes, in order: header, pixel value, trailer. */
  chunks(): AsyncGenerator<Uint8Array>;
}

export interface InstancePreview {
  readonly changes: readonly AttributeChange[];
  readonly burnedIn: readonly BurnedInFlag[];
  readonly masked: boolean;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /** Exactly the bytes that would be sent (the rendered result is drawn from these). */
  readonly bytes: Uint8Array;
}

const headBytes = 64 * 1024;
const chunkBytes = 1024 * 1024; // a multiple of 8: byte swapping stays aligned
/**
 * Files up to this size are read whole, once: one open and one read per file, the pixel value
 * passed on as a view of that buffer. Larger files (multi-frame, long cine) are read header
 * first and their pixel data streamed from the file in chunks, so memory stays bounded.
 */
export const wholeFileBytes = 4 * 1024 * 1024;

interface LoadedSource {
  readonly parsed: ParsedDicom;
  readonly pixelElement: DicomElement | undefined;
  /** In the file or in memory (decoded frames are made later, by mask-decoded.ts). */
  readonly pixel: Exclude<PixelSource, { kind: 'frames' }> | undefined;
  readonly path: string | undefined;
  readonly fileSize: number;
}

async function readAt(handle: FileHandle, length: number): Promise<Uint8Array> {
  // Every byte used is overwritten by the reads below (a short read returns the filled part).
  // A plain Uint8Array view, not a Buffer: Buffer's slice() would alias instead of copying.
  const buffer = plainBytes(Buffer.allocUnsafeSlow(length));
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled < length ? buffer.subarray(0, filled) : buffer;
}

/** The same memory as a plain Uint8Array (whose slice() copies, unlike Buffer's). */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function unreadable(error: unknown): DeidError {
  if (error instanceof DeidError) return error;
  if (error instanceof DicomParseError) {
    return new DeidError('unreadable', `the file cannot be read as DICOM (${error.code})`);
  }
  throw error;
}

function fullParse(bytes: Uint8Array, path: string | undefined, fileSize: number): LoadedSource {
  let parsed: ParsedDicom;
  try {
    parsed = parseDicom(bytes);
  } catch (error) {
    throw unreadable(error);
  }
  const element = parsed.pixelData;
  return {
    parsed,
    pixelElement: element,
    pixel: element
      ? {
          kind: 'bytes',
          bytes: parsed.dataset.bytes.subarray(
            element.valueOffset,
            element.valueOffset + element.length,
          ),
        }
      : undefined,
    path,
    fileSize,
  };
}

/** Walks encapsulated fragments (PS3.5 A.4) by their item headers; returns the end offset. */
async function encapsulatedEnd(
  handle: FileHandle,
  start: number,
  fileSize: number,
): Promise<number> {
  const header = new Uint8Array(8);
  const view = new DataView(header.buffer);
  let pos = start;
  while (pos + 8 <= fileSize) {
    const { bytesRead } = await handle.read(header, 0, 8, pos);
    if (bytesRead < 8) break;
    const tag = ((view.getUint16(0, true) << 16) | view.getUint16(2, true)) >>> 0;
    const length = view.getUint32(4, true);
    if (tag === Tag.SequenceDelimitationItem) return pos + 8;
    if (tag !== Tag.Item || length === 0xffffffff) {
      throw new DeidError('unreadable', 'the compressed pixel data is damaged (no fragment item)');
    }
    pos += 8 + length;
  }
  throw new DeidError('unreadable', 'the compressed pixel data ends before its delimiter');
}

async function loadFile(path: string): Promise<LoadedSource> {
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    if (fileSize <= wholeFileBytes) {
      const whole = await readAt(handle, fileSize);
      try {
        return fullParse(whole, path, fileSize);
      } catch {
        // Bytes after the pixel data that are not elements: the header-first path below
        // drops them (and reports a damaged header as unreadable).
      }
    }
    let bytes = await readAt(handle, Math.min(headBytes, fileSize));
    let parsed: ParsedDicom;
    for (;;) {
      try {
        parsed = parseDicom(bytes, { untilPixelData: true, fileSize });
        break;
      } catch (error) {
        if (
          error instanceof DicomParseError &&
          error.code === 'need-more' &&
          bytes.length < fileSize
        ) {
          bytes = await readAt(
            handle,
            Math.min(fileSize, Math.max(error.atLeast, bytes.length * 2)),
          );
          continue;
        }
        throw unreadable(error);
      }
    }
    const deflated =
      parsed.transferSyntaxUid === TransferSyntax.DeflatedExplicitVrLittleEndian ||
      parsed.transferSyntaxUid === '1.2.840.10008.1.2.8.1';
    if (deflated) return fullParse(await readAt(handle, fileSize), path, fileSize);
    const element = parsed.pixelData;
    if (!element) {
      // No pixel data: the header is the whole file, already read.
      return fullParse(
        bytes.length === fileSize ? bytes : await readAt(handle, fileSize),
        path,
        fileSize,
      );
    }
    const end = element.undefinedLength
      ? await encapsulatedEnd(handle, element.valueOffset, fileSize)
      : element.valueOffset + element.length;
    if (end > fileSize) {
      throw new DeidError('unreadable', 'the file ends inside its pixel data (truncated)');
    }
    if (end < fileSize) {
      // Elements after Pixel Data (rare): read the whole file so they go through the profile.
      try {
        return fullParse(await readAt(handle, fileSize), path, fileSize);
      } catch {
        // Bytes after the pixel data that are not elements (padding, garbage) are dropped.
      }
    }
    return {
      parsed,
      pixelElement: { ...element, length: end - element.valueOffset },
      pixel: { kind: 'range', start: element.valueOffset, end },
      path,
      fileSize,
    };
  } finally {
    await handle.close();
  }
}

async function load(input: InstanceInput): Promise<LoadedSource> {
  if (input.kind === 'bytes') {
    return fullParse(plainBytes(input.bytes), undefined, input.bytes.length);
  }
  return loadFile(input.path);
}

/**
 * Smallest/Largest Image Pixel Value and the series' extremes (Type 3) no longer describe
 * masked pixels (a black box lies outside them), so they are removed rather than left false.
 */
const PIXEL_EXTREMES = [0x00280106, 0x00280107, 0x00280108, 0x00280109];

function withoutPixelExtremes(
  result: ReturnType<typeof keepDataset>,
): ReturnType<typeof keepDataset> {
  const present = result.dataset.elements.filter((e) => PIXEL_EXTREMES.includes(e.tag));
  if (present.length === 0) return result;
  const changes: AttributeChange[] = present.map((e) => ({
    path: formatTag(e.tag),
    tag: formatTag(e.tag),
    name: attributeName(e.tag),
    action: 'removed',
    rule: 'Ferry: pixel value range no longer true after masking',
  }));
  return {
    ...result,
    dataset: { elements: result.dataset.elements.filter((e) => !PIXEL_EXTREMES.includes(e.tag)) },
    changes: [...result.changes, ...changes],
  };
}

function metaText(parsed: ParsedDicom, tag: number): string {
  return parsed.meta ? (getText(parsed.meta, tag) ?? '') : '';
}

/** Changes to the file meta information, which is regenerated (PS3.10 7.1). */
function metaChanges(
  parsed: ParsedDicom,
  sopInstanceUid: string,
  transferSyntaxUid: string,
): AttributeChange[] {
  const meta = parsed.meta;
  if (!meta) return [];
  const changes: AttributeChange[] = [];
  for (const element of meta.elements.values()) {
    const tag = element.tag;
    const tagText = `(0002,${(tag & 0xffff).toString(16).toUpperCase().padStart(4, '0')})`;
    const before = getText(meta, tag) ?? '';
    const change = (action: AttributeChange['action'], rule: string, after?: string): void => {
      changes.push({
        path: tagText,
        tag: tagText,
        name: metaName(tag),
        action,
        rule,
        before: element.vr === 'OB' ? `${element.length} bytes` : before,
        ...(after !== undefined ? { after } : {}),
      });
    };
    switch (tag) {
      case 0x00020000:
      case 0x00020001:
      case Tag.MediaStorageSopClassUid:
        break;
      case Tag.MediaStorageSopInstanceUid:
        if (before !== sopInstanceUid) change('uid-replaced', 'U', sopInstanceUid);
        break;
      case Tag.TransferSyntaxUid:
        if (before !== transferSyntaxUid)
          change('replaced', 'Ferry: output transfer syntax', transferSyntaxUid);
        break;
      case Tag.ImplementationClassUid:
        change('replaced', 'Ferry: the writer of this file', ferryImplementationClassUid);
        break;
      case Tag.ImplementationVersionName:
        change('replaced', 'Ferry: the writer of this file', ferryImplementationVersionName);
        break;
      default:
        change(
          'removed',
          'Ferry: file meta information regenerated (source AE titles, private information)',
        );
    }
  }
  return changes;
}

const metaNames: Readonly<Record<number, string>> = {
  [Tag.MediaStorageSopInstanceUid]: 'Media Storage SOP Instance UID',
  [Tag.TransferSyntaxUid]: 'Transfer Syntax UID',
  [Tag.ImplementationClassUid]: 'Implementation Class UID',
  [Tag.ImplementationVersionName]: 'Implementation Version Name',
  [Tag.SourceApplicationEntityTitle]: 'Source Application Entity Title',
  0x00020017: 'Sending Application Entity Title',
  0x00020018: 'Receiving Application Entity Title',
  0x00020100: 'Private Information Creator UID',
  0x00020102: 'Private Information',
};

function metaName(tag: number): string {
  return metaNames[tag] ?? 'File meta element';
}

/**
 * De-identifies one instance under the policy (undefined: a link that sends identity, where
 * only masking changes the instance). Throws DeidError (stable codes, messages without patient
 * values): a DICOMDIR, an unreadable file, compressed pixel data that cannot be decoded to mask.
 */
export async function deidentifyInstance(
  input: InstanceInput,
  policy: IdentityPolicy | undefined,
  request: InstanceRequest = {},
): Promise<DeidentifiedInstance> {
  const source = await load(input);
  const { parsed } = source;
  const dataset = parsed.dataset;
  if (
    metaText(parsed, Tag.MediaStorageSopClassUid) === MEDIA_STORAGE_DIRECTORY ||
    dataset.elements.has(Tag.DirectoryRecordSequence)
  ) {
    throw new DeidError(
      'dicomdir',
      "a DICOMDIR (the disc's table of contents, with names and IDs) is never sent",
    );
  }
  if (!getText(dataset, Tag.SopInstanceUid) || !getText(dataset, Tag.SopClassUid)) {
    throw new DeidError(
      'not-an-instance',
      'this file has no SOP Class or SOP Instance UID, so no archive could store it; it will not be sent',
    );
  }
  const size = request.maskSize;
  const otherSize =
    size !== undefined &&
    (getInteger(dataset, Tag.Rows) !== size.rows ||
      getInteger(dataset, Tag.Columns) !== size.columns);
  const masks = otherSize ? [] : (request.masks ?? []);
  let applier: (() => MaskApplier) | undefined;
  let decoded: DecodedMask | undefined;
  if (masks.length > 0) {
    if (!source.pixelElement)
      throw new DeidError('mask-unsupported', 'this instance has no image to mask');
    if (source.pixelElement.undefinedLength) {
      // A large file stays on disc: its fragments are read a frame at a time (mask-decoded.ts).
      const encapsulated =
        source.path !== undefined && source.pixel?.kind === 'range'
          ? await encapsulatedInFile(source.path, source.fileSize, parsed)
          : encapsulatedInMemory(parsed);
      decoded = await maskEncapsulated(encapsulated, masks);
    } else {
      const geometry = pixelGeometry(dataset);
      const ranges = maskRanges(geometry, masks);
      applier = () => new MaskApplier(ranges, geometry.fill);
    }
  }
  const masked = applier !== undefined || decoded !== undefined;

  let transformed = policy ? transformDataset(dataset, policy, { masked }) : keepDataset(dataset);
  if (decoded) {
    const replaced = new Set<number>([
      ...decoded.removed,
      ...decoded.elements.map((element) => element.tag),
    ]);
    const elements: OutputElement[] = [
      ...transformed.dataset.elements.filter((element) => !replaced.has(element.tag)),
      ...decoded.elements,
    ];
    transformed = {
      ...transformed,
      dataset: { elements },
      changes: [...transformed.changes, ...decoded.changes],
    };
  }
  if (masked) transformed = withoutPixelExtremes(transformed);
  const sopClassUid = transformed.sopClassUid || metaText(parsed, Tag.MediaStorageSopClassUid);
  let sopInstanceUid = transformed.sopInstanceUid;
  if (!sopInstanceUid) {
    const metaUid = metaText(parsed, Tag.MediaStorageSopInstanceUid);
    sopInstanceUid =
      policy?.kind === 'deidentify' && !policy.options.includes('retain-uids') && metaUid
        ? new UidRemapper(policy.key).remap(metaUid)
        : metaUid;
  }
  const transferSyntaxUid = decoded
    ? TransferSyntax.ExplicitVrLittleEndian
    : outputTransferSyntax(parsed.transferSyntaxUid);

  let pixel: PixelElement | undefined;
  const element = source.pixelElement;
  if (element && decoded) {
    pixel = {
      tag: element.tag,
      vr: decoded.vr,
      undefinedLength: false,
      source: { kind: 'frames', frames: decoded.frames },
      swap: 0,
      length: decoded.length,
    };
  } else if (element && source.pixel) {
    let vr = element.vr;
    if (vr === 'UN' || vr.length !== 2) vr = element.undefinedLength ? 'OB' : 'OW';
    pixel = {
      tag: element.tag,
      vr,
      undefinedLength: element.undefinedLength,
      source: source.pixel,
      swap: dataset.littleEndian ? 0 : swapUnit(vr),
      length:
        source.pixel.kind === 'range'
          ? source.pixel.end - source.pixel.start
          : source.pixel.bytes.length,
    };
  }
  const encoded = encodeInstance(
    {
      mediaStorageSopClassUid: sopClassUid,
      mediaStorageSopInstanceUid: sopInstanceUid,
      transferSyntaxUid,
    },
    transformed.dataset,
    pixel,
  );
  const overlaysKept =
    policy === undefined
      ? hasOverlays(dataset)
      : policy.kind === 'reconcile' ||
        (policy.options.includes('clean-graphics') && hasOverlays(dataset));
  const burnedIn = burnedInFlags(dataset, sopClassUid, overlaysKept);
  const path = source.path;
  const fileSize = source.fileSize;
  return {
    changes: [...metaChanges(parsed, sopInstanceUid, transferSyntaxUid), ...transformed.changes],
    burnedIn,
    masked,
    sopClassUid,
    sopInstanceUid,
    studyInstanceUid: transformed.studyInstanceUid,
    seriesInstanceUid: transformed.seriesInstanceUid,
    transferSyntaxUid,
    byteLength: encoded.byteLength,
    encoded,
    chunks: () => streamChunks(encoded, path, fileSize, applier?.()),
  };
}

async function* streamChunks(
  encoded: EncodedInstance,
  path: string | undefined,
  fileSize: number,
  mask: MaskApplier | undefined,
): AsyncGenerator<Uint8Array> {
  yield encoded.header;
  const pixel = encoded.pixel;
  if (pixel) {
    const transform = (chunk: Uint8Array, offset: number): void => {
      swapInPlace(chunk, pixel.swap);
      mask?.apply(chunk, offset);
    };
    const needsCopy = pixel.swap !== 0 || mask !== undefined;
    if (pixel.source.kind === 'frames') {
      // Decoded and masked as it streams, one frame at a time (mask-decoded.ts).
      yield* pixel.source.frames();
    } else if (pixel.source.kind === 'bytes') {
      const bytes = pixel.source.bytes;
      for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
        const view = bytes.subarray(offset, Math.min(bytes.length, offset + chunkBytes));
        // A copy to swap or mask: the source stays as it was for the next chunks().
        const chunk = needsCopy ? new Uint8Array(view) : view;
        transform(chunk, offset);
        yield chunk;
      }
    } else {
      if (path === undefined) throw new Error('pixel range without a source file');
      const { start, end } = pixel.source;
      const handle = await open(path, 'r');
      try {
        if ((await handle.stat()).size !== fileSize) {
          throw new DeidError('unreadable', 'the file changed while it was being read');
        }
        for (let pos = start; pos < end;) {
          const length = Math.min(chunkBytes, end - pos);
          // Every byte is overwritten by the read below (a short read throws): no zero fill.
          const chunk: Uint8Array = Buffer.allocUnsafeSlow(length);
          let filled = 0;
          while (filled < length) {
            const { bytesRead } = await handle.read(chunk, filled, length - filled, pos + filled);
            if (bytesRead === 0)
              throw new DeidError('unreadable', 'the file ended while its pixel data was read');
            filled += bytesRead;
          }
          transform(chunk, pos - start);
          pos += length;
          yield chunk;
        }
      } finally {
        await handle.close();
      }
    }
    if (!pixel.undefinedLength && pixel.length % 2 === 1) yield new Uint8Array(1);
  }
  if (encoded.trailer.length > 0) yield encoded.trailer;
}

/** The instance's output bytes, collected: what the preview shows is what is sent. */
export async function collectBytes(instance: DeidentifiedInstance): Promise<Uint8Array> {
  const out = new Uint8Array(instance.byteLength);
  let offset = 0;
  for await (const chunk of instance.chunks()) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  if (offset !== out.length) throw new Error(`output length ${offset} != ${out.length}`);
  return out;
}

/** Preview: every change, the burned-in flags, and the bytes — from deidentifyInstance itself. */
export async function previewInstance(
  input: InstanceInput,
  policy: IdentityPolicy | undefined,
  request: InstanceRequest = {},
): Promise<InstancePreview> {
  const instance = await deidentifyInstance(input, policy, request);
  return {
    changes: instance.changes,
    burnedIn: instance.burnedIn,
    masked: instance.masked,
    sopInstanceUid: instance.sopInstanceUid,
    transferSyntaxUid: instance.transferSyntaxUid,
    bytes: await collectBytes(instance),
  };
}

const writeBatchBytes = 8 * 1024 * 1024;

/** What a writev of `chunks` left unwritten after `written` bytes (short writes resume here). */
export function unwrittenAfter(chunks: readonly Uint8Array[], written: number): Uint8Array[] {
  let skip = written;
  const rest: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) skip -= chunk.length;
    else {
      rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
  }
  return rest;
}

/** Writes every byte of `chunks` at the handle's position (writev; short writes resumed). */
async function writeAll(handle: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let pending = chunks;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    pending = unwrittenAfter(pending, bytesWritten);
  }
}

/** Writes the instance to `outPath` (via a temporary name: a failure leaves nothing behind). */
export async function writeInstanceFile(
  instance: DeidentifiedInstance,
  outPath: string,
): Promise<void> {
  const partial = `${outPath}.partial`;
  const handle = await open(partial, 'w');
  try {
    try {
      // Chunks are gathered and written with one writev per few MiB: for an image read whole,
      // the header and the pixel value go to the file in a single system call.
      let batch: Uint8Array[] = [];
      let batched = 0;
      for await (const chunk of instance.chunks()) {
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= writeBatchBytes) {
          await writeAll(handle, batch);
          batch = [];
          batched = 0;
        }
      }
      if (batch.length > 0) await writeAll(handle, batch);
    } finally {
      await handle.close();
    }
    await rename(partial, outPath);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
