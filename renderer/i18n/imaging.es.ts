/**
 * Why an image cannot be shown (main/core/imaging's codes), in Spanish; the English words come
 * from the core. Keyed by the code's type, so a new code without a phrase does not compile.
 */
import type { UnrenderableCode } from '../types.ts';

export const imagingEs: Readonly<Record<UnrenderableCode, string>> = {
  'not-dicom': 'el archivo no es una imagen médica (DICOM)',
  malformed: 'el archivo está dañado y no se puede leer',
  truncated: 'el archivo está incompleto: se corta antes de tiempo',
  'no-pixel-data': 'el archivo no contiene ninguna imagen',
  'unsupported-transfer-syntax':
    'la imagen está guardada en una codificación que Ferry no sabe mostrar',
  'unsupported-image': 'Ferry no sabe mostrar este tipo de imagen',
  'codec-failed': 'no se pudo descomprimir la imagen',
  'frame-out-of-range': 'esta imagen no tiene ese fotograma',
};
