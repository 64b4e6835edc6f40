import { describe, expect, it } from 'vitest';
import {
  MultipartError,
  MultipartParser,
  parseMediaType,
  type MultipartEvent,
} from '../../portal/multipart.ts';
import { multipartBody } from './helpers.ts';

interface CollectedPart {
  headers: Record<string, string>;
  data: Buffer;
}

/** Feeds `body` in the given chunk sizes and collects the parts. */
function parse(body: Buffer, boundary: string, cut: (offset: number) => number): CollectedPart[] {
  const parser = new MultipartParser(boundary);
  const parts: CollectedPart[] = [];
  let current: { headers: Record<string, string>; chunks: Buffer[] } | undefined;
  const handle = (events: MultipartEvent[]) => {
    for (const e of events) {
      if (e.kind === 'part-start') current = { headers: { ...e.headers }, chunks: [] };
      // The parser's slices may alias its buffers: copy, as a file write would.
      else if (e.kind === 'part-data') current!.chunks.push(Buffer.from(e.data));
      else {
        parts.push({ headers: current!.headers, data: Buffer.concat(current!.chunks) });
        current = undefined;
      }
    }
  };
  for (let offset = 0; offset < body.length;) {
    const size = Math.max(1, cut(offset));
    handle(parser.write(body.subarray(offset, offset + size)));
    offset += size;
  }
  parser.end();
  return parts;
}

const boundary = 'ferry-test-boundary-7d3a';
// Contents that look like delimiters without being one: CRLF, "--", a boundary prefix, the boundary without CRLF.
const tricky = [
  Buffer.from('\r\n--ferry-test-boundary-7d3\r\n-- \r\n\r\n'),
  Buffer.from(`--${boundary}`), // not preceded by CRLF: content, per RFC 2046
  Buffer.alloc(0),
  Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 31) % 256)),
  Buffer.from('\r'),
];

const trickyHex = tricky.map((b) => b.toString('hex'));
const hex = (parts: CollectedPart[]) => parts.map((p) => p.data.toString('hex'));

describe('MultipartParser', () => {
  const body = multipartBody(
    tricky.map((data, i) => ({ contentType: i === 2 ? undefined : 'application/dicom', data })),
    boundary,
  );

  it('reads every part whole when fed in one chunk', () => {
    const parts = parse(body, boundary, () => body.length);
    expect(parts.map((p) => p.data)).toEqual(tricky);
    expect(parts[0]!.headers['content-type']).toBe('application/dicom');
    expect(parts[2]!.headers).toEqual({});
  });

  it('reads the same parts when the body is split at every possible offset', () => {
    for (let split = 1; split < body.length; split++) {
      const parts = parse(body, boundary, (offset) => (offset === 0 ? split : body.length));
      expect(hex(parts), `split at ${split}`).toEqual(trickyHex);
    }
  });

  it('reads the same parts one byte at a time and in odd-sized chunks', () => {
    expect(hex(parse(body, boundary, () => 1))).toEqual(trickyHex);
    for (const size of [2, 3, 7, 29, 30, 31, 64, 1000]) {
      expect(hex(parse(body, boundary, () => size)), `chunks of ${size}`).toEqual(trickyHex);
    }
  });

  it('ignores preamble, transport padding and epilogue', () => {
    const text = `preamble\r\n--${boundary}  \t\r\nContent-Type: application/dicom\r\nX-Folded: a\r\n b\r\n\r\nhello\r\n--${boundary}--\r\nepilogue --${boundary}\r\n`;
    const parts = parse(Buffer.from(text), boundary, () => 5);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.data.toString()).toBe('hello');
    expect(parts[0]!.headers['x-folded']).toBe('a b');
  });

  it('keeps memory bounded: a large part passes through without being held', () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x2d); // all '-' characters
    const parser = new MultipartParser(boundary);
    let seen = 0;
    const whole = multipartBody([{ contentType: 'application/dicom', data: big }], boundary);
    for (let offset = 0; offset < whole.length; offset += 65536) {
      for (const e of parser.write(whole.subarray(offset, offset + 65536))) {
        if (e.kind === 'part-data') {
          seen += e.data.length;
          expect(e.data.length).toBeLessThanOrEqual(65536 + boundary.length + 4);
        }
      }
    }
    parser.end();
    expect(seen).toBe(big.length);
  });

  it('rejects a body that ends before the close delimiter', () => {
    const cutShort = body.subarray(0, body.length - 10);
    expect(() => parse(cutShort, boundary, () => 100)).toThrow(MultipartError);
    expect(() => parse(Buffer.from('no parts here'), boundary, () => 4)).toThrow(
      /no multipart body parts/,
    );
  });

  it('rejects garbage after a delimiter and invalid boundaries', () => {
    expect(() => parse(Buffer.from(`--${boundary}x\r\n\r\n`), boundary, () => 3)).toThrow(
      MultipartError,
    );
    expect(() => new MultipartParser('')).toThrow(MultipartError);
    expect(() => new MultipartParser('a'.repeat(71))).toThrow(MultipartError);
  });
});

describe('parseMediaType', () => {
  it('reads type and quoted or bare parameters', () => {
    expect(parseMediaType('Multipart/Related; type="application/dicom"; boundary=abc')).toEqual({
      type: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'abc' },
    });
    expect(
      parseMediaType('multipart/related;boundary="a \\"b\\" c";type=application/dicom')?.params,
    ).toEqual({
      boundary: 'a "b" c',
      type: 'application/dicom',
    });
    expect(parseMediaType('not a type')).toBeUndefined();
  });
});
