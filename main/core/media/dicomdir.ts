import { Tag } from '../dicom/dictionary.ts';
import { parseDicom, type DicomDataset } from '../dicom/parse.ts';
import { getInteger, getItems, getText, getTexts } from '../dicom/values.ts';

/**
 * One directory record of a DICOMDIR (PS3.3 F.3.2.2, PS3.10 Basic Directory IOD). Keys are
 * the record's own copies of the header attributes; `children` follow the lower-level links.
 */
export interface DirectoryRecord {
  readonly type: string;
  /** Offset of the record's Item tag from the start of the file, as the links use. */
  readonly offset: number;
  readonly referencedFileId: readonly string[] | undefined;
  readonly referencedSopClassUid: string;
  readonly referencedSopInstanceUid: string;
  readonly referencedTransferSyntaxUid: string;
  readonly dataset: DicomDataset;
  readonly children: DirectoryRecord[];
}

export interface Dicomdir {
  readonly fileSetId: string;
  readonly roots: readonly DirectoryRecord[];
  readonly recordCount: number;
  /** How the hierarchy was found: the offsets, or the record order when they are unusable. */
  readonly linkedBy: 'offsets' | 'order';
  readonly transferSyntaxUid: string;
  /** The root dataset: its Specific Character Set applies to records without their own. */
  readonly root: DicomDataset;
}

/** Levels of the hierarchy (PS3.3 Table F.4-1); other types are leaves under SERIES. */
const levelOf = (type: string): number => {
  switch (type) {
    case 'PATIENT':
      return 0;
    case 'STUDY':
      return 1;
    case 'SERIES':
      return 2;
    default:
      return 3;
  }
};

/** Record types that sit at the root beside PATIENT (PS3.3 F.4). */
const rootLevelTypes: ReadonlySet<string> = new Set([
  'PATIENT',
  'HANGING PROTOCOL',
  'PALETTE',
  'TOPIC',
]);

function toRecord(item: DicomDataset): DirectoryRecord {
  const fileId = getTexts(item, Tag.ReferencedFileId);
  return {
    type: (getText(item, Tag.DirectoryRecordType) ?? '').toUpperCase(),
    offset: item.offset,
    referencedFileId: fileId.length > 0 ? fileId : undefined,
    referencedSopClassUid: getText(item, Tag.ReferencedSopClassUidInFile) ?? '',
    referencedSopInstanceUid: getText(item, Tag.ReferencedSopInstanceUidInFile) ?? '',
    referencedTransferSyntaxUid: getText(item, Tag.ReferencedTransferSyntaxUidInFile) ?? '',
    dataset: item,
    children: [],
  };
}

function isInUse(item: DicomDataset): boolean {
  // Record In-use Flag (0004,1410): 0x0000 marks an inactive record (retired, PS3.3 F.3.2.2).
  return getInteger(item, Tag.RecordInUseFlag) !== 0;
}

/**
 * Follows the offsets: root chain from (0004,1200), siblings by (0004,1400), children by
 * (0004,1420). When the root offset does not reach every record (a writer that reordered
 * records without fixing it), the roots are the chains no other record points into. Returns
 * undefined when the links are missing or inconsistent, so the caller falls back to the record
 * order (pydicom's "nooffset" variant, and discs from careless writers).
 */
function linkByOffsets(
  root: DicomDataset,
  items: readonly DicomDataset[],
): DirectoryRecord[] | undefined {
  const byOffset = new Map<number, { item: DicomDataset; record: DirectoryRecord }>();
  const pointedAt = new Set<number>();
  for (const item of items) {
    const next = getInteger(item, Tag.NextRecordOffset);
    const lower = getInteger(item, Tag.LowerLevelRecordOffset);
    if (next === undefined || lower === undefined) return undefined;
    if (next) pointedAt.add(next);
    if (lower) pointedAt.add(lower);
    byOffset.set(item.offset, { item, record: toRecord(item) });
  }
  for (const offset of pointedAt) if (!byOffset.has(offset)) return undefined;

  const visited = new Set<number>();
  const chain = (start: number): DirectoryRecord[] | undefined => {
    const records: DirectoryRecord[] = [];
    let offset = start;
    while (offset) {
      const entry = byOffset.get(offset);
      if (!entry || visited.has(offset)) return undefined;
      visited.add(offset);
      const lower = getInteger(entry.item, Tag.LowerLevelRecordOffset) ?? 0;
      if (lower) {
        const children = chain(lower);
        if (!children) return undefined;
        entry.record.children.push(...children);
      }
      if (isInUse(entry.item)) records.push(entry.record);
      offset = getInteger(entry.item, Tag.NextRecordOffset) ?? 0;
    }
    return records;
  };
  const first = getInteger(root, Tag.FirstRecordOffset) ?? 0;
  const heads = [...byOffset.keys()].filter((offset) => !pointedAt.has(offset));
  const starts = first && !pointedAt.has(first) && heads.length === 1 ? [first] : heads;
  const roots: DirectoryRecord[] = [];
  for (const start of starts) {
    const records = chain(start);
    if (!records) return undefined;
    roots.push(...records);
  }
  // Every record must be reachable; otherwise the links do not describe this file.
  return visited.size === items.length ? roots : undefined;
}

/** Builds the hierarchy from the order of the records when the offsets cannot be used. */
function linkByOrder(items: readonly DicomDataset[]): DirectoryRecord[] {
  const roots: DirectoryRecord[] = [];
  const stack: DirectoryRecord[] = [];
  for (const item of items) {
    if (!isInUse(item)) continue;
    const record = toRecord(item);
    const level = rootLevelTypes.has(record.type) ? 0 : levelOf(record.type);
    while (stack.length > 0 && levelOf(stack[stack.length - 1]!.type) >= level) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(record);
    else roots.push(record);
    if (level < 3) stack.push(record);
  }
  return roots;
}

/** Reads a DICOMDIR file's bytes (PS3.10 8, PS3.3 F). Throws DicomParseError when unreadable. */
export function readDicomdir(bytes: Uint8Array): Dicomdir {
  const parsed = parseDicom(bytes);
  const root = parsed.dataset;
  const items = getItems(root, Tag.DirectoryRecordSequence);
  const linked = linkByOffsets(root, items);
  return {
    fileSetId: getText(root, Tag.FileSetId) ?? '',
    roots: linked ?? linkByOrder(items),
    recordCount: items.length,
    linkedBy: linked ? 'offsets' : 'order',
    transferSyntaxUid: parsed.transferSyntaxUid,
    root,
  };
}
