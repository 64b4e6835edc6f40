/**
 * RLE Lossless (PS3.5 Annex G). A frame is a 64-byte header (segment count, then up to 15
 * segment offsets, little endian) followed by PackBits-coded segments; segment k holds one
 * byte plane: for each sample, its most significant byte first (G.2).
 */

/**
 * Decodes one RLE frame to little-endian, colour-by-pixel bytes (the layout of native
 * Explicit VR Little Endian with Planar Configuration 0). Throws on a malformed frame.
 */
export function decodeRleFrame(
  frame: Uint8Array,
  rows: number,
  columns: number,
  samplesPerPixel: number,
  bitsAllocated: number,
): Uint8Array {
  if (frame.length < 64) throw new Error('RLE frame shorter than its 64-byte header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segmentCount = view.getUint32(0, true);
  const bytesPerSample = bitsAllocated / 8;
  if (!Number.isInteger(bytesPerSample)) throw new Error(`RLE with ${bitsAllocated} bits`);
  const expected = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expected || segmentCount > 15) {
    throw new Error(`RLE frame has ${segmentCount} segments, expected ${expected}`);
  }
  const pixels = rows * columns;
  const out = new Uint8Array(pixels * expected);
  for (let segment = 0; segment < segmentCount; segment++) {
    const start = view.getUint32(4 + segment * 4, true);
    const next = segment + 1 < segmentCount ? view.getUint32(8 + segment * 4, true) : frame.length;
    const sample = Math.floor(segment / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (segment % bytesPerSample);
    const stride = expected;
    let target = sample * bytesPerSample + byteInSample;
    const end = target + pixels * stride;
    let pos = start;
    const limit = Math.min(next, frame.length);
    // PackBits (G.3.1): n in 0..127 copies n+1 literal bytes, -127..-1 repeats the next byte
    // 1-n times, -128 is a no-op.
    while (pos < limit && target < end) {
      const header = frame[pos++]!;
      if (header < 128) {
        for (let i = 0; i <= header && pos < limit && target < end; i++) {
          out[target] = frame[pos++]!;
          target += stride;
        }
      } else if (header > 128) {
        const value = frame[pos++] ?? 0;
        for (let i = 0; i < 257 - header && target < end; i++) {
          out[target] = value;
          target += stride;
        }
      }
    }
  }
  return out;
}
