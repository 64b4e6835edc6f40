/**
 * Streaming multipart/related parser (RFC 2046 §5.1.1, RFC 2387) for STOW-RS bodies (PS3.18 §8.6.1.2).
 *
 * Fed chunk by chunk; returns events whose `data` slices may point into the chunk just written, so a
 * caller must consume (write out) each slice before the next `write()`. Memory held between calls is
 * bounded by the header limit and the delimiter length, never by the size of a part.
 */

const CRLF = Buffer.from('\r\n');
const DOUBLE_CRLF = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

export type PartHeaders = Readonly<Record<string, string>>;

export type MultipartEvent =
  | { readonly kind: 'part-start'; readonly headers: PartHeaders }
  | { readonly kind: 'part-data'; readonly data: Buffer }
  | { readonly kind: 'part-end' };

export class MultipartError extends Error {
  readonly code = 'multipart-malformed';
}

type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done';

export class MultipartParser {
  /** "CRLF--boundary": every delimiter but the first is preceded by the CRLF that ends the previous part. */
  readonly #delimiter: Buffer;
  #state: State = 'preamble';
  /** Unconsumed bytes: at most a partial delimiter or a partial header block. */
  #pending: Buffer;
  #parts = 0;

  constructor(boundary: string) {
    if (!/^[0-9A-Za-z'()+_,\-./:=? ]{1,70}$/.test(boundary) || boundary.endsWith(' ')) {
      throw new MultipartError(`invalid multipart boundary ${JSON.stringify(boundary)}`);
    }
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    // A virtual CRLF lets the very first delimiter (at the start of the body) match like the others.
    this.#pending = Buffer.from(CRLF);
  }

  get parts(): number {
    return this.#parts;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  write(chunk: Uint8Array): MultipartEvent[] {
    const events: MultipartEvent[] = [];
    if (this.#state === 'done') return events; // the epilogue is ignored (RFC 2046)
    let buf =
      this.#pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.#pending, chunk]);
    let progressed = true;
    while (progressed) {
      progressed = false;
      switch (this.#state) {
        case 'preamble': {
          const at = buf.indexOf(this.#delimiter);
          if (at < 0) {
            buf = keepTail(buf, this.#delimiter.length - 1);
            break;
          }
          buf = buf.subarray(at + this.#delimiter.length);
          this.#state = 'after-delimiter';
          progressed = true;
          break;
        }
        case 'after-delimiter': {
          if (buf.length < 2) break;
          if (buf[0] === 0x2d && buf[1] === 0x2d) {
            this.#state = 'done';
            buf = Buffer.alloc(0);
            break;
          }
          // Transport padding (linear white space) may follow the boundary before its CRLF.
          let i = 0;
          while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
          if (i + 2 > buf.length) {
            if (i > 998) throw new MultipartError('boundary line too long');
            break;
          }
          if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) {
            throw new MultipartError('boundary delimiter not followed by CRLF');
          }
          buf = buf.subarray(i + 2);
          this.#state = 'headers';
          progressed = true;
          break;
        }
        case 'headers': {
          let headerBlock: Buffer | undefined;
          if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
            headerBlock = Buffer.alloc(0); // a part without headers
            buf = buf.subarray(2);
          } else {
            const end = buf.indexOf(DOUBLE_CRLF);
            if (end >= 0) {
              headerBlock = buf.subarray(0, end);
              buf = buf.subarray(end + 4);
            } else if (buf.length > MAX_HEADER_BYTES) {
              throw new MultipartError('part headers too long');
            }
          }
          if (headerBlock === undefined) break;
          this.#parts++;
          events.push({ kind: 'part-start', headers: parseHeaders(headerBlock) });
          this.#state = 'body';
          progressed = true;
          break;
        }
        case 'body': {
          const at = buf.indexOf(this.#delimiter);
          if (at < 0) {
            // Everything but a possible delimiter prefix at the end is part content.
            const safe = buf.length - (this.#delimiter.length - 1);
            if (safe > 0) {
              events.push({ kind: 'part-data', data: buf.subarray(0, safe) });
              buf = buf.subarray(safe);
            }
            break;
          }
          if (at > 0) events.push({ kind: 'part-data', data: buf.subarray(0, at) });
          events.push({ kind: 'part-end' });
          buf = buf.subarray(at + this.#delimiter.length);
          this.#state = 'after-delimiter';
          progressed = true;
          break;
        }
        case 'done':
          buf = Buffer.alloc(0);
          break;
      }
    }
    // Copy what is kept: the caller's chunk may be reused after this call returns.
    this.#pending = Buffer.from(buf);
    return events;
  }

  /** Call at the end of the body: throws when the close delimiter never came. */
  end(): void {
    if (this.#state !== 'done') {
      throw new MultipartError(
        this.#parts === 0 ? 'no multipart body parts found' : 'multipart body ended early',
      );
    }
  }
}

function keepTail(buf: Buffer, n: number): Buffer {
  return buf.length > n ? buf.subarray(buf.length - n) : buf;
}

function parseHeaders(block: Buffer): PartHeaders {
  const headers: Record<string, string> = {};
  if (block.length === 0) return headers;
  // Header folding (obsolete) is unfolded before splitting.
  const lines = block
    .toString('latin1')
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n');
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(`malformed part header line`);
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

export interface MediaType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses a Content-Type value (RFC 9110 §8.3.1) into its lower-cased type and its parameters. */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return undefined;
  const params: Record<string, string> = {};
  const re = /;\s*([A-Za-z0-9!#$&^_.+-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  const rest = semi < 0 ? '' : value.slice(semi);
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    const name = (m[1] ?? '').toLowerCase();
    params[name] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { type, params };
}
