import { parseArgs } from 'node:util';
import type { ScanResult } from '../core/media/model.ts';
import { formatScanText, scanToJson } from '../core/media/report.ts';
import { scanMedia, type ScanEvent, type ScanPhase } from '../core/media/scan.ts';
import type { Io } from './io.ts';

function progressPrinter(io: Io): (event: ScanEvent) => void {
  let last = 0;
  return (event) => {
    if (!io.isTty) return;
    if (event.kind === 'phase') {
      io.stderr(`\r\x1b[K${phaseLabel[event.phase]}`);
    } else if (event.kind === 'progress' && Date.now() - last > 100) {
      last = Date.now();
      const of = event.total > 0 ? ` of ${event.total}` : '';
      io.stderr(`\r\x1b[K${phaseLabel[event.phase]} ${event.done}${of}`);
    } else if (event.kind === 'study-list') {
      const s = event.result.summary;
      io.stderr(
        `\r\x1b[KThe disc's table of contents lists ${s.instances} images in ${s.studies} studies.\n`,
      );
    }
  };
}

const phaseLabel: Record<ScanPhase, string> = {
  dicomdir: 'Reading the disc’s table of contents…',
  index: 'Listing files…',
  headers: 'Checking files…',
  zip: 'Opening a zip archive…',
};

export async function runScan(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      'no-verify': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
    },
  });
  const target = positionals[0];
  if (!target) {
    io.stderr('ferry scan: give the folder of the disc, e.g. ferry scan /media/cdrom\n');
    return 2;
  }
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let result: ScanResult;
  try {
    result = await scanMedia(target, {
      signal: controller.signal,
      onEvent: progressPrinter(io),
      verify: !values['no-verify'],
      ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.name === 'AbortError') {
      io.stderr('\nScan cancelled.\n');
      return 130;
    }
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
      io.stderr(`ferry scan: nothing to scan at ${target} (no such file or folder)\n`);
      return 2;
    }
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      io.stderr(`ferry scan: no permission to read ${target}\n`);
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (io.isTty) io.stderr('\r\x1b[K');
  if (values.json) io.stdout(`${JSON.stringify(scanToJson(result), null, 2)}\n`);
  else io.stdout(formatScanText(result));
  return 0;
}
