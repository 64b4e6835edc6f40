import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { encodePng } from '../core/imaging/png.ts';
import { renderFrame } from '../core/imaging/render.ts';
import type { Io } from './io.ts';

/**
 * `ferry preview FILE --png OUT [--frame N] [--window C,W] [--json]`: renders what the app
 * shows (the default window unless --window) to a PNG, for support and tests. Frames are
 * 1-based here, as people count them. Exit 1 when the file cannot be rendered (it can still
 * be uploaded), 2 for usage errors.
 */
export async function runPreview(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      png: { type: 'string' },
      frame: { type: 'string' },
      window: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const file = positionals[0];
  if (!file || !values.png) {
    io.stderr(
      'ferry preview: give a DICOM file and --png OUT, e.g. ferry preview IM000001 --png im.png\n',
    );
    return 2;
  }
  const frame = values.frame === undefined ? 1 : Number(values.frame);
  if (!Number.isInteger(frame) || frame < 1) {
    io.stderr('ferry preview: --frame is a frame number from 1\n');
    return 2;
  }
  let window: { center: number; width: number } | undefined;
  if (values.window !== undefined) {
    const [center, width] = values.window.split(',').map(Number);
    if (center === undefined || width === undefined || !Number.isFinite(center) || !(width > 0)) {
      io.stderr('ferry preview: --window is CENTER,WIDTH, e.g. --window 40,400\n');
      return 2;
    }
    window = { center, width };
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr(`ferry preview: cannot read ${file}${code ? ` (${code})` : ''}\n`);
    return 2;
  }
  const result = await renderFrame(bytes, { frame: frame - 1, ...(window ? { window } : {}) });
  if (result.kind === 'unrenderable') {
    if (values.json) {
      io.stdout(
        `${JSON.stringify({ file, kind: result.kind, code: result.code, reason: result.reason }, null, 2)}\n`,
      );
    } else {
      io.stderr(
        `ferry preview: no preview for ${file}: ${result.reason}. It can still be uploaded.\n`,
      );
    }
    return 1;
  }
  await writeFile(values.png, encodePng(result));
  const summary = {
    file,
    kind: result.kind,
    png: values.png,
    frame,
    numberOfFrames: result.numberOfFrames,
    width: result.width,
    height: result.height,
    channels: result.channels,
    photometricInterpretation: result.photometricInterpretation,
    transferSyntaxUid: result.transferSyntaxUid,
    voi: result.voi,
  };
  if (values.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const voi =
      result.voi.center !== undefined
        ? `, window ${round(result.voi.center)}/${round(result.voi.width ?? 0)} (${result.voi.source})`
        : '';
    io.stdout(
      `${values.png}: ${result.width}x${result.height} ${result.channels === 3 ? 'colour' : 'grey'}, frame ${frame} of ${result.numberOfFrames}${voi}\n`,
    );
  }
  return 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
