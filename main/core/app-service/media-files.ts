/**
 * Paths the renderer names on the media: `SERIES/IM1`, or `STUDIES.ZIP!/DICOM/IM1` for an entry
 * inside a zip. Resolved only inside the media root (a path that leaves it is refused by the
 * caller, with its own error), and a zip entry's bytes read through the upload's file source,
 * as the upload reads them.
 */
import path from 'node:path';
import { fileSource } from '../upload/source.ts';

/**
 * The file a media path lies in (the zip itself for an entry), and whether it names a zip entry;
 * undefined when the path leads outside the media root.
 */
export function resolveMediaPath(
  root: string,
  relPath: string,
): { readonly file: string; readonly inZip: boolean } | undefined {
  const bang = relPath.indexOf('!/');
  const base = path.resolve(root);
  const file = path.resolve(base, ...relPath.slice(0, bang < 0 ? undefined : bang).split('/'));
  return file.startsWith(base + path.sep) ? { file, inZip: bang >= 0 } : undefined;
}

/** The bytes of a zip entry on the media (`ARCHIVE.ZIP!/entry`). */
export async function readZipEntry(root: string, relPath: string): Promise<Buffer> {
  const files = fileSource(root);
  try {
    const opened = await files.source({
      path: relPath,
      sopInstanceUid: '',
      studyInstanceUid: '',
      bytes: 0,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    files.close();
  }
}
