import type { Io } from './commands/io.ts';
import { processIo } from './commands/io.ts';
import { runScan } from './commands/scan.ts';

type Command = (args: string[], io: Io) => Promise<number>;

/** Every `ferry` command; each module parses its own options (docs/cli.md). */
const commands: Record<string, Command> = {
  scan: runScan,
};

const usage = `Usage: ferry <command> [options]

Commands:
  scan PATH [--json] [--no-verify]   list the patients, studies and series on a disc or folder

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
