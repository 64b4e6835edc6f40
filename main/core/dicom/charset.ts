/**
 * Decoding of DICOM text values (SH, LO, ST, LT, UT, UC, PN) according to Specific Character Set
 * (0008,0005).
 *
 * References: PS3.5 6.1.2 (character repertoires and ISO 2022 code extensions, in particular
 * 6.1.2.5.3 for where the initial character set is restored), PS3.3 C.12.1.1.2 (the defined terms,
 * Tables C.12-2 to C.12-5) and the examples of PS3.5 Annexes H (Japanese), I (Korean), J and K
 * (Chinese).
 *
 * Model: every defined term designates graphic character sets to G0 (bytes 0x21-0x7E) and G1
 * (0xA1-0xFE / 0xA0-0xFF), exactly as its ISO 2022 escape sequence would. Value 1 gives the
 * initial state; escape sequences change G0 or G1; the initial state comes back at CR, LF, TAB,
 * FF, at the value delimiter '\' and, in PN, at '^' and '='. The stand-alone sets (ISO_IR 192,
 * GB18030, GBK) use no code extensions and are decoded as a whole.
 */
import { Buffer } from 'node:buffer';
import { TextDecoder } from 'node:util';

import { createRequire } from 'node:module';

import type Iconv from 'iconv-lite';

// ---------------------------------------------------------------------------------------------
// Graphic character sets

/** A 94- or 96-character set; `codes` maps positions 0x20-0x7F (of GL or GR) to UTF-16 units. */
interface SingleByteSet {
  readonly kind: 'single';
  readonly id: string;
  /** ASCII-shaped sets are the only ones in which '\', '^', '=' are delimiters. */
  readonly asciiLike: boolean;
  readonly codes: () => Uint16Array;
}

/**
 * A 94x94 set, decoded by re-wrapping (row, cell) in its EUC form: both bytes with the high bit
 * set, after `prefix` when there is one (0x8F: JIS X 0212 in EUC-JP). The EUC bytes go through
 * Node's TextDecoder (native) when this build has `label`, else through iconv-lite.
 */
interface DoubleByteSet {
  readonly kind: 'double';
  readonly id: string;
  readonly label: string;
  readonly eucEncoding: string;
  readonly prefix: number | undefined;
  /**
   * (row << 8 | cell) -> character where those tables (WHATWG / Microsoft code pages, ICU)
   * differ from the standard mapping (Unicode's JIS0208.TXT, JIS0212.TXT, GB2312.TXT, KS X
   * 1001:1998) that pydicom, dcmtk and the PS3.5 examples use.
   */
  readonly overrides: ReadonlyMap<number, string>;
}

type GraphicSet = SingleByteSet | DoubleByteSet;

const REPLACEMENT = 0xfffd;

function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

/**
 * iconv-lite, loaded the first time a value needs one of its tables: most discs never do, and
 * its code (half a megabyte, mostly East Asian tables) would otherwise be compiled at every
 * start of every command.
 */
export const iconvLite = lazy(() => createRequire(import.meta.url)('iconv-lite') as typeof Iconv);

/** Positions 0x20-0x7F map to themselves: ASCII, and JIS X 0201 Roman (see below). */
const identityCodes = lazy(() => Uint16Array.from({ length: 96 }, (_, p) => p + 0x20));

/** The right half (0xA0-0xFF) of an ISO 8859 / TIS 620 table, as positions 0x20-0x7F. */
function rightHalfOf(encoding: string): () => Uint16Array {
  return lazy(() => {
    const bytes = Uint8Array.from({ length: 96 }, (_, p) => p + 0xa0);
    const text = iconvLite().decode(Buffer.from(bytes), encoding);
    // Single-byte tables decode one unit per byte; anything else means a broken table.
    if (text.length !== 96) throw new Error(`iconv-lite ${encoding} is not single-byte`);
    return Uint16Array.from({ length: 96 }, (_, p) => text.charCodeAt(p));
  });
}

const ASCII: SingleByteSet = {
  kind: 'single',
  id: 'ISO-IR 6',
  asciiLike: true,
  codes: identityCodes,
};

/**
 * JIS X 0201 Roman (ISO-IR 14) differs from ASCII only at 0x5C (YEN SIGN) and 0x7E (OVERLINE).
 * Decoded as ASCII, as pydicom and most viewers do: 0x5C must stay the DICOM value delimiter.
 */
const JIS_X_0201_ROMAN: SingleByteSet = {
  kind: 'single',
  id: 'ISO-IR 14',
  asciiLike: true,
  codes: identityCodes,
};

/** JIS X 0201 Katakana (ISO-IR 13): 0x21-0x5F are the half-width katakana U+FF61-U+FF9F. */
const JIS_X_0201_KATAKANA: SingleByteSet = {
  kind: 'single',
  id: 'ISO-IR 13',
  asciiLike: false,
  codes: lazy(() =>
    Uint16Array.from({ length: 96 }, (_, p) =>
      p >= 0x01 && p <= 0x3f ? 0xff61 + p - 0x01 : p === 0 ? 0x20 : REPLACEMENT,
    ),
  ),
};

function iso8859(id: string, encoding: string): SingleByteSet {
  return { kind: 'single', id, asciiLike: false, codes: rightHalfOf(encoding) };
}

const LATIN_1 = iso8859('ISO-IR 100', 'iso88591');
const LATIN_2 = iso8859('ISO-IR 101', 'iso88592');
const LATIN_3 = iso8859('ISO-IR 109', 'iso88593');
const LATIN_4 = iso8859('ISO-IR 110', 'iso88594');
const CYRILLIC = iso8859('ISO-IR 144', 'iso88595');
const ARABIC = iso8859('ISO-IR 127', 'iso88596');
const GREEK = iso8859('ISO-IR 126', 'iso88597');
const HEBREW = iso8859('ISO-IR 138', 'iso88598');
const LATIN_5 = iso8859('ISO-IR 148', 'iso88599');
const LATIN_9 = iso8859('ISO-IR 203', 'iso885915');
const THAI = iso8859('ISO-IR 166', 'tis620');

const JIS_X_0208: DoubleByteSet = {
  kind: 'double',
  id: 'ISO-IR 87',
  label: 'euc-jp',
  eucEncoding: 'eucjp',
  prefix: undefined,
  overrides: new Map([
    [0x2141, '\u301c'], // WAVE DASH, not FULLWIDTH TILDE
    [0x2142, '\u2016'], // DOUBLE VERTICAL LINE, not PARALLEL TO
    [0x215d, '\u2212'], // MINUS SIGN, not FULLWIDTH HYPHEN-MINUS
    [0x2171, '\u00a2'], // CENT SIGN
    [0x2172, '\u00a3'], // POUND SIGN
    [0x224c, '\u00ac'], // NOT SIGN
  ]),
};

const JIS_X_0212: DoubleByteSet = {
  kind: 'double',
  id: 'ISO-IR 159',
  label: 'euc-jp',
  eucEncoding: 'eucjp',
  prefix: 0x8f,
  overrides: new Map([[0x2237, '~']]),
};

const KS_X_1001: DoubleByteSet = {
  kind: 'double',
  id: 'ISO-IR 149',
  label: 'euc-kr',
  eucEncoding: 'euckr',
  prefix: undefined,
  overrides: new Map([
    [0x2266, '\u20ac'], // EURO SIGN and REGISTERED SIGN, added by KS X 1001:1998 and missing
    [0x2267, '\u00ae'], // from ICU's EUC-KR table
  ]),
};

const GB_2312: DoubleByteSet = {
  kind: 'double',
  id: 'ISO-IR 58',
  label: 'gbk',
  eucEncoding: 'gb2312',
  prefix: undefined,
  overrides: new Map([
    [0x2124, '\u30fb'], // KATAKANA MIDDLE DOT, not MIDDLE DOT
    [0x212a, '\u2015'], // HORIZONTAL BAR, not EM DASH
  ]),
};

/** Final bytes of ESC ( F / ESC ) F: 94-character sets (PS3.3 Tables C.12-3, C.12-4). */
const SETS_94: Readonly<Record<string, SingleByteSet>> = {
  B: ASCII,
  J: JIS_X_0201_ROMAN,
  I: JIS_X_0201_KATAKANA,
};

/** Final bytes of ESC - F: 96-character sets (ISO 8859 right halves, TIS 620). */
const SETS_96: Readonly<Record<string, SingleByteSet>> = {
  A: LATIN_1,
  B: LATIN_2,
  C: LATIN_3,
  D: LATIN_4,
  F: GREEK,
  G: ARABIC,
  H: HEBREW,
  L: CYRILLIC,
  M: LATIN_5,
  T: THAI,
  b: LATIN_9,
};

/** Final bytes of ESC $ F, ESC $ ( F, ESC $ ) F: 94x94 sets. '@' is JIS C 6226-1978. */
const SETS_94x94: Readonly<Record<string, DoubleByteSet>> = {
  '@': JIS_X_0208,
  A: GB_2312,
  B: JIS_X_0208,
  C: KS_X_1001,
  D: JIS_X_0212,
};

// ---------------------------------------------------------------------------------------------
// Defined terms

interface Designation {
  readonly g0?: GraphicSet;
  readonly g1?: GraphicSet;
}

/** Single-byte terms without code extensions (PS3.3 Table C.12-2) and their ISO 2022 forms. */
const SINGLE_BYTE_TERMS: ReadonlyArray<readonly [number, Designation]> = [
  [6, { g0: ASCII }],
  [100, { g0: ASCII, g1: LATIN_1 }],
  [101, { g0: ASCII, g1: LATIN_2 }],
  [109, { g0: ASCII, g1: LATIN_3 }],
  [110, { g0: ASCII, g1: LATIN_4 }],
  [144, { g0: ASCII, g1: CYRILLIC }],
  [127, { g0: ASCII, g1: ARABIC }],
  [126, { g0: ASCII, g1: GREEK }],
  [138, { g0: ASCII, g1: HEBREW }],
  [148, { g0: ASCII, g1: LATIN_5 }],
  [203, { g0: ASCII, g1: LATIN_9 }],
  [13, { g0: JIS_X_0201_ROMAN, g1: JIS_X_0201_KATAKANA }],
  [166, { g0: ASCII, g1: THAI }],
];

/**
 * Multi-byte terms with code extensions (PS3.3 Table C.12-4). The G0 sets (JIS X 0208, 0212) are
 * only ever reached by escape sequence; G1 sets (KS X 1001, GB 2312) may start designated.
 */
const MULTI_BYTE_TERMS: ReadonlyArray<readonly [number, Designation]> = [
  [87, {}],
  [159, {}],
  [149, { g1: KS_X_1001 }],
  [58, { g1: GB_2312 }],
];

type StandAlone = 'utf-8' | 'gb18030' | 'gbk';

/** Terms that do not allow code extensions (PS3.5 6.1.2.5.4 d). */
const STAND_ALONE_TERMS: ReadonlyMap<string, StandAlone> = new Map([
  ['ISO_IR 192', 'utf-8'],
  ['GB18030', 'gb18030'],
  ['GBK', 'gbk'],
]);

const DESIGNATION_TERMS: ReadonlyMap<string, Designation> = new Map([
  ...SINGLE_BYTE_TERMS.flatMap(([ir, designation]) => [
    [`ISO_IR ${ir}`, designation] as const,
    [`ISO 2022 IR ${ir}`, designation] as const,
  ]),
  ...MULTI_BYTE_TERMS.map(([ir, designation]) => [`ISO 2022 IR ${ir}`, designation] as const),
]);

/** ISO 8859 part -> ISO-IR number, for files that put an encoding name in (0008,0005). */
const ISO_8859_PARTS: ReadonlyMap<string, number> = new Map([
  ['1', 100],
  ['2', 101],
  ['3', 109],
  ['4', 110],
  ['5', 144],
  ['6', 127],
  ['7', 126],
  ['8', 138],
  ['9', 148],
  ['11', 166],
  ['15', 203],
]);

function isDefinedTerm(term: string): boolean {
  return term === '' || DESIGNATION_TERMS.has(term) || STAND_ALONE_TERMS.has(term);
}

/**
 * The defined term meant by `raw`, or undefined when it cannot be told. Tolerates what real files
 * carry: padding, lower case, '-' or no space for '_' or ' ' ('ISO-IR 100', 'ISO_IR100'), the
 * ISO 2022 and plain forms swapped ('ISO_IR 87', 'ISO 2022 IR 192'), 'ISO 2022 58' (a typo
 * published in CP 1234), and encoding names ('UTF-8', 'ISO-8859-5', 'TIS-620').
 */
function canonicalTerm(raw: string): string | undefined {
  const term = raw.replace(/^[\s\0]+|[\s\0]+$/g, '').toUpperCase();
  if (isDefinedTerm(term)) return term;
  const compact = term.replace(/[\s_-]+/g, '');
  // Before the ISO-IR pattern, which would read 'ISO88591' as ISO-IR 88591.
  const part = /^ISO8859(\d+)$/.exec(compact)?.[1];
  if (part !== undefined) {
    const ir = ISO_8859_PARTS.get(String(Number(part)));
    return ir === undefined ? undefined : `ISO_IR ${ir}`;
  }
  const numbered = /^ISO(2022)?(?:IR)?(\d+)$/.exec(compact);
  if (numbered !== null) {
    const ir = String(Number(numbered[2]));
    const plain = `ISO_IR ${ir}`;
    const extended = `ISO 2022 IR ${ir}`;
    const preferred = numbered[1] === undefined ? [plain, extended] : [extended, plain];
    return preferred.find(isDefinedTerm);
  }
  switch (compact) {
    case 'UTF8':
      return 'ISO_IR 192';
    case 'LATIN1':
      return 'ISO_IR 100';
    case 'ISO2022GBK':
      return 'GBK';
    case 'TIS620':
      return 'ISO_IR 166';
    default:
      return undefined;
  }
}

/**
 * True when this module knows `term`: a defined term of (0008,0005), including '' (the default
 * repertoire, as value 1 of a multi-valued set), or a misspelling it maps to one. Unknown terms
 * are decoded as the default repertoire (latin1, so nothing is lost).
 */
export function isKnownCharacterSet(term: string): boolean {
  return canonicalTerm(term) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Decoding plans: what a (0008,0005) value means, computed once per distinct value

type WholeValueDecoder = (bytes: Uint8Array) => string;

interface StandAlonePlan {
  readonly kind: 'stand-alone';
  readonly decode: WholeValueDecoder;
}

interface CodeExtensionPlan {
  readonly kind: 'code-extensions';
  readonly g0: SingleByteSet;
  /** Undefined: no G1 designated, bytes 0xA0-0xFF decode as latin1 (nothing lost). */
  readonly g1: GraphicSet | undefined;
  /** Decodes a value without escape sequences, or undefined to use the general decoder. */
  readonly fast: WholeValueDecoder | undefined;
}

type DecodingPlan = StandAlonePlan | CodeExtensionPlan;

function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeLatin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return bufferView(bytes).toString('latin1', start, end);
}

/** A WHATWG TextDecoder, when this Node (ICU build) has the label; cached per label. */
const textDecoders = new Map<string, TextDecoder | null>();
function textDecoder(label: string): TextDecoder | null {
  let decoder = textDecoders.get(label);
  if (decoder === undefined) {
    try {
      // ignoreBOM keeps a leading U+FEFF: a DICOM value has no BOM to strip.
      decoder = new TextDecoder(label, { ignoreBOM: true });
    } catch {
      decoder = null;
    }
    textDecoders.set(label, decoder);
  }
  return decoder;
}

function viaTextDecoderOrIconv(label: string, iconvEncoding: string): WholeValueDecoder {
  const decoder = textDecoder(label);
  if (decoder !== null) return (bytes) => decoder.decode(bytes);
  return (bytes) => iconvLite().decode(bufferView(bytes), iconvEncoding, { stripBOM: false });
}

/**
 * ISO 8859 labels for which WHATWG TextDecoder is the ISO table itself (with C1 controls at
 * 0x80-0x9F). Not 'iso-8859-9' (WHATWG decodes it as windows-1254) nor TIS 620 (windows-874).
 */
const EXACT_TEXT_DECODER_LABELS: ReadonlyMap<SingleByteSet, string> = new Map([
  [LATIN_2, 'iso-8859-2'],
  [LATIN_3, 'iso-8859-3'],
  [LATIN_4, 'iso-8859-4'],
  [CYRILLIC, 'iso-8859-5'],
  [ARABIC, 'iso-8859-6'],
  [GREEK, 'iso-8859-7'],
  [HEBREW, 'iso-8859-8'],
  [LATIN_9, 'iso-8859-15'],
]);

function fastDecoderFor(
  g0: SingleByteSet,
  g1: GraphicSet | undefined,
): WholeValueDecoder | undefined {
  if (g1?.kind === 'double') return undefined;
  if (g0 === ASCII && (g1 === undefined || g1 === LATIN_1)) return decodeLatin1;
  if (g0 === ASCII && g1 !== undefined) {
    const label = EXACT_TEXT_DECODER_LABELS.get(g1);
    const decoder = label === undefined ? null : textDecoder(label);
    if (decoder !== null) return (bytes) => decoder.decode(bytes);
  }
  // Table lookup: ISO 8859-9, TIS 620, JIS X 0201, or an ICU build without the label.
  const table = lazy(() => {
    const codes = new Uint16Array(256);
    for (let b = 0; b < 256; b++) codes[b] = b;
    const low = g0.codes();
    for (let b = 0x20; b < 0x80; b++) codes[b] = low[b - 0x20]!;
    if (g1 !== undefined) {
      const high = g1.codes();
      for (let b = 0xa0; b < 0x100; b++) codes[b] = high[b - 0xa0]!;
    }
    codes[0x7f] = 0x7f;
    return codes;
  });
  return (bytes) => mapBytes(table(), bytes, 0, bytes.length);
}

/** Maps each byte of `bytes[start, end)` through `table` (one UTF-16 unit per byte). */
function mapBytes(table: Uint16Array, bytes: Uint8Array, start: number, end: number): string {
  const units = new Uint16Array(end - start);
  for (let i = start; i < end; i++) units[i - start] = table[bytes[i]!]!;
  return unitsToString(units);
}

/** Spreading arguments has a stack limit; chunks keep long UT values safe. */
const CHUNK = 8192;
function unitsToString(units: Uint16Array): string {
  if (units.length < 16) {
    let text = '';
    for (const unit of units) text += String.fromCharCode(unit);
    return text;
  }
  if (units.length <= CHUNK) return String.fromCharCode(...units);
  let text = '';
  for (let start = 0; start < units.length; start += CHUNK) {
    text += String.fromCharCode(...units.subarray(start, start + CHUNK));
  }
  return text;
}

function standAlonePlan(kind: StandAlone): StandAlonePlan {
  switch (kind) {
    case 'utf-8':
      return { kind: 'stand-alone', decode: viaTextDecoderOrIconv('utf-8', 'utf8') };
    case 'gb18030':
      return { kind: 'stand-alone', decode: viaTextDecoderOrIconv('gb18030', 'gb18030') };
    case 'gbk':
      return { kind: 'stand-alone', decode: viaTextDecoderOrIconv('gbk', 'gbk') };
  }
}

function buildPlan(specificCharacterSet: readonly string[]): DecodingPlan {
  // PS3.5 6.1.2.5.4: a stand-alone value 1 excludes extensions; elsewhere it is ignored.
  const terms = specificCharacterSet.map(canonicalTerm);
  const first = terms[0];
  const standAlone = first === undefined ? undefined : STAND_ALONE_TERMS.get(first);
  if (standAlone !== undefined) return standAlonePlan(standAlone);

  const initial = (first === undefined ? undefined : DESIGNATION_TERMS.get(first)) ?? {};
  const g0 = initial.g0?.kind === 'single' ? initial.g0 : ASCII;
  // Value 1 without a G1 set: take the first G1 set of the extensions as the one in effect, so
  // that G1 text written without its escape sequence (common in Korean files) still decodes.
  // Conforming values always designate G1 before use, so this changes nothing for them.
  let g1 = initial.g1;
  for (const term of terms.slice(1)) {
    if (g1 !== undefined) break;
    g1 = term === undefined ? undefined : DESIGNATION_TERMS.get(term)?.g1;
  }
  return { kind: 'code-extensions', g0, g1, fast: fastDecoderFor(g0, g1) };
}

const DEFAULT_PLAN: DecodingPlan = {
  kind: 'code-extensions',
  g0: ASCII,
  g1: undefined,
  fast: decodeLatin1,
};

/** Plans by (0008,0005) value; a disc holds a handful, the bound only guards against abuse. */
const plans = new Map<string, DecodingPlan>();
const MAX_CACHED_PLANS = 256;

function planFor(specificCharacterSet: readonly string[] | undefined): DecodingPlan {
  if (specificCharacterSet === undefined || specificCharacterSet.length === 0) return DEFAULT_PLAN;
  const key =
    specificCharacterSet.length === 1 ? specificCharacterSet[0]! : specificCharacterSet.join('\\');
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = buildPlan(specificCharacterSet);
    if (plans.size >= MAX_CACHED_PLANS) plans.clear();
    plans.set(key, plan);
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// ISO 2022 decoding (PS3.5 6.1.2.5)

const ESC = 0x1b;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const EQUALS = 0x3d;

/** PS3.5 6.1.2.5.3: the initial set is active again at line ends and other controls (not ESC). */
function isResettingControl(byte: number): boolean {
  return byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x0c;
}

/** Text VRs whose values cannot be multi-valued: '\' is an ordinary character there. */
const SINGLE_VALUED_TEXT_VRS = new Set(['ST', 'LT', 'UT']);

interface EscapeSequence {
  readonly length: number;
  /** Undefined for a well-formed sequence this module does not know. */
  readonly designation: { readonly set: GraphicSet; readonly target: 'g0' | 'g1' } | undefined;
}

function designate(
  set: GraphicSet | undefined,
  target: 'g0' | 'g1',
): EscapeSequence['designation'] {
  return set === undefined ? undefined : { set, target };
}

/** Parses ESC I* F at `start` (ISO 2022: intermediates 0x20-0x2F, final 0x30-0x7E). */
function parseEscape(bytes: Uint8Array, start: number): EscapeSequence | undefined {
  let i = start + 1;
  while (i < bytes.length && bytes[i]! >= 0x20 && bytes[i]! <= 0x2f) i++;
  const finalByte = bytes[i];
  if (finalByte === undefined || finalByte < 0x30 || finalByte > 0x7e) return undefined;
  const final = String.fromCharCode(finalByte);
  const first = i > start + 1 ? bytes[start + 1] : undefined;
  const second = i > start + 2 ? bytes[start + 2] : undefined;
  let designation: EscapeSequence['designation'];
  if (i === start + 2) {
    if (first === 0x28) designation = designate(SETS_94[final], 'g0'); // ESC ( F
    if (first === 0x29) designation = designate(SETS_94[final], 'g1'); // ESC ) F
    if (first === 0x2d) designation = designate(SETS_96[final], 'g1'); // ESC - F
    if (first === 0x24) designation = designate(SETS_94x94[final], 'g0'); // ESC $ F
  } else if (i === start + 3 && first === 0x24) {
    if (second === 0x28) designation = designate(SETS_94x94[final], 'g0'); // ESC $ ( F
    if (second === 0x29) designation = designate(SETS_94x94[final], 'g1'); // ESC $ ) F
  }
  return { length: i + 1 - start, designation };
}

function decodeSingleByteRun(
  set: SingleByteSet,
  bytes: Uint8Array,
  start: number,
  end: number,
): string {
  const codes = set.codes();
  const units = new Uint16Array(end - start);
  for (let i = start; i < end; i++) units[i - start] = codes[(bytes[i]! & 0x7f) - 0x20]!;
  return unitsToString(units);
}

const eucDecoders = new Map<DoubleByteSet, WholeValueDecoder>();
function eucDecoder(set: DoubleByteSet): WholeValueDecoder {
  let decode = eucDecoders.get(set);
  if (decode === undefined) {
    decode = viaTextDecoderOrIconv(set.label, set.eucEncoding);
    eucDecoders.set(set, decode);
  }
  return decode;
}

/** Decodes `bytes[start, end)`, an even run of 94x94 code pairs in GL or GR. */
function decodeDoubleByteRun(
  set: DoubleByteSet,
  bytes: Uint8Array,
  start: number,
  end: number,
): string {
  const decodeEuc = eucDecoder(set);
  const width = set.prefix === undefined ? 2 : 3;
  const euc = new Uint8Array(((end - start) / 2) * width);
  let text = '';
  let length = 0;
  for (let i = start; i < end; i += 2) {
    const row = bytes[i]! & 0x7f;
    const cell = bytes[i + 1]! & 0x7f;
    const override = set.overrides.get((row << 8) | cell);
    if (override !== undefined) {
      if (length > 0) text += decodeEuc(euc.subarray(0, length));
      length = 0;
      text += override;
      continue;
    }
    if (set.prefix !== undefined) euc[length++] = set.prefix;
    euc[length++] = row | 0x80;
    euc[length++] = cell | 0x80;
  }
  if (length > 0) text += decodeEuc(euc.subarray(0, length));
  return text;
}

function isGraphic94(byte: number): boolean {
  const position = byte & 0x7f;
  return position >= 0x21 && position <= 0x7e;
}

/** End of the run of complete code pairs starting at `start`, all in GL (high = 0) or GR (0x80). */
function pairRunEnd(bytes: Uint8Array, start: number, high: number): number {
  let i = start;
  while (
    i + 1 < bytes.length &&
    (bytes[i]! & 0x80) === high &&
    (bytes[i + 1]! & 0x80) === high &&
    isGraphic94(bytes[i]!) &&
    isGraphic94(bytes[i + 1]!)
  ) {
    i += 2;
  }
  return i;
}

function delimiterTable(...delimiters: number[]): Uint8Array {
  const table = new Uint8Array(0x80);
  for (const delimiter of delimiters) table[delimiter] = 1;
  return table;
}

/** GL bytes that delimit values or PN components, by kind of VR. */
const NO_DELIMITERS = delimiterTable();
const VALUE_DELIMITERS = delimiterTable(BACKSLASH);
const PERSON_NAME_DELIMITERS = delimiterTable(BACKSLASH, CARET, EQUALS);

function delimitersFor(vr: string): Uint8Array {
  if (vr === 'PN') return PERSON_NAME_DELIMITERS;
  return SINGLE_VALUED_TEXT_VRS.has(vr) ? NO_DELIMITERS : VALUE_DELIMITERS;
}

function decodeWithCodeExtensions(bytes: Uint8Array, plan: CodeExtensionPlan, vr: string): string {
  const delimiters = delimitersFor(vr);

  let g0: GraphicSet = plan.g0;
  let g1: GraphicSet | undefined = plan.g1;
  const parts: string[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const byte = bytes[i]!;

    if (byte === ESC) {
      const escape = parseEscape(bytes, i);
      if (escape === undefined) {
        parts.push('\u001b');
        i += 1;
        continue;
      }
      if (escape.designation === undefined) {
        // Kept as text: an unknown sequence is shown rather than silently dropped.
        parts.push(decodeLatin1(bytes, i, i + escape.length));
      } else if (escape.designation.target === 'g0') {
        g0 = escape.designation.set;
      } else {
        g1 = escape.designation.set;
      }
      i += escape.length;
      continue;
    }

    if (byte < 0x20 || byte === 0x7f || (byte >= 0x80 && byte < 0xa0)) {
      // C0 / C1 controls and DEL are the same in every set.
      parts.push(String.fromCharCode(byte));
      if (isResettingControl(byte)) {
        g0 = plan.g0;
        g1 = plan.g1;
      }
      i += 1;
      continue;
    }

    if (byte < 0x80) {
      // GL: G0
      if (g0.kind === 'double') {
        if (byte === 0x20) {
          parts.push(' ');
          i += 1;
          continue;
        }
        const end = pairRunEnd(bytes, i, 0);
        if (end === i) {
          parts.push('\ufffd');
          i += 1;
        } else {
          parts.push(decodeDoubleByteRun(g0, bytes, i, end));
          i = end;
        }
        continue;
      }
      if (g0.asciiLike && delimiters[byte] === 1) {
        // '\' between values, '^' and '=' in PN: the initial sets are active again.
        parts.push(String.fromCharCode(byte));
        g0 = plan.g0;
        g1 = plan.g1;
        i += 1;
        continue;
      }
      let end = i + 1;
      while (
        end < n &&
        bytes[end]! >= 0x20 &&
        bytes[end]! < 0x7f &&
        !(g0.asciiLike && delimiters[bytes[end]!] === 1)
      ) {
        end++;
      }
      parts.push(decodeSingleByteRun(g0, bytes, i, end));
      i = end;
      continue;
    }

    // GR: G1
    if (g1 === undefined) {
      let end = i + 1;
      while (end < n && bytes[end]! >= 0xa0) end++;
      parts.push(decodeLatin1(bytes, i, end));
      i = end;
    } else if (g1.kind === 'double') {
      const end = pairRunEnd(bytes, i, 0x80);
      if (end === i) {
        parts.push('\ufffd');
        i += 1;
      } else {
        parts.push(decodeDoubleByteRun(g1, bytes, i, end));
        i = end;
      }
    } else {
      let end = i + 1;
      while (end < n && bytes[end]! >= 0xa0) end++;
      parts.push(decodeSingleByteRun(g1, bytes, i, end));
      i = end;
    }
  }
  return parts.join('');
}

const ONLY_ASCII = 0;
const NO_ESCAPES = 1;
const HAS_ESCAPES = 2;

/** How much machinery `bytes` needs: none, the initial sets only, or ISO 2022 decoding. */
function scanBytes(bytes: Uint8Array): number {
  let scan = ONLY_ASCII;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === ESC) return HAS_ESCAPES;
    if (byte >= 0x80) scan = NO_ESCAPES;
  }
  return scan;
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Decodes a text value's raw bytes. `specificCharacterSet` is the raw (0008,0005) value split on
 * '\' (may be empty / undefined -> default repertoire ISO_IR 6, decoded as latin1 to lose
 * nothing; terms are trimmed and common misspellings accepted; unknown terms act as the default
 * repertoire). `vr` is the element's VR: for PN, '^' and '=' restore the initial character sets
 * (each component group starts in them); for every text VR, CR, LF, TAB and FF do (PS3.5
 * 6.1.2.5.3), and so does '\' except in ST, LT and UT, where it is not a delimiter. Delimiters
 * are recognised only while G0 holds an ASCII-shaped set, so the bytes of a JIS X 0208
 * character (which may be 0x5C, 0x5E, 0x3D) are never mistaken for one. Nothing is trimmed: see
 * `trimDicomText`.
 */
export function decodeDicomText(
  bytes: Uint8Array,
  specificCharacterSet: readonly string[] | undefined,
  vr: string,
): string {
  if (bytes.length === 0) return '';
  const plan = planFor(specificCharacterSet);
  if (plan.kind === 'stand-alone') return plan.decode(bytes);
  const scan = scanBytes(bytes);
  if (scan === ONLY_ASCII) return decodeLatin1(bytes);
  if (scan === NO_ESCAPES && plan.fast !== undefined) return plan.fast(bytes);
  return decodeWithCodeExtensions(bytes, plan, vr);
}

function isPadding(code: number): boolean {
  return code === 0x20 || code === 0x00;
}

function trimValue(value: string, keepLeading: boolean): string {
  let end = value.length;
  while (end > 0 && isPadding(value.charCodeAt(end - 1))) end--;
  let start = 0;
  if (!keepLeading) while (start < end && value.charCodeAt(start) === 0x20) start++;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * Removes the padding of a decoded text value (PS3.5 6.2): trailing spaces and NULs, and leading
 * spaces too except in ST, LT and UT, where leading spaces are significant. Values of
 * multi-valued VRs are trimmed one by one.
 */
export function trimDicomText(text: string, vr: string): string {
  if (SINGLE_VALUED_TEXT_VRS.has(vr)) return trimValue(text, true);
  if (!text.includes('\\')) return trimValue(text, false);
  return text
    .split('\\')
    .map((value) => trimValue(value, false))
    .join('\\');
}
