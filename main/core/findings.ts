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
  // Validation (main/core/validate, docs/validation.md): the checks run on every instance's
  // header and on the disc as a whole, after the scan.
  'file-meta-incomplete': {
    severity: 'warning',
    message:
      'The standard file header of this image is incomplete. Ferry can still read it and send it.',
  },
  'file-meta-mismatch': {
    severity: 'warning',
    message:
      "This image's file header names it differently from the image itself. Ferry uses what the image says.",
  },
  'unknown-transfer-syntax': {
    severity: 'error',
    message:
      'This image is stored in an encoding Ferry does not know, so the care team may not be able to open it; it will not be sent.',
  },
  'missing-identifier': {
    severity: 'error',
    message:
      'This image lacks the identifiers that file it under a study and series, so the receiving system cannot store it; it will not be sent.',
  },
  'invalid-uid': {
    severity: 'warning',
    message:
      'An identifier inside this image is not written the standard way. It can still be sent, but some systems may reject or misfile it.',
  },
  'unknown-sop-class': {
    severity: 'warning',
    message:
      'This file is a kind of medical object Ferry does not recognise (often a vendor-specific one). It can be sent, but the receiving system may not accept or display it.',
  },
  'required-attribute-missing': {
    severity: 'warning',
    message:
      'Some information that this kind of image must carry is missing or empty. It can still be sent; the receiving system may show it incompletely.',
  },
  'type2-attribute-missing': {
    severity: 'warning',
    message:
      'Some standard fields of this image are absent (they may be empty, but should be there). It can still be sent.',
  },
  'conditional-attribute-missing': {
    severity: 'warning',
    message:
      'Some information this image must carry in its particular case is missing (for example the character set of its accented text). It can still be sent; the receiving system may show it incompletely.',
  },
  'attribute-not-allowed': {
    severity: 'warning',
    message:
      'This image carries fields that contradict each other, where the standard allows only one. It can still be sent; the receiving system may show it differently.',
  },
  'enumerated-value-invalid': {
    severity: 'warning',
    message:
      'Some coded fields in this image hold a value the standard does not define (for example a sex other than M, F or O). It can still be sent; the receiving system may misread them.',
  },
  'sequence-item-invalid': {
    severity: 'warning',
    message:
      'Some details nested inside this file (references to other images, coded terms) are incomplete. It can still be sent; the receiving system may show it incompletely.',
  },
  'sr-content-invalid': {
    severity: 'warning',
    message:
      'This report is not put together the standard way (missing headings, values or references). It can still be sent; the receiving system may show it incompletely.',
  },
  'invalid-value': {
    severity: 'warning',
    message:
      'Some values in this image are not written the standard way (wrong format, length or count). It can still be sent.',
  },
  'element-order': {
    severity: 'warning',
    message:
      'The fields inside this image are stored out of order. Ferry can read it; some systems may not.',
  },
  'encoding-anomaly': {
    severity: 'warning',
    message:
      'This image is slightly damaged inside, but Ferry could read it. It can still be sent.',
  },
  'pixel-data-missing': {
    severity: 'error',
    message:
      'This image file contains no picture. It may have been cut short when the disc was written; it will not be sent.',
  },
  'pixel-data-short': {
    severity: 'error',
    message:
      'The picture in this image file is smaller than its header says, so it cannot be shown correctly; it will not be sent.',
  },
  'pixel-data-long': {
    severity: 'warning',
    message:
      'The picture in this image file carries more bytes than its header says. It can still be sent.',
  },
  'pixel-description-invalid': {
    severity: 'error',
    message:
      "This image's description of its own picture (size, bits per pixel) is impossible, so it cannot be shown; it will not be sent.",
  },
  'duplicate-instance': {
    severity: 'info',
    message: 'This image is on the disc more than once, identical each time. It will be sent once.',
  },
  'conflicting-instance': {
    severity: 'error',
    message:
      'Two different files on the disc claim to be the same image. Neither is sent until someone decides which one is right.',
  },
  'uid-hierarchy-conflict': {
    severity: 'error',
    message:
      'The same study or series is filed under different patients or studies on this disc. The study is not sent until this is resolved.',
  },
  'study-incomplete': {
    severity: 'warning',
    message:
      'A study or series on this disc seems incomplete: its images say there should be more of them than the disc holds.',
  },
  'several-patients': {
    severity: 'warning',
    message:
      'This disc holds images of more than one person. Check that only the right person’s studies are sent.',
  },
  'patient-mismatch': {
    severity: 'error',
    message:
      'The name or birth date in these images does not match the person this upload link was made for. They are not sent unless you confirm they belong to that person.',
  },
  'patient-unverified': {
    severity: 'warning',
    message:
      'These images do not carry a name or birth date, so Ferry cannot check that they belong to the person this upload link was made for.',
  },
  'burned-in-text-likely': {
    severity: 'warning',
    message:
      'This picture may have names or other details written into the image itself. Check it in the preview before sending.',
  },
  'document-attached': {
    severity: 'warning',
    message:
      'This is a document (for example a PDF report), which may contain names, addresses and other personal details. Check it in the preview before sending.',
  },
  'free-text-report': {
    severity: 'warning',
    message:
      'This is a written report, whose text may mention names and other personal details. Check it in the preview before sending.',
  },
  'free-text-comments': {
    severity: 'info',
    message:
      'This image carries typed comments, which may mention names or other personal details. They are shown in the preview.',
  },
  // De-identification (main/core/deid, docs/deidentification.md).
  'deid-burned-in-risk': {
    severity: 'warning',
    message:
      "This image may show the patient's name or other personal details written into the picture itself. Check it, or cover those areas, before it is sent.",
  },
  'deid-mask-refused': {
    severity: 'error',
    message:
      'Ferry cannot cover parts of this image (for example because it is compressed), so it will not be sent with those areas uncovered.',
  },
  'deid-failed': {
    severity: 'error',
    message: 'This file could not be de-identified, so it will not be sent.',
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
