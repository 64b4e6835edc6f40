import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from 'vitest';

import {
  decodeDicomText,
  isKnownCharacterSet,
  trimDicomText,
} from '../../../main/core/dicom/charset.ts';
import { debianPython, skipFor } from '../../support/tools.ts';

const dumpScript = fileURLToPath(new URL('../../support/dump-charset-values.py', import.meta.url));

const ESC = '\u001b';

/** Bytes from parts: strings as latin1 (ASCII text, escape sequences), arrays as raw bytes. */
function bytesOf(...parts: ReadonlyArray<string | ArrayLike<number>>): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === 'string' ? Buffer.from(part, 'latin1') : Uint8Array.from(part),
  );
  return new Uint8Array(Buffer.concat(chunks));
}

// -----------------------------------------------------------------------------------------------
// Oracle: pydicom's own decoding of its charset test files

/** pydicom's charset_files (pydicom/data/charset_files): all must decode. */
const charsetFiles = [
  'chrArab.dcm',
  'chrFren.dcm',
  'chrFrenMulti.dcm',
  'chrGerm.dcm',
  'chrGreek.dcm',
  'chrH31.dcm',
  'chrH32.dcm',
  'chrHbrw.dcm',
  'chrI2.dcm',
  'chrJapMulti.dcm',
  'chrJapMultiExplicitIR6.dcm',
  'chrKoreanMulti.dcm',
  'chrRuss.dcm',
  'chrSQEncoding.dcm',
  'chrSQEncoding1.dcm',
  'chrX1.dcm',
  'chrX2.dcm',
];

interface PydicomRecord {
  readonly file: string;
  readonly tag: string;
  readonly vr: string;
  readonly charsets: readonly string[] | null;
  readonly rawHex: string;
  readonly decoded: readonly string[];
  readonly warnings: readonly string[];
}

interface PydicomDump {
  readonly pydicom: string;
  readonly dir: string;
  readonly records: readonly PydicomRecord[];
}

/**
 * Our decoded string shaped the way pydicom presents a value, so the two compare exactly:
 * pydicom splits SH/LO/UC/PN on '\' (ST/LT/UT are one value), strips trailing spaces and NULs
 * (per value; for PN only at the end of the element), and drops empty trailing PN component
 * groups ('A=B=' is 'A=B'). Everything else — every character — must be equal.
 */
function asPydicomValues(decoded: string, vr: string): string[] {
  const rstrip = (value: string): string => value.replace(/[ \0]+$/u, '');
  if (vr === 'ST' || vr === 'LT' || vr === 'UT') return [rstrip(decoded)];
  if (vr === 'PN') {
    return rstrip(decoded)
      .split('\\')
      .map((value) => value.replace(/=+$/u, ''));
  }
  return decoded.split('\\').map(rstrip);
}

function needsCharset(rawHex: string): boolean {
  return Buffer.from(rawHex, 'hex').some((byte) => byte >= 0x80 || byte === 0x1b);
}

describe('decodeDicomText agrees with pydicom on its charset test files', () => {
  let dump: PydicomDump | undefined;
  let skipped = false;

  beforeAll(() => {
    const run = spawnSync(debianPython, [dumpScript], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error !== undefined) {
      skipped = skipFor(`${debianPython} cannot run (${run.error.message}); needs python3-pydicom`);
      return;
    }
    if (run.status !== 0) {
      throw new Error(`${path.basename(dumpScript)} failed (${run.status}): ${run.stderr}`);
    }
    const parsed = JSON.parse(run.stdout) as PydicomDump | { skip: string };
    if ('skip' in parsed) {
      skipped = skipFor(`${parsed.skip}; install python3-pydicom`);
      return;
    }
    dump = parsed;
  });

  for (const file of charsetFiles) {
    it(`decodes every text value of ${file} as pydicom does`, (context) => {
      if (skipped) return context.skip();
      const records = dump!.records.filter((record) => record.file === file);
      expect(records.length).toBeGreaterThan(0);
      // Every file has at least one value that needs its character set, or it proves nothing.
      expect(records.some((record) => needsCharset(record.rawHex))).toBe(true);

      const mismatches = records.flatMap((record) => {
        const raw = new Uint8Array(Buffer.from(record.rawHex, 'hex'));
        const actual = asPydicomValues(
          decodeDicomText(raw, record.charsets ?? undefined, record.vr),
          record.vr,
        );
        const expected = record.decoded.length === 0 ? [''] : [...record.decoded];
        return JSON.stringify(actual) === JSON.stringify(expected)
          ? []
          : [
              {
                tag: record.tag,
                vr: record.vr,
                charsets: record.charsets,
                actual,
                expected,
                warnings: record.warnings,
              },
            ];
      });
      expect(mismatches).toEqual([]);
    });
  }

  it('covered all charset files (table of values checked)', (context) => {
    if (skipped) return context.skip();
    const table = charsetFiles.map((file) => {
      const records = dump!.records.filter((record) => record.file === file);
      return {
        file,
        values: records.length,
        nonAscii: records.filter((record) => needsCharset(record.rawHex)).length,
      };
    });
    console.log(
      `pydicom ${dump!.pydicom}, ${dump!.dir}\n` +
        table
          .map((row) => `${row.file.padEnd(28)} ${row.values} values (${row.nonAscii} non-ASCII)`)
          .join('\n') +
        `\ntotal: ${dump!.records.length} values`,
    );
    const dumped = [...new Set(dump!.records.map((record) => record.file))].sort();
    expect(dumped).toEqual([...charsetFiles].sort());
  });
});

// -----------------------------------------------------------------------------------------------
// PS3.5 Annexes H, I, J, K: the standard's own examples, bytes built here

describe('PS3.5 examples', () => {
  it('H.3.1 Japanese, JIS X 0208 in G0 (ISO 2022 IR 87)', () => {
    const raw = bytesOf(
      'Yamada^Tarou=',
      `${ESC}$B`,
      ';3ED',
      `${ESC}(B^${ESC}$B`,
      'B@O:',
      `${ESC}(B=${ESC}$B`,
      '$d$^$@',
      `${ESC}(B^${ESC}$B`,
      '$?$m$&',
      `${ESC}(B`,
    );
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 87'], 'PN')).toBe(
      'Yamada^Tarou=山田^太郎=やまだ^たろう',
    );
  });

  it('H.3.2 Japanese, JIS X 0201 katakana in G1 and JIS X 0208 (ISO 2022 IR 13 + 87)', () => {
    const raw = bytesOf(
      [0xd4, 0xcf, 0xc0, 0xde],
      '^',
      [0xc0, 0xdb, 0xb3],
      `=${ESC}$B;3ED${ESC}(J^${ESC}$BB@O:${ESC}(J=`,
      `${ESC}$B$d$^$@${ESC}(J^${ESC}$B$?$m$&${ESC}(J`,
    );
    expect(decodeDicomText(raw, ['ISO 2022 IR 13', 'ISO 2022 IR 87'], 'PN')).toBe(
      'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
    );
  });

  it('I.2 Korean, KS X 1001 in G1 (ISO 2022 IR 149)', () => {
    const raw = bytesOf(
      `Hong^Gildong=${ESC}$)C`,
      [0xfb, 0xf3],
      `^${ESC}$)C`,
      [0xd1, 0xce, 0xd4, 0xd7],
      `=${ESC}$)C`,
      [0xc8, 0xab],
      `^${ESC}$)C`,
      [0xb1, 0xe6, 0xb5, 0xbf],
    );
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 149'], 'PN')).toBe(
      'Hong^Gildong=洪^吉洞=홍^길동',
    );
  });

  it('I Korean long text, re-designated on each line', () => {
    const raw = bytesOf(`${ESC}$)C`, [0xc7, 0xd1, 0xb1, 0xdb], '\r\n', `${ESC}$)C`, [0xb0, 0xa1]);
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 149'], 'LT')).toBe('한글\r\n가');
  });

  it('J Chinese, GB18030 and UTF-8 (ISO_IR 192)', () => {
    const gb18030 = bytesOf('Wang^XiaoDong=', [0xcd, 0xf5], '^', [0xd0, 0xa1, 0xb6, 0xab], '=');
    expect(decodeDicomText(gb18030, ['GB18030'], 'PN')).toBe('Wang^XiaoDong=王^小东=');
    const utf8 = new Uint8Array(Buffer.from('Wang^XiaoDong=王^小東=', 'utf8'));
    expect(decodeDicomText(utf8, ['ISO_IR 192'], 'PN')).toBe('Wang^XiaoDong=王^小東=');
  });

  it('K Chinese, GB 2312 in G1 (ISO 2022 IR 58)', () => {
    const name = bytesOf(
      `Zhang^XiaoDong=${ESC}$)A`,
      [0xd5, 0xc5],
      `^${ESC}$)A`,
      [0xd0, 0xa1, 0xb6, 0xab],
      '=',
    );
    expect(decodeDicomText(name, ['', 'ISO 2022 IR 58'], 'PN')).toBe('Zhang^XiaoDong=张^小东=');
    const text = bytesOf(
      `1.${ESC}$)A`,
      [0xb5, 0xda, 0xd2, 0xbb, 0xd0, 0xd0, 0xce, 0xc4, 0xd7, 0xd6, 0xa1, 0xa3],
      `\r\n2.${ESC}$)A`,
      [0xb5, 0xda, 0xb6, 0xfe, 0xd0, 0xd0, 0xce, 0xc4, 0xd7, 0xd6, 0xa1, 0xa3],
    );
    expect(decodeDicomText(text, ['', 'ISO 2022 IR 58'], 'LT')).toBe(
      '1.第一行文字。\r\n2.第二行文字。',
    );
  });
});

// -----------------------------------------------------------------------------------------------
// Every defined term

describe('defined terms', () => {
  it.each([
    ['ISO_IR 100', [0x4a, 0xe9, 0x72, 0xf4, 0x6d, 0x65], 'Jérôme'],
    ['ISO_IR 101', [0xa9, 0xe8, 0xb1], 'Ščą'],
    ['ISO_IR 109', [0xa1, 0xb1, 0xc5], 'ĦħĊ'],
    ['ISO_IR 110', [0xa1, 0xa2, 0xb3], 'Ąĸŗ'],
    ['ISO_IR 144', [0xbb, 0xee, 0xda], 'Люк'],
    ['ISO_IR 127', [0xe2, 0xc8, 0xc7, 0xe6, 0xea], 'قباني'],
    ['ISO_IR 126', [0xc1, 0xe8, 0xde, 0xed, 0xe1], 'Αθήνα'],
    ['ISO_IR 138', [0xf9, 0xf8, 0xe5, 0xef], 'שרון'],
    // 8859-9 proper: 0x80 is a C1 control, not windows-1254's euro sign.
    ['ISO_IR 148', [0xba, 0xfe, 0xdd, 0x80], 'ºşİ\u0080'],
    ['ISO_IR 203', [0xa4, 0xbd], '€œ'],
    ['ISO_IR 166', [0xa1, 0xa2, 0xca], 'กขส'],
    ['ISO_IR 13', [0x41, 0xb1, 0xb2, 0xb3], 'Aｱｲｳ'],
    ['ISO_IR 6', [0x41, 0x5e, 0x42], 'A^B'],
    ['ISO_IR 192', [0xc3, 0xa9, 0xe2, 0x82, 0xac], 'é€'],
    ['GBK', [0xcd, 0xf5, 0x81, 0x5c, 0x95, 0x5c], '王乗昞'],
    ['GB18030', [0xcd, 0xf5, 0x81, 0x30, 0x81, 0x30], '王\u0080'],
  ])('%s without code extensions', (term, raw, expected) => {
    expect(decodeDicomText(new Uint8Array(raw), [term], 'LO')).toBe(expected);
  });

  it.each([
    ['ISO 2022 IR 100', `${ESC}-A`, 0xe9, 'é'],
    ['ISO 2022 IR 101', `${ESC}-B`, 0xa9, 'Š'],
    ['ISO 2022 IR 109', `${ESC}-C`, 0xa1, 'Ħ'],
    ['ISO 2022 IR 110', `${ESC}-D`, 0xa2, 'ĸ'],
    ['ISO 2022 IR 126', `${ESC}-F`, 0xc4, 'Δ'],
    ['ISO 2022 IR 127', `${ESC}-G`, 0xc8, 'ب'],
    ['ISO 2022 IR 138', `${ESC}-H`, 0xf9, 'ש'],
    ['ISO 2022 IR 144', `${ESC}-L`, 0xbb, 'Л'],
    ['ISO 2022 IR 148', `${ESC}-M`, 0xfe, 'ş'],
    ['ISO 2022 IR 166', `${ESC}-T`, 0xa1, 'ก'],
    ['ISO 2022 IR 203', `${ESC}-b`, 0xa4, '€'],
    ['ISO 2022 IR 13', `${ESC})I`, 0xb1, 'ｱ'],
  ])('%s designated by escape sequence into G1', (term, escape, byte, expected) => {
    // G1 starts as Latin-1 (value 1), the escape sequences switch it there and back.
    const raw = bytesOf([0xe9], escape, [byte], `${ESC}-A`, [0xe9]);
    expect(decodeDicomText(raw, ['ISO 2022 IR 100', term], 'LO')).toBe(`é${expected}é`);
  });

  it('JIS X 0212 (ISO 2022 IR 159), with its standard mapping', () => {
    const raw = bytesOf(`A${ESC}$(D`, [0x30, 0x21, 0x22, 0x37], `${ESC}(BZ`);
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], 'LO')).toBe('A丂~Z');
  });

  it('JIS X 0208 uses the JIS mapping (WAVE DASH, MINUS SIGN), not Microsoft code page 932', () => {
    const raw = bytesOf(`${ESC}$B`, [0x21, 0x41, 0x21, 0x5d, 0x21, 0x71, 0x30, 0x21], `${ESC}(B`);
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 87'], 'LO')).toBe('\u301c\u2212\u00a2亜');
  });

  it('GB 2312 uses the GB 2312 mapping (KATAKANA MIDDLE DOT, HORIZONTAL BAR)', () => {
    const raw = bytesOf(`${ESC}$)A`, [0xa1, 0xa4, 0xa1, 0xaa, 0xd5, 0xc5]);
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 58'], 'LO')).toBe('\u30fb\u2015张');
  });

  it('KS X 1001:1998 additions (euro and registered signs)', () => {
    const raw = bytesOf(`${ESC}$)C`, [0xa2, 0xe6, 0xa2, 0xe7, 0xb0, 0xa1]);
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 149'], 'LO')).toBe('€®가');
  });
});

// -----------------------------------------------------------------------------------------------
// Where the initial character sets come back (PS3.5 6.1.2.5.3)

describe('code extension state', () => {
  const latinCyrillic = ['ISO 2022 IR 100', 'ISO 2022 IR 144'];

  it('CR LF restores G0 and G1', () => {
    const cyrillic = bytesOf(`${ESC}-L`, [0xbb, 0xee], '\r\n', [0xe9]);
    expect(decodeDicomText(cyrillic, latinCyrillic, 'LT')).toBe('Лю\r\né');
    const kanji = bytesOf(`${ESC}$B;3`, '\r\nAB');
    expect(decodeDicomText(kanji, ['', 'ISO 2022 IR 87'], 'LT')).toBe('山\r\nAB');
  });

  it('TAB and FF restore the initial sets too', () => {
    const raw = bytesOf(`${ESC}-L`, [0xbb], '\t', [0xbb], `${ESC}-L`, [0xbb], '\f', [0xbb]);
    expect(decodeDicomText(raw, latinCyrillic, 'ST')).toBe('Л\t»Л\f»');
  });

  it("'\\' restores them between values, but is a plain character in ST, LT and UT", () => {
    const raw = bytesOf(`${ESC}-L`, [0xbb], '\\', [0xee]);
    expect(decodeDicomText(raw, latinCyrillic, 'LO')).toBe('Л\\î');
    expect(decodeDicomText(raw, latinCyrillic, 'SH')).toBe('Л\\î');
    expect(decodeDicomText(raw, latinCyrillic, 'ST')).toBe('Л\\ю');
    expect(decodeDicomText(raw, latinCyrillic, 'UT')).toBe('Л\\ю');
  });

  it("'^' and '=' restore them in PN only", () => {
    const raw = bytesOf(`${ESC}-L`, [0xbb], '^', [0xbb], `=${ESC}-L`, [0xbb], '=', [0xbb]);
    expect(decodeDicomText(raw, latinCyrillic, 'PN')).toBe('Л^»=Л=»');
    expect(decodeDicomText(raw, latinCyrillic, 'LO')).toBe('Л^Л=Л=Л');
  });

  it('bytes of a JIS X 0208 character are never taken for delimiters', () => {
    // 移 0x30 0x5C ('0\'), 綾 0x30 0x3D ('0='), ま 0x24 0x5E ('$^'), 宗 0x3D 0x21 ('=!'),
    // 沺 0x5E 0x21 ('^!'), 棔 0x5C 0x21 ('\!'), 樛 0x5C 0x5C ('\\').
    const name = bytesOf(`${ESC}$B0\\0=$^=!^!\\!\\\\${ESC}(B^A`);
    expect(decodeDicomText(name, ['', 'ISO 2022 IR 87'], 'PN')).toBe('移綾ま宗沺棔樛^A');
    const values = bytesOf(`${ESC}$B0\\${ESC}(B\\B`);
    expect(decodeDicomText(values, ['', 'ISO 2022 IR 87'], 'LO')).toBe('移\\B');
  });

  it('a GBK trail byte 0x5C is part of its character, not a delimiter', () => {
    expect(decodeDicomText(new Uint8Array([0x81, 0x5c, 0x5c, 0x41]), ['GBK'], 'LO')).toBe('乗\\A');
  });

  it('a space inside JIS X 0208 text stays a space', () => {
    const raw = bytesOf(`${ESC}$B;3ED B@O:${ESC}(B`);
    expect(decodeDicomText(raw, ['', 'ISO 2022 IR 87'], 'LO')).toBe('山田 太郎');
  });
});

// -----------------------------------------------------------------------------------------------
// Real-world mistakes and fallbacks

describe('fallbacks', () => {
  const latinBytes = new Uint8Array([0x4a, 0xe9, 0x80, 0xff]);

  it('no Specific Character Set: default repertoire, decoded as latin1 so nothing is lost', () => {
    expect(decodeDicomText(latinBytes, undefined, 'PN')).toBe('Jé\u0080ÿ');
    expect(decodeDicomText(latinBytes, [], 'PN')).toBe('Jé\u0080ÿ');
    expect(decodeDicomText(latinBytes, [''], 'PN')).toBe('Jé\u0080ÿ');
  });

  it('unknown terms fall back to latin1 instead of throwing', () => {
    expect(decodeDicomText(latinBytes, ['KLINGON'], 'LO')).toBe('Jé\u0080ÿ');
    expect(decodeDicomText(latinBytes, ['ISO_IR 999'], 'LO')).toBe('Jé\u0080ÿ');
  });

  it.each([
    'ISO-IR 144',
    'ISO_IR144',
    'iso_ir 144',
    'ISO IR 144',
    ' ISO_IR 144 ',
    'ISO_IR 144\0',
    'ISO-8859-5',
  ])('misspelled %j is read as ISO_IR 144', (term) => {
    expect(decodeDicomText(new Uint8Array([0xbb, 0xee, 0xda]), [term], 'LO')).toBe('Люк');
    expect(isKnownCharacterSet(term)).toBe(true);
  });

  it('ISO 2022 and plain forms swapped, encoding names', () => {
    const kanji = bytesOf(`${ESC}$B;3ED${ESC}(B`);
    expect(decodeDicomText(kanji, ['ISO_IR 87'], 'LO')).toBe('山田');
    expect(decodeDicomText(kanji, ['ISO2022IR87'], 'LO')).toBe('山田');
    const utf8 = new Uint8Array(Buffer.from('Müller', 'utf8'));
    expect(decodeDicomText(utf8, ['ISO 2022 IR 192'], 'PN')).toBe('Müller');
    expect(decodeDicomText(utf8, ['UTF-8'], 'PN')).toBe('Müller');
    const korean = bytesOf(`${ESC}$)C`, [0xc7, 0xd1]);
    expect(decodeDicomText(korean, ['', 'ISO_IR 149'], 'LO')).toBe('한');
  });

  it('KS X 1001 or GB 2312 text without its escape sequence still decodes', () => {
    const korean = new Uint8Array([0xc7, 0xd1, 0xb1, 0xdb]);
    expect(decodeDicomText(korean, ['', 'ISO 2022 IR 149'], 'LO')).toBe('한글');
    expect(decodeDicomText(korean, ['ISO 2022 IR 149'], 'LO')).toBe('한글');
    const chinese = new Uint8Array([0xd5, 0xc5]);
    expect(decodeDicomText(chinese, ['', 'ISO 2022 IR 58'], 'LO')).toBe('张');
  });

  it('a stand-alone value 1 ignores extensions; a stand-alone extension is ignored', () => {
    const utf8 = new Uint8Array(Buffer.from('é', 'utf8'));
    expect(decodeDicomText(utf8, ['ISO_IR 192', 'ISO 2022 IR 87'], 'LO')).toBe('é');
    expect(decodeDicomText(new Uint8Array([0xe9]), ['ISO 2022 IR 100', 'GB18030'], 'LO')).toBe('é');
  });

  it('unknown or broken escape sequences are kept as text', () => {
    expect(decodeDicomText(bytesOf(`A${ESC}(ZB`), ['', 'ISO 2022 IR 87'], 'LO')).toBe(`A${ESC}(ZB`);
    expect(decodeDicomText(bytesOf(`A${ESC}`), ['', 'ISO 2022 IR 87'], 'LO')).toBe(`A${ESC}`);
    // A lone first byte of a pair is replaced, the rest decodes.
    expect(decodeDicomText(bytesOf(`${ESC}$B;3E${ESC}(BA`), ['', 'ISO 2022 IR 87'], 'LO')).toBe(
      '山\ufffdA',
    );
  });

  it('values with no bytes, and long values', () => {
    expect(decodeDicomText(new Uint8Array(0), ['ISO_IR 192'], 'PN')).toBe('');
    const long = new Uint8Array(100_000).fill(0xfe);
    expect(decodeDicomText(long, ['ISO_IR 148'], 'UT')).toBe('ş'.repeat(100_000));
    const longEscaped = bytesOf(`${ESC}-M`, long);
    expect(decodeDicomText(longEscaped, ['', 'ISO 2022 IR 148'], 'UT')).toBe('ş'.repeat(100_000));
  });
});

describe('isKnownCharacterSet', () => {
  it.each([
    '',
    'ISO_IR 6',
    'ISO_IR 100',
    'ISO_IR 101',
    'ISO_IR 109',
    'ISO_IR 110',
    'ISO_IR 144',
    'ISO_IR 127',
    'ISO_IR 126',
    'ISO_IR 138',
    'ISO_IR 148',
    'ISO_IR 203',
    'ISO_IR 13',
    'ISO_IR 166',
    'ISO_IR 192',
    'GB18030',
    'GBK',
    'ISO 2022 IR 6',
    'ISO 2022 IR 100',
    'ISO 2022 IR 101',
    'ISO 2022 IR 109',
    'ISO 2022 IR 110',
    'ISO 2022 IR 144',
    'ISO 2022 IR 127',
    'ISO 2022 IR 126',
    'ISO 2022 IR 138',
    'ISO 2022 IR 148',
    'ISO 2022 IR 203',
    'ISO 2022 IR 13',
    'ISO 2022 IR 166',
    'ISO 2022 IR 87',
    'ISO 2022 IR 159',
    'ISO 2022 IR 149',
    'ISO 2022 IR 58',
  ])('knows %j', (term) => {
    expect(isKnownCharacterSet(term)).toBe(true);
  });

  it.each(['KLINGON', 'ISO_IR 999', 'ISO 2022 IR 7', 'SHIFT_JIS', 'ISO-8859-12'])(
    'does not know %j',
    (term) => {
      expect(isKnownCharacterSet(term)).toBe(false);
    },
  );
});

describe('trimDicomText', () => {
  it('removes trailing spaces and NULs and leading spaces', () => {
    expect(trimDicomText('  SMITH^JOHN \0', 'PN')).toBe('SMITH^JOHN');
    expect(trimDicomText(' CT HEAD  ', 'LO')).toBe('CT HEAD');
    expect(trimDicomText('   ', 'SH')).toBe('');
    expect(trimDicomText('', 'SH')).toBe('');
  });

  it('trims each value of a multi-valued VR', () => {
    expect(trimDicomText(' A \\ B \0', 'LO')).toBe('A\\B');
  });

  it('keeps leading spaces (and backslashes) in ST, LT and UT', () => {
    expect(trimDicomText('  indented\r\n  text \\ more  \0', 'LT')).toBe(
      '  indented\r\n  text \\ more',
    );
    expect(trimDicomText('  x ', 'ST')).toBe('  x');
    expect(trimDicomText('  x \0\0', 'UT')).toBe('  x');
  });

  it('keeps inner spaces and does not touch other whitespace', () => {
    expect(trimDicomText('\tA  B\r\n', 'LO')).toBe('\tA  B\r\n');
  });
});
