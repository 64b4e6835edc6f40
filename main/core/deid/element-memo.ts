/**
 * What the profile did to each top-level attribute of the instances de-identified so far, kept
 * so that the next instance of the series reuses it when its attribute holds the same bytes.
 *
 * The instances of a series repeat nearly all of their header: the same patient, study, series,
 * equipment and acquisition attributes, byte for byte; only a handful (SOP Instance UID, Instance
 * Number, position, times) differ. Working each repeated attribute out again (profile lookup,
 * action resolved by type, text decoded for the preview, UID hashed, change recorded) was most of
 * the cost of de-identifying a disc. An entry is reused only when everything its result depends
 * on is equal:
 * - the attribute's own VR, length and value bytes (compared in full, never hashed);
 * - the context: the options, the IOD (types decide combined actions), whether the instance
 *   lists references, the patient's date offset, the byte order and the character set (text is
 *   decoded and re-encoded with it), and, for a private attribute, its block's Private Creator.
 * The HMAC key is the memo's key, so UIDs replaced under one key are never reused under another.
 * A result that depended on anything else (free text cleaned against the instance's identifiers,
 * sequences, whose items are transformed with their own rules) is never stored. A kept attribute
 * is stored as "keep", never as a reference to another instance's bytes: each instance's output
 * points at its own source.
 */
import type { DicomDataset, DicomElement } from '../dicom/parse.ts';
import type { OutputElement } from '../dicom/write.ts';
import type { AttributeChange } from './engine.ts';

export type MemoResult =
  /** Removed: nothing written. */
  | { readonly kind: 'removed' }
  /** Kept as it is: the instance's own source bytes are written. */
  | { readonly kind: 'keep' }
  /** Replaced by bytes the profile made (dummy, empty, new UID, shifted date), or an empty sequence. */
  | { readonly kind: 'output'; readonly output: OutputElement };

export interface MemoEntry {
  readonly vr: string;
  readonly undefinedLength: boolean;
  readonly value: Uint8Array;
  readonly creator: string | undefined;
  readonly result: MemoResult;
  readonly changes: readonly AttributeChange[];
}

/**
 * Bounds: values longer than maxValueBytes are not kept (comparing and holding them would cost
 * more than it saves); at most 32 contexts of 1,024 attributes, so the memo of one key (one
 * upload, one run of the CLI) holds a few megabytes at the very most, whatever the disc.
 */
const maxValueBytes = 256;
const maxEntriesPerContext = 1024;
const maxContexts = 32;

export class ElementMemo {
  private readonly contexts = new Map<string, MemoContext>();

  /** The entries of one context, made on first use; the oldest context goes when there are too many. */
  context(key: string): MemoContext {
    let context = this.contexts.get(key);
    if (!context) {
      if (this.contexts.size >= maxContexts) {
        const oldest = this.contexts.keys().next().value;
        if (oldest !== undefined) this.contexts.delete(oldest);
      }
      context = new MemoContext();
      this.contexts.set(key, context);
    }
    return context;
  }
}

/** The entries of one context, by tag. */
export class MemoContext {
  private readonly entries = new Map<number, MemoEntry>();

  /** The stored entry when the element's VR, length and bytes (and private creator) match it. */
  find(
    dataset: DicomDataset,
    element: DicomElement,
    creator: string | undefined,
  ): MemoEntry | undefined {
    const entry = this.entries.get(element.tag);
    if (
      entry === undefined ||
      entry.vr !== element.vr ||
      entry.undefinedLength !== element.undefinedLength ||
      entry.value.length !== element.length ||
      entry.creator !== creator
    ) {
      return undefined;
    }
    const bytes = dataset.bytes;
    const value = entry.value;
    const start = element.valueOffset;
    for (let i = 0; i < value.length; i++) {
      if (bytes[start + i] !== value[i]) return undefined;
    }
    return entry;
  }

  /** Stores an element's result (a copy of its value bytes), when it is small enough to be worth it. */
  store(
    dataset: DicomDataset,
    element: DicomElement,
    creator: string | undefined,
    result: MemoResult,
    changes: readonly AttributeChange[],
  ): void {
    if (
      element.length > maxValueBytes ||
      element.valueOffset + element.length > dataset.bytes.length
    )
      return;
    if (!this.entries.has(element.tag) && this.entries.size >= maxEntriesPerContext) return;
    this.entries.set(element.tag, {
      vr: element.vr,
      undefinedLength: element.undefinedLength,
      // A copy (Buffer's slice would alias the source, which the caller may reuse for the next file).
      value: new Uint8Array(
        dataset.bytes.subarray(element.valueOffset, element.valueOffset + element.length),
      ),
      creator,
      result,
      changes,
    });
  }
}

const memos = new WeakMap<Uint8Array, ElementMemo>();

/** The memo of a key: shared by every instance de-identified under the same key object. */
export function elementMemoFor(key: Uint8Array): ElementMemo {
  let memo = memos.get(key);
  if (!memo) {
    memo = new ElementMemo();
    memos.set(key, memo);
  }
  return memo;
}
