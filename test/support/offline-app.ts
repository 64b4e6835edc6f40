/**
 * The real app service on a disc, without a portal: the link's answer is given (offline.ts), the
 * link opened and the folder scanned through the API, as the renderer does. And the pixels of
 * the PNGs the previews send back, to compare what is shown with what is sent.
 */
import { inflateSync } from 'node:zlib';
import type { PolicyView, ScanView } from '../../main/core/api.ts';
import { offlineLinkView, offlineService } from '../../main/core/app-service/offline.ts';
import type { SeriesMasks } from '../../main/core/deid/series-masks.ts';

/** The service with its link open and `root` scanned; `series`: every series of the scan. */
export async function openOfflineScan(
  root: string,
  options: { policy: PolicyView; masks: SeriesMasks; linkUrl: string },
) {
  const { dispatch, call } = offlineService({
    link: offlineLinkView(options.policy),
    masks: options.masks,
  });
  await call('link.open', { url: options.linkUrl });
  const scan = await call<ScanView>('media.scan', { path: root });
  const series = scan.patients.flatMap((p) => p.studies).flatMap((s) => s.series);
  return { dispatch, call, scan, series };
}

/**
 * The samples of a PNG from encodePng (filters None and Up only): grey (colour type 0) or RGB
 * (colour type 2), row by row.
 */
export function pngPixels(dataUrl: string): {
  width: number;
  height: number;
  colorType: number;
  pixels: Uint8Array;
} {
  const bytes = Buffer.from(dataUrl.replace(/^data:image\/png;base64,/u, ''), 'base64');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const colorType = bytes[25]!;
  const channels = colorType === 2 ? 3 : 1;
  const idat: Buffer[] = [];
  for (let at = 8; at < bytes.length;) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IDAT') {
      idat.push(bytes.subarray(at + 8, at + 8 + length));
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x]!;
      pixels[y * stride + x] =
        filter === 2 && y > 0 ? (value + pixels[(y - 1) * stride + x]!) & 0xff : value;
    }
  }
  return { width, height, colorType, pixels };
}
