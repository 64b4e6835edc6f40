import { parseArgs } from 'node:util';
import { scanMedia, type ScanEvent, type ScanPhase } from './core/media/scan.ts';
import type { ScanResult } from './core/media/model.ts';
import { formatScanText, scanToJson } from './core/media/report.ts';

const usage = `Usage: ferry <command> [options]

Commands:
  scan PATH [--json] [--no-verify]   list the patients, studies and series on a disc or folder

Every command takes --json: one JSON document on stdout, progress on stderr.
`;

interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTty: boolean;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTty: Boolean(process.stderr.isTTY),
};

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

async function runScan(args: string[], io: Io): Promise<number> {
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

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'scan':
        return await runScan(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(usage);
        return command === undefined ? 2 : 0;
      default:
        io.stderr(`ferry: unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      io.stderr(`ferry ${command}: ${(error as Error).message}\n`);
      return 2;
    }
    // Only the error's kind and code: messages from deeper layers could carry file contents.
    const err = error as NodeJS.ErrnoException;
    io.stderr(
      `ferry ${command}: unexpected failure (${err.name}${err.code ? ` ${err.code}` : ''})\n`,
    );
    return 70;
  }
}
