/**
 * Links that reach the app from outside: `ferry://<portal>/u/<token>` from the browser (the OS
 * starts the app, or hands the link to the running one through second-instance / open-url), an
 * https link on the command line, or `--link URL`.
 */
import { parseUploadLink } from '../core/link/link-url.ts';

function isUploadLink(text: string): boolean {
  try {
    parseUploadLink(text);
    return true;
  } catch {
    return false;
  }
}

/** The first upload link among a launch's arguments, or undefined. */
export function findLinkInArgv(argv: readonly string[]): string | undefined {
  for (const [index, arg] of argv.entries()) {
    if (arg === '--link') {
      const next = argv[index + 1];
      if (next !== undefined && isUploadLink(next)) return next;
    } else if (arg.startsWith('--link=')) {
      const value = arg.slice('--link='.length);
      if (isUploadLink(value)) return value;
    } else if (/^(ferry|https?):\/\//iu.test(arg) && isUploadLink(arg)) {
      return arg;
    }
  }
  return undefined;
}
