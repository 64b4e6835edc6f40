import type { Io } from './commands/io.ts';
import { processIo } from './commands/io.ts';

type Command = (args: string[], io: Io) => Promise<number>;

/**
 * Every `ferry` command; each module parses its own options (docs/cli.md). A command's module
 * is loaded when it runs, so one command does not pay for loading every other's (codecs, HTTP).
 */
const commands: Record<string, Command> = {
  scan: async (args, io) => (await import('./commands/scan.ts')).runScan(args, io),
  preview: async (args, io) => (await import('./commands/preview.ts')).runPreview(args, io),
  deidentify: async (args, io) =>
    (await import('./commands/deidentify.ts')).runDeidentify(args, io),
  validate: async (args, io) => (await import('./commands/validate.ts')).runValidate(args, io),
  upload: async (args, io) => (await import('./commands/upload.ts')).runUpload(args, io),
  status: async (args, io) => (await import('./commands/status.ts')).runStatus(args, io),
};

const usage = `Usage: ferry <command> [options]

Commands:
  scan PATH [--json] [--no-verify]   list the patients, studies and series on a disc or folder
  preview FILE --png OUT [--frame N] [--window C,W] [--json]
                                     render an image as the app shows it, to a PNG
  validate PATH [--link URL | --expect-name PN --expect-birth-date DATE] [--json]
                                     check the disc before sending; exit 1 on errors
  upload PATH --link URL [--study UID]... [--concurrency N] [--no-wait] [--key-file F]
                                     send the studies with an upload link; run again to resume
  status --link URL [--transfer ID] [--all]
                                     the transfer's status timeline as the portal shows it
  deidentify PATH --out DIR [--profile basic] [--option NAME]... [--key-file F] [--mask X,Y,W,H]...
                                     write de-identified copies (PS3.15 Annex E) and a report

Every command takes --json: one JSON document on stdout, progress on stderr.
`;

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const run = command !== undefined ? commands[command] : undefined;
    if (run) return await run(rest, io);
    switch (command) {
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
