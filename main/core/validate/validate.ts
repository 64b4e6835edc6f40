/**
 * Validation: the scan's findings (unreadable, truncated, DICOMDIR versus files) plus the rules
 * of this folder, as one list of findings with a plain-language message each (docs/validation.md).
 *
 * Speed: the instance rules run on the header the scan already parsed (`scanAndValidate` hands
 * them to the scan as `onInstanceHeader`), so validating reads no file a second time; only files
 * that share a SOP Instance UID are read whole, to tell identical copies from conflicts. The scan
 * keeps only its own attributes of each header; the whole dataset is parsed from the same bytes
 * only for a header unlike the one before it (header-memo.ts), as the first of each series.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { ParsedDicom } from '../dicom/parse.ts';
import {
  findingCatalog,
  makeFinding,
  type Finding,
  type FindingCode,
  type Severity,
} from '../findings.ts';
import type { MediaInstance, ScanResult } from '../media/model.ts';
import { readFileHead, readStreamHead, type HeadRead } from '../media/read-head.ts';
import { nextZipEntry } from '../media/zip.ts';
import { scanMedia, type ScanOptions } from '../media/scan.ts';
import { forEachLimit, throwIfAborted } from '../util/pool.ts';
import { InstanceMemo } from './byte-memo.ts';
import type { ExpectedPatient } from './identity.ts';
import { checkInstance, type InstanceFacts, type InstanceReport } from './instance-rules.ts';
import {
  completenessFindings,
  hierarchyFindings,
  identityFindings,
  type MediaFinding,
} from './media-rules.ts';

export interface ValidateOptions {
  /** The person the upload link was made for; without it there is no identity check. */
  readonly expectedPatient?: ExpectedPatient;
  /** Reports collected during the scan (`InstanceChecks.onInstanceHeader`); missing ones are read. */
  readonly checks?: InstanceChecks;
  readonly signal?: AbortSignal;
  readonly concurrency?: number;
}

export interface ValidationSummary {
  readonly instances: number;
  readonly errors: number;
  readonly warnings: number;
  readonly infos: number;
  /** Files not sent because of an error finding (until resolved or confirmed). */
  readonly blockedFiles: number;
  /** Extra identical copies, not sent a second time. */
  readonly duplicateFiles: number;
}

export interface ValidationResult {
  readonly scan: ScanResult;
  /** The scan's findings and validation's, errors first, each code's files grouped. */
  readonly findings: readonly Finding[];
  readonly summary: ValidationSummary;
  /** Paths (relative to the media root) of files an error finding concerns. */
  readonly blockedPaths: readonly string[];
  /** Identical copies to skip when sending: every copy but the first of each SOP Instance UID. */
  readonly duplicatePaths: readonly string[];
  /** The images may not belong to the link's patient: the user must confirm before sending. */
  readonly needsConfirmation: boolean;
}

/** Collects instance reports while the scan reads headers. */
export class InstanceChecks {
  readonly reports = new Map<string, InstanceReport>();
  /** Values repeated from one instance to the next, read once (byte-memo.ts); this run only. */
  readonly texts = new InstanceMemo();
  /** The scan may hand over its header-only parse: `whole` is asked when the rules need more. */
  readonly instanceHeadersOnly = true;

  /**
   * Pass as the scan's `onInstanceHeader`, with `instanceHeadersOnly`: the rules ask for the
   * whole dataset only for a header unlike the one before (header-memo.ts).
   */
  readonly onInstanceHeader = (
    relPath: string,
    parsed: ParsedDicom,
    fileSize: number,
    whole?: () => ParsedDicom,
  ): void => {
    this.reports.set(relPath, checkInstance(relPath, parsed, fileSize, this.texts, whole));
  };
}

/** Scans `target` and validates it in one pass over the headers. */
export async function scanAndValidate(
  target: string,
  options: Omit<ScanOptions, 'onInstanceHeader' | 'instanceHeadersOnly'> &
    Omit<ValidateOptions, 'checks'> = {},
): Promise<ValidationResult> {
  const checks = new InstanceChecks();
  const scan = await scanMedia(target, {
    ...options,
    verify: true,
    onInstanceHeader: checks.onInstanceHeader,
    instanceHeadersOnly: true,
  });
  return validateMedia(scan, { ...options, checks });
}

const severityRank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Validates a scanned disc: per-instance rules, then the disc-wide ones. */
export async function validateMedia(
  scan: ScanResult,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const reports = options.checks?.reports ?? new Map<string, InstanceReport>();
  // Plain loops: flatMap and filter over a disc's instances cost more than the rules on them.
  const instances: MediaInstance[] = [];
  const unread: MediaInstance[] = [];
  for (const patient of scan.patients) {
    for (const study of patient.studies) {
      for (const series of study.series) {
        for (const instance of series.instances) {
          instances.push(instance);
          if (!reports.has(instance.path)) unread.push(instance);
        }
      }
    }
  }
  const readFailures: MediaFinding[] = [];
  if (unread.length > 0)
    await readMissingReports(scan.root, unread, reports, readFailures, options);
  throwIfAborted(options.signal);

  // Findings of one code and detail are one finding listing every file (by code, then detail).
  type Group = { code: FindingCode; detail?: string; paths: string[] };
  const grouped = new Map<FindingCode, Map<string, Group>>();
  const groupOf = (code: FindingCode, detail: string | undefined): Group => {
    let byDetail = grouped.get(code);
    if (!byDetail) grouped.set(code, (byDetail = new Map()));
    let group = byDetail.get(detail ?? '');
    if (!group) {
      group = { code, ...(detail !== undefined ? { detail } : {}), paths: [] };
      byDetail.set(detail ?? '', group);
    }
    return group;
  };
  const facts: InstanceFacts[] = [];
  for (const instance of instances) {
    const report = reports.get(instance.path);
    if (!report) continue;
    facts.push(report.facts);
    for (const finding of report.findings)
      groupOf(finding.code, finding.detail).paths.push(instance.path);
  }

  const duplicates = await duplicateFindings(scan.root, instances, facts, options);
  const mediaFindings: MediaFinding[] = [
    ...readFailures,
    ...duplicates.findings,
    ...hierarchyFindings(scan),
    ...completenessFindings(facts),
    ...(options.expectedPatient ? identityFindings(scan, options.expectedPatient) : []),
  ];
  for (const finding of mediaFindings)
    groupOf(finding.code, finding.detail).paths.push(...finding.paths);

  const validation = [...grouped.values()].flatMap((byDetail) =>
    [...byDetail.values()].map((entry) =>
      makeFinding(entry.code, [...new Set(entry.paths)].sort(), entry.detail),
    ),
  );
  const findings = [...scan.findings, ...validation].sort(
    (a, b) =>
      severityRank[a.severity] - severityRank[b.severity] ||
      a.code.localeCompare(b.code) ||
      (a.paths[0] ?? '').localeCompare(b.paths[0] ?? ''),
  );
  const blocked = new Set<string>();
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  for (const finding of findings) {
    if (finding.severity === 'error') {
      errors++;
      if (finding.code !== 'dicomdir-missing-file') for (const p of finding.paths) blocked.add(p);
    } else if (finding.severity === 'warning') warnings++;
    else infos++;
  }
  return {
    scan,
    findings,
    summary: {
      instances: instances.length,
      errors,
      warnings,
      infos,
      blockedFiles: blocked.size,
      duplicateFiles: duplicates.skip.length,
    },
    blockedPaths: [...blocked].sort(),
    duplicatePaths: duplicates.skip,
    needsConfirmation: findings.some((finding) => finding.code === 'patient-mismatch'),
  };
}

/** The catalogue's severity of a code (for callers that hold only codes). */
export function severityOf(code: FindingCode): Severity {
  return findingCatalog[code].severity;
}

// ---------------------------------------------------------------------------------------------
// Headers the scan did not hand over (a scan run without the hook, or with verify off)

const ZIP_SEPARATOR = '!/';

async function readMissingReports(
  root: string,
  instances: readonly MediaInstance[],
  reports: Map<string, InstanceReport>,
  failures: MediaFinding[],
  options: ValidateOptions,
): Promise<void> {
  const plain: MediaInstance[] = [];
  const byArchive = new Map<string, Map<string, MediaInstance>>();
  for (const instance of instances) {
    const split = instance.path.indexOf(ZIP_SEPARATOR);
    if (split < 0) {
      plain.push(instance);
      continue;
    }
    const archive = instance.path.slice(0, split);
    const entries = byArchive.get(archive) ?? new Map<string, MediaInstance>();
    byArchive.set(archive, entries);
    entries.set(instance.path.slice(split + ZIP_SEPARATOR.length), instance);
  }
  const texts = new InstanceMemo();
  const judge = (instance: MediaInstance, head: HeadRead): void => {
    const read = head.read;
    if (read.kind === 'dicom') {
      reports.set(instance.path, checkInstance(instance.path, read.parsed, head.size, texts));
    } else {
      const code =
        read.kind === 'malformed' && read.code !== 'truncated'
          ? 'malformed-file'
          : 'truncated-file';
      failures.push({
        code,
        detail: read.kind === 'malformed' ? read.message : read.kind,
        paths: [instance.path],
      });
    }
  };
  await forEachLimit(
    plain,
    options.concurrency ?? 8,
    async (instance) => {
      try {
        judge(instance, await readFileHead(path.join(root, instance.path)));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        failures.push({
          code: 'unreadable-file',
          detail: code ? `system error ${code}` : 'read error',
          paths: [instance.path],
        });
      }
    },
    options.signal,
  );
  for (const [archive, entries] of byArchive) {
    await forEachZipEntry(
      path.join(root, archive),
      new Set(entries.keys()),
      async (name, stream, size) => {
        judge(entries.get(name)!, await readStreamHead(stream, size));
      },
    ).catch((error: unknown) => {
      failures.push({ code: 'zip-unreadable', detail: (error as Error).message, paths: [archive] });
    });
  }
}

type EntryVisitor = (name: string, stream: Readable, size: number) => Promise<void>;

/** Opens the wanted entries of a zip one after another, in archive order. */
async function forEachZipEntry(
  zipPath: string,
  wanted: ReadonlySet<string>,
  visit: EntryVisitor,
): Promise<void> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false });
  try {
    for (;;) {
      const entry = await nextZipEntry(zip);
      if (!entry) return;
      if (!wanted.has(entry.fileName)) continue;
      const stream = await zip.openReadStreamPromise(entry);
      try {
        await visit(entry.fileName, stream, entry.uncompressedSize);
      } finally {
        stream.destroy();
      }
    }
  } finally {
    zip.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Same SOP Instance UID in several files: identical copies are sent once, different ones conflict

async function duplicateFindings(
  root: string,
  instances: readonly MediaInstance[],
  facts: readonly InstanceFacts[],
  options: ValidateOptions,
): Promise<{ findings: MediaFinding[]; skip: string[] }> {
  // Most discs hold each instance once: the first path per UID is kept as a string, and a
  // list is made only for a UID met twice.
  const firstPath = new Map<string, string>();
  const byUid = new Map<string, string[]>();
  for (const instance of instances) {
    const uid = instance.sopInstanceUid;
    if (!uid) continue;
    const first = firstPath.get(uid);
    if (first === undefined) firstPath.set(uid, instance.path);
    else {
      const paths = byUid.get(uid);
      if (paths) paths.push(instance.path);
      else byUid.set(uid, [first, instance.path]);
    }
  }
  const groups = [...byUid.values()];
  const findings: MediaFinding[] = [];
  const skip: string[] = [];
  if (groups.length === 0) return { findings, skip };
  const sizes = new Map<string, number>();
  for (const fact of facts) sizes.set(fact.path, fact.fileSize);
  const sameSize = groups.filter(
    (paths) => new Set(paths.map((p) => sizes.get(p) ?? -1)).size === 1,
  );
  const hashes = await hashFiles(root, sameSize.flat(), options);
  for (const paths of groups) {
    // Plain files before zip entries, so the copy sent is the one a person can find.
    const ordered = [...paths].sort(
      (a, b) =>
        Number(a.includes(ZIP_SEPARATOR)) - Number(b.includes(ZIP_SEPARATOR)) || a.localeCompare(b),
    );
    const digests = new Set(ordered.map((p) => hashes.get(p) ?? `size:${sizes.get(p) ?? -1}:${p}`));
    if (digests.size === 1) {
      findings.push({
        code: 'duplicate-instance',
        detail: `${ordered.length} identical copies of one instance; the first path is sent`,
        paths: ordered,
      });
      skip.push(...ordered.slice(1));
    } else {
      findings.push({
        code: 'conflicting-instance',
        detail: `${ordered.length} files share one SOP Instance UID but differ in content`,
        paths: ordered,
      });
    }
  }
  return { findings, skip: skip.sort() };
}

async function hashFiles(
  root: string,
  paths: readonly string[],
  options: ValidateOptions,
): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const plain = paths.filter((p) => !p.includes(ZIP_SEPARATOR));
  await forEachLimit(
    plain,
    options.concurrency ?? 4,
    async (relPath) => {
      const hash = createHash('sha256');
      try {
        for await (const chunk of createReadStream(path.join(root, relPath)))
          hash.update(chunk as Buffer);
        hashes.set(relPath, hash.digest('hex'));
      } catch {
        // Unreadable now: it stays unhashed and so counts as different.
      }
    },
    options.signal,
  );
  const byArchive = new Map<string, Set<string>>();
  for (const relPath of paths) {
    const split = relPath.indexOf(ZIP_SEPARATOR);
    if (split < 0) continue;
    const archive = relPath.slice(0, split);
    const names = byArchive.get(archive) ?? new Set<string>();
    byArchive.set(archive, names);
    names.add(relPath.slice(split + ZIP_SEPARATOR.length));
  }
  for (const [archive, names] of byArchive) {
    await forEachZipEntry(path.join(root, archive), names, async (name, stream) => {
      const hash = createHash('sha256');
      for await (const chunk of stream) hash.update(chunk as Buffer);
      hashes.set(`${archive}${ZIP_SEPARATOR}${name}`, hash.digest('hex'));
    }).catch(() => undefined);
  }
  return hashes;
}
