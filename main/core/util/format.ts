/**
 * Sizes for people, in decimal SI units (1 kB = 1000 bytes), as disc labels, drives and the
 * renderer (renderer/i18n formatBytes) give them. One function for the CLI's report and the
 * portal's sentences.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
