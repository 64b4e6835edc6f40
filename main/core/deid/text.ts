/**
 * Text for replaced values, and the "C" (clean) action on free text (PS3.15 E.1.1, E.3.5).
 */
import { Buffer } from 'node:buffer';
import { iconvLite } from '../dicom/charset.ts';

/** VRs whose values are text in the Specific Character Set (PS3.5 6.1.2.3). */
export const characterSetVrs: ReadonlySet<string> = new Set([
  'SH',
  'LO',
  'ST',
  'LT',
  'UT',
  'PN',
  'UC',
]);

/** Single-byte defined terms whose whole repertoire iconv-lite can encode. */
const singleByte: Readonly<Record<string, string>> = {
  'ISO_IR 100': 'iso88591',
  'ISO_IR 101': 'iso88592',
  'ISO_IR 109': 'iso88593',
  'ISO_IR 110': 'iso88594',
  'ISO_IR 144': 'iso88595',
  'ISO_IR 127': 'iso88596',
  'ISO_IR 126': 'iso88597',
  'ISO_IR 138': 'iso88598',
  'ISO_IR 148': 'iso88599',
  'ISO_IR 203': 'iso885915',
  'ISO_IR 166': 'tis620',
};

function isAscii(text: string): boolean {
  return /^[\x20-\x7e\r\n\t\f]*$/u.test(text);
}

/**
 * Encodes text in the dataset's character set. ASCII always encodes (every defined term starts
 * in an ASCII-compatible G0). Other text only where the set is stand-alone (UTF-8, GB18030,
 * GBK, ISO 8859); ISO 2022 code extensions return undefined and the caller empties the value
 * instead of writing bytes it cannot encode faithfully.
 */
export function encodeText(text: string, characterSet: readonly string[]): Uint8Array | undefined {
  if (isAscii(text)) return Uint8Array.from(Buffer.from(text, 'latin1'));
  if (characterSet.length > 1) return undefined;
  const term = characterSet[0] ?? '';
  if (term === 'ISO_IR 192') return Uint8Array.from(Buffer.from(text, 'utf8'));
  if (term === 'GB18030' || term === 'GBK') {
    return Uint8Array.from(iconvLite().encode(text, term.toLowerCase()));
  }
  const encoding = singleByte[term];
  if (!encoding) return undefined;
  const bytes = iconvLite().encode(text, encoding);
  // iconv-lite writes '?' for characters outside the set: refuse rather than corrupt.
  if (iconvLite().decode(bytes, encoding) !== text) return undefined;
  return Uint8Array.from(bytes);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}

/**
 * Cleans free text: removes the identifying values found in the instance itself (names and
 * their parts, IDs, accession number, dates of birth, institution and people), and anything
 * shaped like a date, a long number (IDs, telephone numbers) or an e-mail address. What is left
 * is the descriptive text ("CT CHEST W CONTRAST"). PS3.15 leaves "clean" to the implementation;
 * this is Ferry's, documented in docs/deidentification.md.
 */
export class TextCleaner {
  private readonly patterns: RegExp[];

  constructor(identifiers: readonly string[]) {
    const tokens = new Set<string>();
    for (const identifier of identifiers) {
      const whole = identifier.trim();
      if (whole.length >= 2) tokens.add(whole);
      for (const part of whole.split(/[\^=\s,\\]+/u)) {
        if (part.length >= 2) tokens.add(part);
      }
    }
    const sorted = [...tokens].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.patterns = [
      /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+/gu,
      /\b\d{1,4}[-./]\d{1,2}[-./]\d{1,4}\b/gu,
      /\d{5,}/gu,
    ];
    // Chunks keep each alternation well under engine limits.
    for (let i = 0; i < sorted.length; i += 200) {
      const alternation = sorted.slice(i, i + 200).join('|');
      this.patterns.push(
        new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternation})(?![\\p{L}\\p{N}])`, 'giu'),
      );
    }
  }

  clean(text: string): string {
    let cleaned = text;
    for (const pattern of this.patterns) cleaned = cleaned.replace(pattern, '***');
    return cleaned;
  }
}
