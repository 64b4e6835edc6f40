/**
 * From a file's bytes to the stored values of one frame (PS3.5 8 and Annex A): native
 * little/big endian (1 to 64 bits, signed, planar configuration), deflate (the parser
 * inflates), RLE (Annex G, decoded in rle.ts), and the encapsulated JPEG family through the
 * npm codecs in codecs.ts. Colour stays in the samples' colour space (render.ts converts).
 *
 * Never throws: a file that cannot be decoded is an `Unrenderable` with a reason.
 */
import {
  DicomParseError,
  parseDicom,
  type DicomElement,
  type ParsedDicom,
} from '../dicom/parse.ts';
import { getInteger, getText, valueBytes } from '../dicom/values.ts';
import { ImageTag } from './attributes.ts';
import {
  decodeHtj2k,
  decodeJpeg2000,
  decodeJpegBaseline,
  decodeJpegLossless,
  decodeJpegLs,
  jpegColorMarkers,
  jpegFrameMarker,
  jpegPrecision,
  withAdobeNoTransform,
  type CodecOutput,
} from './codecs.ts';
import { frameBytes, readEncapsulated } from './fragments.ts';
import { decodeRleFrame } from './rle.ts';
import {
  unrenderable,
  type DecodedColorSpace,
  type DecodedFrame,
  type DecodeResult,
  type ImageGeometry,
  type PixelSamples,
  type Unrenderable,
} from './types.ts';

/** Transfer syntaxes by how their pixel data is decoded (PS3.5 Table A-1, PS3.6 Annex A). */
const nativeSyntaxes = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
]);
const codecBySyntax: Record<
  string,
  'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'j2k' | 'htj2k' | 'rle'
> = {
  '1.2.840.10008.1.2.4.50': 'jpeg',
  '1.2.840.10008.1.2.4.51': 'jpeg',
  '1.2.840.10008.1.2.4.57': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.70': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.80': 'jpeg-ls',
  '1.2.840.10008.1.2.4.81': 'jpeg-ls',
  '1.2.840.10008.1.2.4.90': 'j2k',
  '1.2.840.10008.1.2.4.91': 'j2k',
  '1.2.840.10008.1.2.4.92': 'j2k',
  '1.2.840.10008.1.2.4.93': 'j2k',
  '1.2.840.10008.1.2.4.201': 'htj2k',
  '1.2.840.10008.1.2.4.202': 'htj2k',
  '1.2.840.10008.1.2.4.203': 'htj2k',
  '1.2.840.10008.1.2.5': 'rle',
};

/** Parses a file for decoding; a parse failure becomes the matching Unrenderable. */
export function parseForImage(fileBytes: Uint8Array): ParsedDicom | Unrenderable {
  try {
    return parseDicom(fileBytes);
  } catch (error) {
    if (error instanceof DicomParseError) {
      if (error.code === 'not-dicom') return unrenderable('not-dicom', 'the file is not DICOM');
      if (error.code === 'truncated' || error.code === 'need-more') {
        return unrenderable('truncated', `the file is cut short: ${error.message}`);
      }
      return unrenderable('malformed', `the file cannot be read: ${error.message}`);
    }
    return unrenderable('malformed', 'the file cannot be read');
  }
}

function pixelDataElement(parsed: ParsedDicom): DicomElement | undefined {
  const element = parsed.pixelData;
  if (element && (element.length > 0 || element.undefinedLength)) return element;
  return undefined;
}

/** The Image Pixel module of a parsed file, or why there is no image to show. */
export function readGeometry(parsed: ParsedDicom): ImageGeometry | Unrenderable {
  const dataset = parsed.dataset;
  const element = pixelDataElement(parsed);
  if (!element) return unrenderable('no-pixel-data', 'the file has no pixel data');
  const rows = getInteger(dataset, ImageTag.Rows);
  const columns = getInteger(dataset, ImageTag.Columns);
  const floatPixels = element.tag !== 0x7fe00010;
  const bitsAllocated =
    getInteger(dataset, ImageTag.BitsAllocated) ??
    (element.tag === 0x7fe00009 ? 64 : floatPixels ? 32 : undefined);
  if (!rows || !columns || !bitsAllocated) {
    return unrenderable('unsupported-image', 'the header lacks Rows, Columns or Bits Allocated');
  }
  const samplesPerPixel = getInteger(dataset, ImageTag.SamplesPerPixel) ?? 1;
  const bitsStored = getInteger(dataset, ImageTag.BitsStored) ?? bitsAllocated;
  const photometric =
    getText(dataset, ImageTag.PhotometricInterpretation)?.toUpperCase() ||
    (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2');
  const frames = getInteger(dataset, ImageTag.NumberOfFrames);
  const geometry: ImageGeometry = {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored: Math.min(bitsStored, bitsAllocated),
    highBit: getInteger(dataset, ImageTag.HighBit) ?? bitsStored - 1,
    pixelRepresentation: getInteger(dataset, ImageTag.PixelRepresentation) === 1 ? 1 : 0,
    photometricInterpretation: photometric,
    planarConfiguration: getInteger(dataset, ImageTag.PlanarConfiguration) === 1 ? 1 : 0,
    numberOfFrames: frames !== undefined && frames > 0 ? frames : 1,
    transferSyntaxUid: parsed.transferSyntaxUid,
    floatPixels,
  };
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    return unrenderable('unsupported-image', `${samplesPerPixel} samples per pixel`);
  }
  if (![1, 8, 16, 32, 64].includes(bitsAllocated)) {
    return unrenderable('unsupported-image', `${bitsAllocated} bits allocated`);
  }
  return geometry;
}

/** Decodes frame `frame` (0-based) of a DICOM file. */
export async function decodeFrame(fileBytes: Uint8Array, frame = 0): Promise<DecodeResult> {
  const parsed = parseForImage(fileBytes);
  if ('kind' in parsed) return parsed;
  return decodeParsedFrame(parsed, frame);
}

/** Decodes frame `frame` (0-based) of an already parsed file. */
export async function decodeParsedFrame(parsed: ParsedDicom, frame = 0): Promise<DecodeResult> {
  const geometry = readGeometry(parsed);
  if ('kind' in geometry) return geometry;
  if (!Number.isInteger(frame) || frame < 0 || frame >= geometry.numberOfFrames) {
    return unrenderable(
      'frame-out-of-range',
      `frame ${frame + 1} asked for, the image has ${geometry.numberOfFrames}`,
    );
  }
  const element = pixelDataElement(parsed)!;
  try {
    if (nativeSyntaxes.has(geometry.transferSyntaxUid) || !element.undefinedLength) {
      if (element.undefinedLength) {
        return unrenderable('malformed', 'native pixel data is encapsulated');
      }
      return decodeNative(parsed, element, geometry, frame);
    }
    const codec = codecBySyntax[geometry.transferSyntaxUid];
    if (!codec) {
      return unrenderable(
        'unsupported-transfer-syntax',
        `no decoder for transfer syntax ${geometry.transferSyntaxUid}`,
      );
    }
    return await decodeEncapsulated(parsed, element, geometry, frame, codec);
  } catch (error) {
    return unrenderable(
      'codec-failed',
      `the pixel data cannot be decoded: ${(error as Error).message}`,
    );
  }
}

function colorSpaceOf(photometric: string, channels: number): DecodedColorSpace {
  if (channels === 1) {
    if (photometric === 'MONOCHROME1') return 'MONOCHROME1';
    if (photometric === 'PALETTE COLOR') return 'PALETTE COLOR';
    return 'MONOCHROME2';
  }
  // YBR_FULL_422 is expanded to YBR_FULL; YBR_PARTIAL_* are retired and treated alike.
  return photometric.startsWith('YBR_FULL') || photometric.startsWith('YBR_PARTIAL')
    ? 'YBR_FULL'
    : 'RGB';
}

function decodeNative(
  parsed: ParsedDicom,
  element: DicomElement,
  geometry: ImageGeometry,
  frame: number,
): DecodeResult {
  const { rows, columns, samplesPerPixel, bitsAllocated } = geometry;
  let bytes = valueBytes(parsed.dataset, element);
  const littleEndian = parsed.dataset.littleEndian;
  const pixels = rows * columns;
  if (bitsAllocated === 1) {
    if (!littleEndian && element.vr === 'OW') bytes = swapPairs(bytes);
    const bitsPerFrame = pixels * samplesPerPixel;
    const firstBit = frame * bitsPerFrame;
    if (Math.ceil((firstBit + bitsPerFrame) / 8) > bytes.length) {
      return unrenderable('truncated', 'the pixel data is shorter than the image');
    }
    // Bit 0 of the first byte is the first pixel (PS3.5 8.1.1, D.2).
    const samples = new Uint8Array(bitsPerFrame);
    for (let i = 0; i < bitsPerFrame; i++) {
      const bit = firstBit + i;
      samples[i] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    return frameOf(
      geometry,
      frame,
      1,
      colorSpaceOf(geometry.photometricInterpretation, 1),
      samples,
    );
  }
  const subsampled = geometry.photometricInterpretation === 'YBR_FULL_422' && samplesPerPixel === 3;
  const bytesPerSample = bitsAllocated / 8;
  const frameLength = subsampled
    ? pixels * 2 * bytesPerSample
    : pixels * samplesPerPixel * bytesPerSample;
  const start = frame * frameLength;
  if (start + frameLength > bytes.length) {
    return unrenderable('truncated', 'the pixel data is shorter than the image');
  }
  let frameData = bytes.subarray(start, start + frameLength);
  if (!littleEndian && bitsAllocated === 8 && element.vr === 'OW') frameData = swapPairs(frameData);
  if (subsampled) frameData = expandYbr422(frameData, rows, columns);
  const samples = readSamples(frameData, littleEndian, geometry);
  const interleaved =
    samplesPerPixel === 3 && geometry.planarConfiguration === 1 && !subsampled
      ? interleave(samples, pixels)
      : samples;
  const channels = samplesPerPixel === 3 ? 3 : 1;
  return frameOf(
    geometry,
    frame,
    channels,
    colorSpaceOf(geometry.photometricInterpretation, channels),
    interleaved,
  );
}

function frameOf(
  geometry: ImageGeometry,
  frame: number,
  channels: 1 | 3,
  colorSpace: DecodedColorSpace,
  samples: PixelSamples,
): DecodedFrame {
  return {
    kind: 'decoded',
    geometry,
    frame,
    rows: geometry.rows,
    columns: geometry.columns,
    channels,
    colorSpace,
    samples,
  };
}

function swapPairs(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1]!;
    out[i + 1] = bytes[i]!;
  }
  return out;
}

/** YBR_FULL_422 native: Y1 Y2 Cb Cr per pair of pixels (PS3.3 C.7.6.3.1.2) -> YBR_FULL. */
function expandYbr422(bytes: Uint8Array, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 3);
  const pairs = Math.floor((rows * columns) / 2);
  for (let p = 0; p < pairs; p++) {
    const y1 = bytes[p * 4]!;
    const y2 = bytes[p * 4 + 1]!;
    const cb = bytes[p * 4 + 2]!;
    const cr = bytes[p * 4 + 3]!;
    out.set([y1, cb, cr, y2, cb, cr], p * 6);
  }
  return out;
}

function interleave(planes: PixelSamples, pixels: number): PixelSamples {
  const out = new (planes.constructor as new (length: number) => PixelSamples)(planes.length);
  for (let i = 0; i < pixels; i++) {
    out[i * 3] = planes[i]!;
    out[i * 3 + 1] = planes[pixels + i]!;
    out[i * 3 + 2] = planes[2 * pixels + i]!;
  }
  return out;
}

/**
 * Reads stored values: the bits from High Bit down to Bits Stored, sign-extended when Pixel
 * Representation is 1 (PS3.5 8.1.1); float pixel data as IEEE floats.
 */
function readSamples(
  bytes: Uint8Array,
  littleEndian: boolean,
  geometry: ImageGeometry,
): PixelSamples {
  const { bitsAllocated, bitsStored, highBit, pixelRepresentation } = geometry;
  const count = Math.floor(bytes.length / (bitsAllocated / 8));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (geometry.floatPixels) {
    if (bitsAllocated === 64) {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, littleEndian);
      return out;
    }
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, littleEndian);
    return out;
  }
  const signed = pixelRepresentation === 1;
  const shift = Math.max(0, highBit + 1 - bitsStored);
  const out = newSamples(bitsAllocated, signed, count);
  const read =
    bitsAllocated === 8
      ? (i: number): number => bytes[i]!
      : bitsAllocated === 16
        ? (i: number): number => view.getUint16(i * 2, littleEndian)
        : (i: number): number => view.getUint32(i * 4, littleEndian);
  if (bitsStored >= bitsAllocated && shift === 0) {
    if (signed) {
      const half = 2 ** (bitsAllocated - 1);
      for (let i = 0; i < count; i++) {
        const raw = read(i);
        out[i] = raw >= half ? raw - 2 * half : raw;
      }
    } else {
      for (let i = 0; i < count; i++) out[i] = read(i);
    }
    return out;
  }
  storedValues(out, count, read, bitsStored, shift, signed);
  return out;
}

function newSamples(bitsAllocated: number, signed: boolean, count: number): PixelSamples {
  if (bitsAllocated <= 8) return signed ? new Int8Array(count) : new Uint8Array(count);
  if (bitsAllocated <= 16) return signed ? new Int16Array(count) : new Uint16Array(count);
  return signed ? new Int32Array(count) : new Uint32Array(count);
}

function storedValues(
  out: PixelSamples,
  count: number,
  read: (i: number) => number,
  bitsStored: number,
  shift: number,
  signed: boolean,
): void {
  const range = 2 ** bitsStored;
  const half = range / 2;
  for (let i = 0; i < count; i++) {
    const value = Math.floor(read(i) / 2 ** shift) % range;
    out[i] = signed && value >= half ? value - range : value;
  }
}

async function decodeEncapsulated(
  parsed: ParsedDicom,
  element: DicomElement,
  geometry: ImageGeometry,
  frame: number,
  codec: 'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'j2k' | 'htj2k' | 'rle',
): Promise<DecodeResult> {
  let encapsulated;
  try {
    encapsulated = readEncapsulated(parsed.dataset, element);
  } catch (error) {
    return unrenderable(
      'malformed',
      `the encapsulated pixel data is malformed: ${(error as Error).message}`,
    );
  }
  const codestream = frameBytes(
    parsed.dataset,
    encapsulated,
    frame,
    geometry.numberOfFrames,
    codec !== 'rle',
  );
  if (typeof codestream === 'string') return unrenderable('malformed', codestream);
  const { rows, columns, samplesPerPixel, bitsAllocated } = geometry;
  const channels = samplesPerPixel === 3 ? 3 : 1;

  if (codec === 'rle') {
    const bytes = decodeRleFrame(codestream, rows, columns, samplesPerPixel, bitsAllocated);
    const native: ImageGeometry = { ...geometry, planarConfiguration: 0 };
    const samples = readSamples(bytes, true, native);
    return frameOf(
      geometry,
      frame,
      channels,
      colorSpaceOf(geometry.photometricInterpretation, channels),
      samples,
    );
  }

  let output: CodecOutput;
  let colorSpace = colorSpaceOf(geometry.photometricInterpretation, channels);
  let kind: typeof codec = codec;
  if (kind === 'jpeg' || kind === 'jpeg-lossless') {
    // Trust the codestream's frame marker over the transfer syntax: mislabelled files exist.
    const marker = jpegFrameMarker(codestream);
    if (marker === 0xc3) kind = 'jpeg-lossless';
    else if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) kind = 'jpeg';
    else if (marker === 0xf7) kind = 'jpeg-ls';
  }
  switch (kind) {
    case 'jpeg': {
      const precision = jpegPrecision(codestream);
      if (precision !== undefined && precision > 8) {
        return unrenderable(
          'unsupported-transfer-syntax',
          `${precision}-bit lossy JPEG (Process 4): no maintained WASM codec for it`,
        );
      }
      // An RGB header over a codestream with no colour markers and component IDs other than
      // JFIF's 1,2,3: the components are R, G, B (dcmtk and pydicom read it so).
      const markers = jpegColorMarkers(codestream);
      const rgbComponents =
        geometry.photometricInterpretation === 'RGB' &&
        !markers.jfif &&
        !markers.adobe &&
        markers.componentIds.length === 3 &&
        markers.componentIds.join() !== '1,2,3';
      output = await decodeJpegBaseline(
        rgbComponents ? withAdobeNoTransform(codestream) : codestream,
      );
      // libjpeg-turbo converts YCbCr to RGB (JFIF/Adobe markers decide), so RGB it is.
      if (output.components === 3) colorSpace = 'RGB';
      break;
    }
    case 'jpeg-lossless':
      output = await decodeJpegLossless(codestream);
      break;
    case 'jpeg-ls':
      output = await decodeJpegLs(codestream);
      break;
    case 'j2k':
    case 'htj2k':
      output = kind === 'j2k' ? await decodeJpeg2000(codestream) : await decodeHtj2k(codestream);
      // OpenJPEG applies the inverse RCT/ICT (YBR_RCT/YBR_ICT) itself.
      if (output.components === 3 && geometry.photometricInterpretation !== 'YBR_FULL') {
        colorSpace = 'RGB';
      }
      break;
  }
  if (output.width !== columns || output.height !== rows || output.components !== samplesPerPixel) {
    return unrenderable(
      'codec-failed',
      `the codestream is ${output.width}x${output.height}x${output.components}, the header says ${columns}x${rows}x${samplesPerPixel}`,
    );
  }
  return frameOf(geometry, frame, channels, colorSpace, codecSamples(output, geometry));
}

/**
 * Codec output to stored values. A codec that reports signed samples is taken at its word;
 * otherwise Pixel Representation 1 sign-extends from Bits Stored (as pydicom and GDCM do
 * for JPEG 2000 files whose codestream says unsigned).
 */
function codecSamples(output: CodecOutput, geometry: ImageGeometry): PixelSamples {
  const wide = output.bitsPerSample > 8;
  const count = output.width * output.height * output.components;
  const view = new DataView(output.bytes.buffer, output.bytes.byteOffset, output.bytes.byteLength);
  const signedHeader = geometry.pixelRepresentation === 1;
  const out = newSamples(wide ? 16 : 8, signedHeader || output.signed, count);
  if (output.signed) {
    for (let i = 0; i < count; i++) out[i] = wide ? view.getInt16(i * 2, true) : view.getInt8(i);
    return out;
  }
  const read = wide
    ? (i: number): number => view.getUint16(i * 2, true)
    : (i: number): number => output.bytes[i]!;
  if (signedHeader) {
    storedValues(out, count, read, Math.min(geometry.bitsStored, wide ? 16 : 8), 0, true);
  } else {
    for (let i = 0; i < count; i++) out[i] = read(i);
  }
  return out;
}
