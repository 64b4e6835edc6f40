/**
 * The instances of a series repeat one header but for a few values (SOP Instance UID, Instance
 * Number, position, times): checking all of it again costs more than the scan's reading of it.
 * This memo keeps the last fully checked header of a SOP class (its bytes, where each top-level
 * element lies) and its findings. The next header is compared with it, four bytes at a time;
 * when the only bytes that differ are the values of elements no rule reads beyond the element's
 * own checks (or their length fields), only those elements are checked, and the findings are
 * the remembered ones. The scan then needs to parse only its own attributes of the header (see
 * ScanOptions.instanceHeadersOnly): the whole dataset is parsed for a header that is not reused.
 *
 * Why that is exact: every finding of checkInstance is a function of the header's bytes (the
 * meta information and the dataset up to the Pixel Data element's header); the parser reads no
 * value but Transfer Syntax UID, Specific Character Set, and sequences and UN values, which
 * never differ here. An element that may differ ("free") is one whose value the rules only
 * check on its own (VR, VM, length) or test for emptiness: its emptiness must be as before, its
 * own checks must find nothing (as they found nothing before), and the SOP Instance UIDs of meta
 * and dataset must still agree or disagree as before. Anything else that differs (a sequence,
 * an attribute a condition, an enumeration or the pixel rules read, the layout itself) sends
 * the instance through every rule, and its result becomes the one remembered.
 *
 * One memo lives as long as one validation run (InstanceMemo), never longer: the bytes are a
 * patient's.
 */
import { Tag } from '../dicom/dictionary.ts';
import type { DicomDataset, DicomElement, ParsedDicom } from '../dicom/parse.ts';
import type { PassedValues } from './byte-memo.ts';
import type { InstanceFinding } from './instance-rules.ts';
import type { ResolvedIod } from './iods.ts';
import {
  checkTopLevelElement,
  isEmptyValue,
  ValueProblems,
  type ValueCheckContext,
} from './values.ts';

/**
 * Attributes whose values rules other than the element's own checks read, in every IOD: the
 * parser's (Transfer Syntax UID, Specific Character Set), the SOP class (it selects the IOD),
 * and the pixel description (PS3.3 C.7.6.3). An IOD's enumerations and value conditions add
 * theirs (readTags).
 */
const valuesReadEverywhere: readonly number[] = [
  Tag.MediaStorageSopClassUid,
  Tag.TransferSyntaxUid,
  Tag.SpecificCharacterSet,
  Tag.SopClassUid,
  Tag.SamplesPerPixel,
  Tag.PhotometricInterpretation,
  Tag.NumberOfFrames,
  Tag.Rows,
  Tag.Columns,
  0x00280006, // Planar Configuration
  0x00280100, // Bits Allocated
  0x00280101, // Bits Stored
  0x00280102, // High Bit
  0x00280103, // Pixel Representation
  0x00280301, // Burned In Annotation
];

/** Per IOD (ResolvedIod.index): the tags whose values its rules read. */
const readTagsByIod: Array<ReadonlySet<number> | undefined> = [];
function readTags(iod: ResolvedIod): ReadonlySet<number> {
  let tags = readTagsByIod[iod.index];
  if (tags === undefined) {
    const set = new Set(valuesReadEverywhere);
    for (const enumeration of iod.enumerations) set.add(enumeration.tag);
    for (const conditional of iod.conditionals) {
      for (const condition of conditional.when) {
        if (condition.kind === 'equals' || condition.kind === 'above') set.add(condition.tag);
      }
    }
    tags = set;
    readTagsByIod[iod.index] = tags;
  }
  return tags;
}

/** What the full check of a header tells the memo besides its findings. */
export interface CheckedHeader {
  readonly iod: ResolvedIod;
  readonly findings: readonly InstanceFinding[];
  readonly problems: ValueProblems;
  readonly context: ValueCheckContext;
  /** sameValue of the meta's and the dataset's SOP Instance UIDs (undefined without meta). */
  readonly sopInstanceUidsAgree: boolean | undefined;
}

const UNDEFINED_LENGTH = 0xffffffff;
/** Int32Array words are in the platform's byte order; the shifted comparison assumes little. */
const littleEndianPlatform = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class HeaderMemo {
  /** Bytes of the largest header remembered. */
  static readonly largestHeader = 256 * 1024;
  private valid = false;
  /** The remembered header's bytes, [0, end), and the same as 32-bit words. */
  private bytes = Buffer.alloc(0);
  private words = new Int32Array(0);
  private view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  private end = 0;
  /**
   * Top-level elements of meta and dataset, in file order, where they lie in the remembered
   * header (after a reuse, in the header reused for).
   */
  private count = 0;
  private headerStart: number[] = [];
  private valueStart: number[] = [];
  private valueEnd: number[] = [];
  private tags: number[] = [];
  private vrs: string[] = [];
  /** 1 for an element of the meta information, 0 for one of the dataset. */
  private inMeta = new Uint8Array(0);
  /** 1 where the value may differ (see the file's comment). */
  private free = new Uint8Array(0);
  /** 1 where the value is empty (PS3.5 7.4): a free element must stay as it was. */
  private empty = new Uint8Array(0);
  /** 1 for a sequence or an element of undefined length. */
  private structured = new Uint8Array(0);
  /**
   * Where a free element's length field lies after its first byte (4, 6 or 8) and its size in
   * bytes (2 or 4), as the parser read it (PS3.5 7.1.1-7.1.3); 0 when it may not change.
   */
  private lengthAt = new Uint8Array(0);
  private lengthSize = new Uint8Array(0);
  /** Dataset elements by tag, for the facts read from a header kept only in part. */
  private indexOfTag = new Map<number, number>();
  private findings: readonly InstanceFinding[] = [];
  /** The remembered header has no meta information (a raw dataset). */
  private metaless = true;
  private datasetLittleEndian = true;
  private sopInstanceUidsAgree: boolean | undefined = undefined;
  /** For the checks of the elements that differ (see reuse). */
  private context: ValueCheckContext = newContext(true, undefined);
  private readonly element: Mutable<DicomElement> = {
    tag: 0,
    vr: '',
    offset: 0,
    valueOffset: 0,
    length: 0,
    undefinedLength: false,
  };
  /**
   * Scratch for one pass over the next header: the elements that differ, their lengths in it,
   * and how far its bytes are ahead of the remembered ones before and after each.
   */
  private readonly changed: number[] = [];
  private readonly lengths: number[] = [];
  private readonly shiftsBefore: number[] = [];
  private readonly shiftsAfter: number[] = [];
  private currentBuffer: ArrayBufferLike | undefined;
  private currentWords: Int32Array | undefined;
  private viewBuffer: ArrayBufferLike | undefined;
  private currentView: DataView | undefined;

  /**
   * The remembered findings when `parsed` differs from the remembered header only in free
   * elements, which pass their own checks; undefined otherwise (run every rule, then remember).
   * `parsed` may hold only some of its attributes (the scan's header-only parse): the elements
   * that differ are found from the remembered layout, and every element is still read by the
   * parser. `sopInstanceUidsAgree` is sameValue of its meta's and its dataset's SOP Instance UIDs.
   * The elements that differ are checked with the context of the full check (its passed values).
   */
  reuse(
    parsed: ParsedDicom,
    sopInstanceUidsAgree: boolean | undefined,
  ): readonly InstanceFinding[] | undefined {
    if (!this.valid || parsed.anomalies.length > 0) return undefined;
    const ds = parsed.dataset;
    const meta = parsed.meta;
    if ((meta === undefined) !== this.metaless || ds.littleEndian !== this.datasetLittleEndian) {
      return undefined;
    }
    if (meta !== undefined && meta.bytes !== ds.bytes) return undefined;
    if (sopInstanceUidsAgree !== this.sopInstanceUidsAgree) return undefined;
    const end = headerEnd(parsed);
    const current = ds.bytes;
    const remembered = this.bytes;
    const rememberedEnd = this.end;
    const changed = this.changed;
    const lengths = this.lengths;
    const shiftsBefore = this.shiftsBefore;
    const shiftsAfter = this.shiftsAfter;
    changed.length = 0;
    lengths.length = 0;
    shiftsBefore.length = 0;
    shiftsAfter.length = 0;
    let shift = 0;
    let resized = false;
    let position = 0;
    let element = 0;
    const count = this.count;
    for (;;) {
      const limit = Math.min(rememberedEnd, current.length - shift);
      const at = this.firstDifference(current, position, shift, limit);
      if (at >= rememberedEnd) break;
      if (at >= limit) return undefined;
      while (element < count && this.valueEnd[element]! <= at) element++;
      if (element === count || at < this.headerStart[element]! || this.free[element] !== 1) {
        return undefined;
      }
      const headerStart = this.headerStart[element]!;
      const valueStart = this.valueStart[element]!;
      let length = this.valueEnd[element]! - valueStart;
      shiftsBefore.push(shift);
      if (at < valueStart) {
        // Its header differs: only its length field may, read as the parser reads it.
        const lengthAt = this.lengthAt[element]!;
        const lengthEnd = lengthAt + this.lengthSize[element]!;
        if (lengthAt === 0) return undefined;
        for (let i = at - headerStart; i < valueStart - headerStart; i++) {
          if (
            (i < lengthAt || i >= lengthEnd) &&
            remembered[headerStart + i] !== current[headerStart + shift + i]
          ) {
            return undefined;
          }
        }
        const littleEndian = this.inMeta[element] === 1 || this.datasetLittleEndian;
        const field = headerStart + shift + lengthAt;
        length =
          this.lengthSize[element] === 2
            ? readUint16(current, field, littleEndian)
            : readUint32(current, field, littleEndian);
        if (length === UNDEFINED_LENGTH) return undefined;
        const grown = length - (this.valueEnd[element]! - valueStart);
        if (grown !== 0) resized = true;
        shift += grown;
      }
      changed.push(element);
      lengths.push(length);
      shiftsAfter.push(shift);
      position = this.valueEnd[element]!;
      element++;
    }
    if (end !== rememberedEnd + shift) return undefined;

    // The elements that differ: as empty as before, and passing their own checks. One element
    // object and one context serve every instance: a check that finds anything ends the reuse,
    // and the full check that follows makes them anew (remember).
    const context = this.context;
    const found = this.element;
    for (let i = 0; i < changed.length; i++) {
      const index = changed[i]!;
      const dataset = this.inMeta[index] === 1 ? meta! : ds;
      const shiftBefore = shiftsBefore[i]!;
      found.tag = this.tags[index]!;
      found.vr = this.vrs[index]!;
      found.offset = this.headerStart[index]! + shiftBefore;
      found.valueOffset = this.valueStart[index]! + shiftBefore;
      found.length = lengths[i]!;
      if (isEmptyValue(dataset, found) !== (this.empty[index] === 1)) return undefined;
      checkTopLevelElement(dataset, found, context);
      if (context.problems.reported > 0 || context.nonAsciiWithoutCharset) return undefined;
    }
    this.follow(current, end, resized);
    return this.findings;
  }

  /**
   * After a reuse, a top-level element of the dataset as a plain value (undefined when absent,
   * a sequence or of undefined length), for the facts a header-only parse does not keep. The
   * object is reused by the next call: read it at once.
   */
  plainElement(tag: number): DicomElement | undefined {
    const index = this.indexOfTag.get(tag);
    if (index === undefined || this.structured[index] === 1) return undefined;
    const element = this.element;
    element.tag = tag;
    element.vr = this.vrs[index]!;
    element.offset = this.headerStart[index]!;
    element.valueOffset = this.valueStart[index]!;
    element.length = this.valueEnd[index]! - this.valueStart[index]!;
    return element;
  }

  /**
   * The first position from `start` on where the remembered bytes and `current` (`shift` bytes
   * ahead) differ, `limit` when none does: four bytes at a time (most of a header is equal),
   * as aligned words where both line up.
   */
  private firstDifference(
    current: Uint8Array,
    start: number,
    shift: number,
    limit: number,
  ): number {
    const remembered = this.bytes;
    let at = start;
    const offset = current.byteOffset + shift;
    const aligned = (offset & 3) === 0;
    if (aligned || (littleEndianPlatform && offset > 0)) {
      while (at < limit && (at & 3) !== 0) {
        if (remembered[at] !== current[at + shift]) return at;
        at++;
      }
      if (current.buffer !== this.currentBuffer) {
        this.currentBuffer = current.buffer;
        this.currentWords = new Int32Array(current.buffer, 0, current.buffer.byteLength >>> 2);
      }
      const words = this.currentWords!;
      const rememberedWords = this.words;
      const base = offset >>> 2;
      let word = at >>> 2;
      const wordLimit = limit >>> 2;
      if (aligned) {
        // Sixteen bytes per test while they are all equal, then word by word to the difference.
        while (
          word + 4 <= wordLimit &&
          ((rememberedWords[word]! ^ words[word + base]!) |
            (rememberedWords[word + 1]! ^ words[word + base + 1]!) |
            (rememberedWords[word + 2]! ^ words[word + base + 2]!) |
            (rememberedWords[word + 3]! ^ words[word + base + 3]!)) ===
            0
        ) {
          word += 4;
        }
        while (word < wordLimit && rememberedWords[word] === words[word + base]) word++;
      } else {
        // Shifted by a length that changed (by 2 bytes, mostly): each word of the current
        // header is put together from the two aligned words it straddles. A word past the end
        // of the buffer reads as undefined (0): the byte loop below finishes.
        const low = (offset & 3) * 8;
        const high = 32 - low;
        while (
          word < wordLimit &&
          rememberedWords[word] ===
            ((words[word + base]! >>> low) | (words[word + base + 1]! << high))
        ) {
          word++;
        }
      }
      at = word << 2;
    } else {
      // Shifted, on a big-endian platform (or reaching before the buffer): unaligned reads.
      if (current.buffer !== this.viewBuffer) {
        this.viewBuffer = current.buffer;
        this.currentView = new DataView(current.buffer);
      }
      const view = this.currentView!;
      const rememberedView = this.view;
      while (
        at + 4 <= limit &&
        rememberedView.getInt32(at, true) === view.getInt32(at + offset, true)
      ) {
        at += 4;
      }
    }
    while (at < limit && remembered[at] === current[at + shift]) at++;
    return at;
  }

  /**
   * After a reuse where lengths changed: the header remembered becomes this one (the same
   * elements with the same verdicts), so that the elements after a change line up again.
   * Without a change in length the remembered bytes stay: the values that differ are checked
   * again next time either way, and most of them differ in every instance.
   */
  private follow(current: Uint8Array, end: number, resized: boolean): void {
    if (!resized) return;
    const changed = this.changed;
    // Lengths changed: copy it all and move the elements after each change.
    this.copy(current, end);
    let moved = 0;
    let next = 0;
    for (let index = 0; index < this.count; index++) {
      this.headerStart[index]! += moved;
      this.valueStart[index]! += moved;
      if (next < changed.length && changed[next] === index) {
        moved = this.shiftsAfter[next]!;
        next++;
      }
      this.valueEnd[index]! += moved;
    }
  }

  /** Remembers a header that went through every rule (`parsed` holds the whole dataset). */
  remember(parsed: ParsedDicom, checked: CheckedHeader): void {
    this.valid = false;
    const ds = parsed.dataset;
    const meta = parsed.meta;
    const context = checked.context;
    const problemTags = checked.problems.tags;
    if (
      checked.iod.family === 'sr' ||
      // A header full of faults is not worth remembering (nor searching its list per element).
      (problemTags !== undefined && problemTags.length > 64) ||
      parsed.anomalies.length > 0 ||
      context.outOfOrder === true ||
      context.nonAsciiWithoutCharset === true ||
      (meta !== undefined && meta.bytes !== ds.bytes)
    ) {
      return;
    }
    const end = headerEnd(parsed);
    // One copy per SOP class is kept: headers with large values (overlays, private blobs) are
    // checked in full each time rather than held.
    if (end > HeaderMemo.largestHeader) return;
    const count = (meta?.elements.size ?? 0) + ds.elements.size;
    if (this.free.length < count) {
      const size = Math.max(count, this.free.length * 2);
      this.inMeta = new Uint8Array(size);
      this.free = new Uint8Array(size);
      this.empty = new Uint8Array(size);
      this.structured = new Uint8Array(size);
      this.lengthAt = new Uint8Array(size);
      this.lengthSize = new Uint8Array(size);
    }
    const readByRules = readTags(checked.iod);
    const bytes = ds.bytes;
    const indexOfTag = new Map<number, number>();
    let index = 0;
    let previousEnd = 0;
    const add = (dataset: DicomDataset, element: DicomElement, isMeta: boolean): boolean => {
      const valueEnd = element.valueOffset + element.length;
      if (element.offset < previousEnd || valueEnd > end) return false;
      previousEnd = valueEnd;
      this.headerStart[index] = element.offset;
      this.valueStart[index] = element.valueOffset;
      this.valueEnd[index] = valueEnd;
      this.tags[index] = element.tag;
      this.vrs[index] = element.vr;
      this.inMeta[index] = isMeta ? 1 : 0;
      if (!isMeta) indexOfTag.set(element.tag, index);
      const structured = element.items !== undefined || element.undefinedLength;
      this.structured[index] = structured ? 1 : 0;
      let free =
        !structured &&
        element.vr !== 'SQ' &&
        element.vr !== 'UN' &&
        !readByRules.has(element.tag) &&
        (problemTags === undefined || !problemTags.includes(element.tag));
      // Where the parser read its length (PS3.5 7.1.1-7.1.3): explicit VR with a 4-byte length,
      // explicit VR with a 2-byte one (its VR's letters before it), or implicit VR.
      let lengthAt = 0;
      let lengthSize = 0;
      if (free) {
        const littleEndian = dataset.littleEndian;
        const at = element.offset;
        const headerSize = element.valueOffset - at;
        if (headerSize === 12 && readUint32(bytes, at + 8, littleEndian) === element.length) {
          lengthAt = 8;
          lengthSize = 4;
        } else if (
          headerSize === 8 &&
          bytes[at + 4] === element.vr.charCodeAt(0) &&
          bytes[at + 5] === element.vr.charCodeAt(1) &&
          readUint16(bytes, at + 6, littleEndian) === element.length
        ) {
          lengthAt = 6;
          lengthSize = 2;
        } else if (headerSize === 8 && readUint32(bytes, at + 4, littleEndian) === element.length) {
          lengthAt = 4;
          lengthSize = 4;
        } else {
          free = false;
        }
      }
      this.free[index] = free ? 1 : 0;
      this.lengthAt[index] = lengthAt;
      this.lengthSize[index] = lengthSize;
      this.empty[index] = isEmptyValue(dataset, element) ? 1 : 0;
      index++;
      return true;
    };
    if (meta !== undefined) {
      for (const element of meta.elements.values()) if (!add(meta, element, true)) return;
    }
    for (const element of ds.elements.values()) if (!add(ds, element, false)) return;
    this.count = index;
    this.indexOfTag = indexOfTag;
    this.metaless = meta === undefined;
    this.datasetLittleEndian = ds.littleEndian;
    this.copy(bytes, end);
    this.findings = checked.findings;
    this.sopInstanceUidsAgree = checked.sopInstanceUidsAgree;
    this.context = newContext(context.explicitVr, context.passed);
    this.valid = true;
  }

  private copy(current: Uint8Array, end: number): void {
    if (this.bytes.length < end) {
      // Its own memory (Buffer.alloc never pools): offset 0, so its words line up.
      this.bytes = Buffer.alloc(Math.max(end + 3, this.bytes.length * 2) & ~3);
      this.words = new Int32Array(
        this.bytes.buffer,
        this.bytes.byteOffset,
        this.bytes.length >>> 2,
      );
      this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    }
    this.bytes.set(current.subarray(0, end));
    this.end = end;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function newContext(explicitVr: boolean, passed: PassedValues | undefined): ValueCheckContext {
  return {
    explicitVr,
    problems: new ValueProblems(),
    uidOnly: false,
    outOfOrder: false,
    nonAsciiWithoutCharset: false,
    passed,
    type1Present: 0,
    type2Present: 0,
  };
}

/**
 * Where the bytes the rules see end: after the Pixel Data element's header (its length and
 * encoding are checked), or the end of the dataset without one.
 */
function headerEnd(parsed: ParsedDicom): number {
  return parsed.pixelData !== undefined ? parsed.pixelData.valueOffset : parsed.headerBytes;
}

function readUint16(bytes: Uint8Array, at: number, littleEndian: boolean): number {
  return littleEndian ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!;
}

function readUint32(bytes: Uint8Array, at: number, littleEndian: boolean): number {
  return littleEndian
    ? (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
    : ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
