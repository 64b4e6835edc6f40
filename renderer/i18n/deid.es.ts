/**
 * Why de-identification will not send a file (main/core/deid's DeidError codes), in Spanish; the
 * English reason comes from the core. test/renderer/deid-reasons.test.ts requires every code.
 */
export const deidReasonsEs: Readonly<Record<string, string>> = {
  dicomdir: 'es el índice del disco (DICOMDIR), que contiene nombres y nunca se envía',
  'not-an-instance': 'no es una imagen médica (DICOM)',
  unreadable: 'el archivo está dañado o incompleto y no se puede leer',
  'bad-policy': 'la configuración del enlace no es válida; pida un enlace nuevo al hospital',
  'mask-compressed': 'no se pudo descomprimir la imagen para tapar el nombre',
  'mask-unsupported': 'este archivo no tiene una imagen que se pueda tapar',
  'mask-outside': 'un rectángulo para tapar queda fuera de la imagen',
  'duplicate-instance': 'otro archivo del disco es esta misma imagen; se envía una sola vez',
};
