/**
 * Dates and numbers follow the language the user chose, never the system's: every Intl call of
 * the renderer goes through renderer/i18n/index.ts with the chosen locale.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDateTime,
  formatDicomDate,
  formatDuration,
  formatNumber,
  setLocale,
} from '../../renderer/i18n/index.ts';

const RENDERER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../renderer');
const I18N = path.join(RENDERER, 'i18n', 'index.ts');

afterEach(() => setLocale('en'));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.tsx?$/u.test(entry.name) ? [full] : [];
  });
}

describe('the chosen locale, not the system default', () => {
  it('no renderer code formats with the system locale', () => {
    const offenders: string[] = [];
    for (const file of sources(RENDERER)) {
      const text = readFileSync(file, 'utf8');
      const patterns = [
        /\.toLocale(?:Date|Time)?String\(/gu,
        // Intl outside the i18n layer, or without a locale anywhere.
        ...(file === I18N ? [/new Intl\.\w+\(\s*(?:\)|undefined)/gu] : [/\bIntl\.\w+/gu]),
      ];
      for (const pattern of patterns) {
        for (const match of text.matchAll(pattern)) {
          const line = text.slice(0, match.index).split('\n').length;
          offenders.push(`${path.relative(RENDERER, file)}:${line} ${match[0]}`);
        }
      }
    }
    expect(offenders, 'format through renderer/i18n/index.ts').toEqual([]);
  });

  it('dates, numbers, sizes and durations in Spanish when Spanish is chosen', () => {
    setLocale('es');
    expect(formatNumber(12_345)).toBe('12.345');
    expect(formatBytes(2_500_000_000)).toMatch(/^2,5\sGB$/u);
    expect(formatDicomDate('20260315')).toBe('15 de marzo de 2026');
    expect(formatDateTime('2026-03-15T12:00:00Z')).toMatch(/marzo de 2026/u);
    expect(formatDuration(120)).toBe('2 minutos');
  });

  it('and in English when English is chosen, whatever the system says', () => {
    setLocale('en-US');
    expect(formatNumber(12_345)).toBe('12,345');
    expect(formatDicomDate('20260315')).toBe('March 15, 2026');
    expect(formatDuration(120)).toBe('2 minutes');
  });
});
