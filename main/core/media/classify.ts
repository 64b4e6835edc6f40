import type { NonDicomKind } from './model.ts';

function startsWith(head: Uint8Array, signature: readonly number[], at = 0): boolean {
  return signature.every((byte, index) => head[at + index] === byte);
}

function asciiStart(head: Uint8Array, length: number): string {
  let text = '';
  for (let i = 0; i < Math.min(length, head.length); i++) text += String.fromCharCode(head[i] ?? 0);
  return text;
}

/** Is this a zip archive (local file header signature, APPNOTE 4.3.7)? */
export function isZip(head: Uint8Array): boolean {
  return startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06]);
}

/**
 * What a file that is not DICOM is, by its content first and its name second: discs carry
 * viewer programs, autorun files, PDF reports and web pages beside the images.
 */
export function classifyNonDicom(fileName: string, head: Uint8Array): NonDicomKind {
  const name = fileName.toLowerCase().replace(/;\d+$/u, '');
  if (name === 'dicomdir' || name === 'dicomdir.') return 'dicomdir';
  if (name === 'autorun.inf') return 'autorun';
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46])) return 'pdf';
  if (isZip(head)) return 'archive';
  if (
    startsWith(head, [0x4d, 0x5a]) || // MZ: Windows programs and libraries
    startsWith(head, [0x7f, 0x45, 0x4c, 0x46]) || // ELF
    startsWith(head, [0xcf, 0xfa, 0xed, 0xfe]) || // Mach-O 64
    startsWith(head, [0xca, 0xfe, 0xba, 0xbe]) // Mach-O universal / Java class
  ) {
    return 'program';
  }
  if (
    startsWith(head, [0xff, 0xd8, 0xff]) ||
    startsWith(head, [0x89, 0x50, 0x4e, 0x47]) ||
    startsWith(head, [0x47, 0x49, 0x46, 0x38]) ||
    startsWith(head, [0x42, 0x4d])
  ) {
    return 'picture';
  }
  const start = asciiStart(head, 64).trimStart().toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || /\.html?$/u.test(name)) {
    return 'web-page';
  }
  if (/\.(exe|dll|msi|bat|cmd|com|sys|ocx|app|jar|so|dylib)$/u.test(name)) return 'program';
  if (/\.(txt|ini|xml|json|cfg|log|nfo|md|csv)$/u.test(name)) return 'text';
  return 'other';
}
