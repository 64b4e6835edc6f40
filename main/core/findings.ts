/**
 * Findings: what Ferry tells the user about the media, as values with stable codes. The
 * catalogue below is the single source of the plain-language messages; docs/findings.md lists
 * every code. Messages and details never carry patient values (names, IDs, dates, UIDs).
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly severity: Severity;
  readonly code: FindingCode;
  /** One sentence a patient understands. */
  readonly message: string;
  /** What a clerk or PACS administrator needs: offsets, tags, system error codes. */
  readonly detail?: string;
  /** Paths relative to the media root; a file inside a zip is `ARCHIVE.ZIP!/inner/path`. */
  readonly paths: readonly string[];
}

interface CatalogEntry {
  readonly severity: Severity;
  readonly message: string;
}

export const findingCatalog = {
  'unreadable-file': {
    severity: 'error',
    message:
      'This file could not be read from the disc. The disc may be scratched or the drive may have trouble reading it; it will not be sent.',
  },
  'unreadable-folder': {
    severity: 'error',
    message: 'This folder could not be read from the disc, so files inside it may be missing.',
  },
  'truncated-file': {
    severity: 'error',
    message:
      'This image file is incomplete: it ends before all of its data. It was probably cut short when the disc was written; it will not be sent.',
  },
  'malformed-file': {
    severity: 'error',
    message:
      'This file looks like a medical image but its contents are damaged, so it cannot be read; it will not be sent.',
  },
  'empty-file': {
    severity: 'warning',
    message: 'This file is empty. There is nothing in it to send.',
  },
  'no-file-meta': {
    severity: 'warning',
    message:
      'This image is in an old format without the standard file header. It can still be sent.',
  },
  'not-dicom': {
    severity: 'info',
    message: 'This file is not a medical image (for example a viewer program or a document).',
  },
  'unrecognised-dicom-name': {
    severity: 'warning',
    message:
      'This file is named like a medical image, but Ferry cannot read it as one. It will not be sent.',
  },
  'dicomdir-unreadable': {
    severity: 'warning',
    message:
      "The disc's table of contents (DICOMDIR) is damaged, so Ferry looked through every file instead.",
  },
  'dicomdir-missing-file': {
    severity: 'error',
    message:
      "The disc's table of contents lists an image that is not on the disc. The disc may be incomplete.",
  },
  'dicomdir-unreferenced-file': {
    severity: 'warning',
    message:
      'This image is on the disc but not in its table of contents (DICOMDIR). Ferry found it anyway and includes it.',
  },
  'dicomdir-mismatch': {
    severity: 'warning',
    message:
      "The disc's table of contents describes this image differently from the image itself. Ferry uses what the image says.",
  },
  'dicomdir-unknown-record': {
    severity: 'warning',
    message:
      "The disc's table of contents has entries of a kind Ferry does not know; the images under them are still included.",
  },
  'zip-unreadable': {
    severity: 'error',
    message:
      'This zip archive on the disc could not be opened, so the images inside it are missing.',
  },
  'zip-entry-unreadable': {
    severity: 'error',
    message: 'This file inside a zip archive could not be read; it will not be sent.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type FindingCode = keyof typeof findingCatalog;

export function makeFinding(code: FindingCode, paths: readonly string[], detail?: string): Finding {
  const entry: CatalogEntry = findingCatalog[code];
  return {
    severity: entry.severity,
    code,
    message: entry.message,
    ...(detail !== undefined ? { detail } : {}),
    paths,
  };
}
