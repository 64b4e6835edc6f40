/**
 * The support file a user saves and sends to the help desk: which versions run, how Ferry is set
 * up, which error codes came back how often and how fast, what the last disc's findings were
 * (codes and counts) and which engines are present.
 *
 * It is built from an allow-list of codes and numbers, never from messages or views: no names,
 * IDs, UIDs, dates of birth, paths (which may contain a name) or pixel data can reach it. Every
 * code passes `safeCode` as a second line of defence, so a code that is not a short lower-case
 * word (a portal that puts a value in its code) is counted as `other`.
 */
import os from 'node:os';
import type {
  EngineAvailability,
  FindingView,
  HostKind,
  MethodName,
  ScanView,
  SupportBundleView,
} from './api.ts';
import { METHOD_NAMES } from './api.ts';

const CODE = /^[a-z][a-z0-9]*(?:[-.][a-z0-9]+){0,6}$/u;
const MAX_CODE = 48;
/** Keys kept per table, so a long-running front-desk PC keeps a bounded log. */
const MAX_KEYS = 200;
const DURATIONS_KEPT = 64;

/** A stable code as it is, anything else as `other`. */
export function safeCode(code: unknown): string {
  return typeof code === 'string' && code.length <= MAX_CODE && CODE.test(code) ? code : 'other';
}

/** A runtime version such as 20.11.1 or 118.0.5993.159; anything else is not reported. */
function safeVersion(version: unknown): string | null {
  return typeof version === 'string' && /^[0-9][0-9A-Za-z.+-]{0,40}$/u.test(version)
    ? version
    : null;
}

interface ErrorTally {
  readonly method: MethodName;
  readonly code: string;
  count: number;
  firstAt: Date;
  lastAt: Date;
  maxMs: number;
  readonly durations: number[];
}

type ScanSummary = NonNullable<SupportBundleView['lastScan']>;

/** What the app service tells the log as it runs; all of it codes, counts and durations. */
export interface SupportLog {
  /** One api.ts call that ended with an error code. */
  callFailed(method: MethodName, code: string, durationMs: number, at?: Date): void;
  /** An upload ended (done, failed, cancelled), with the error's code when it failed. */
  uploadEnded(state: string, code: string | undefined): void;
  /** A finished scan: its counts, never its patients. */
  scanFinished(scan: ScanView, durationMs: number): void;
  /** The findings shown for the last scan (scan and validation together). */
  findingsShown(findings: readonly FindingView[]): void;
  /** Next person (kiosk): the last scan's counts and findings go; error tallies stay. */
  forgetScan(): void;
  snapshot(): {
    errors: SupportBundleView['errors'];
    uploads: SupportBundleView['uploads'];
    findings: SupportBundleView['findings'];
    lastScan: SupportBundleView['lastScan'];
  };
}

const methods = new Set<string>(METHOD_NAMES);

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

const wholeMs = (ms: number): number => (Number.isFinite(ms) && ms > 0 ? Math.round(ms) : 0);
const count = (n: number): number => (Number.isSafeInteger(n) && n > 0 ? n : 0);

export function createSupportLog(): SupportLog {
  const errors = new Map<string, ErrorTally>();
  const uploads = new Map<string, { state: string; code: string | null; count: number }>();
  let findings: SupportBundleView['findings'] = [];
  let lastScan: ScanSummary | null = null;

  const log: SupportLog = {
    callFailed(method, code, durationMs, at = new Date()) {
      if (!methods.has(method)) return;
      const safe = safeCode(code);
      const key = `${method} ${safe}`;
      let tally = errors.get(key);
      if (!tally) {
        if (errors.size >= MAX_KEYS) return;
        tally = { method, code: safe, count: 0, firstAt: at, lastAt: at, maxMs: 0, durations: [] };
        errors.set(key, tally);
      }
      const ms = wholeMs(durationMs);
      tally.count += 1;
      tally.lastAt = at;
      tally.maxMs = Math.max(tally.maxMs, ms);
      tally.durations.push(ms);
      if (tally.durations.length > DURATIONS_KEPT) tally.durations.shift();
    },
    uploadEnded(state, code) {
      const safeState = safeCode(state);
      const safe = code === undefined ? null : safeCode(code);
      const key = `${safeState} ${safe ?? ''}`;
      const tally = uploads.get(key);
      if (tally) tally.count += 1;
      else if (uploads.size < MAX_KEYS)
        uploads.set(key, { state: safeState, code: safe, count: 1 });
    },
    scanFinished(scan, durationMs) {
      const { summary } = scan;
      lastScan = {
        source: scan.source === 'dicomdir' ? 'dicomdir' : 'walk',
        patients: count(summary.patients),
        studies: count(summary.studies),
        series: count(summary.series),
        instances: count(summary.instances),
        bytes: count(summary.bytes),
        nonDicomFiles: count(summary.nonDicomFiles),
        unreadableFiles: count(summary.unreadableFiles),
        durationMs: wholeMs(durationMs),
      };
      log.findingsShown(scan.findings);
    },
    findingsShown(shown) {
      findings = shown.slice(0, MAX_KEYS).map((finding) => ({
        code: safeCode(finding.code),
        severity: (['error', 'warning', 'info'] as const).includes(finding.severity)
          ? finding.severity
          : 'info',
        files: count(finding.count),
      }));
    },
    forgetScan() {
      findings = [];
      lastScan = null;
    },
    snapshot() {
      return {
        errors: [...errors.values()]
          .sort((a, b) => b.count - a.count || a.method.localeCompare(b.method))
          .map((tally) => ({
            method: tally.method,
            code: tally.code,
            count: tally.count,
            firstAt: tally.firstAt.toISOString(),
            lastAt: tally.lastAt.toISOString(),
            medianMs: median(tally.durations),
            maxMs: tally.maxMs,
          })),
        uploads: [...uploads.values()].map((tally) => ({ ...tally })),
        findings: findings.map((finding) => ({ ...finding })),
        lastScan: lastScan && { ...lastScan },
      };
    },
  };
  return log;
}

export interface SupportBundleInput {
  readonly log: SupportLog;
  readonly app: { readonly version: string; readonly host: HostKind };
  readonly settings: {
    readonly kiosk: boolean;
    readonly language: string | undefined;
    readonly linkOpen: boolean;
    readonly secretsPersistent: boolean;
  };
  readonly engines: EngineAvailability;
  readonly now?: Date;
  /** The process's versions and system; the running ones unless a test hands others in. */
  readonly versions?: Partial<Record<string, string>>;
  readonly system?: { readonly platform: string; readonly release: string; readonly arch: string };
  readonly uptimeSeconds?: number;
}

export function buildSupportBundle(input: SupportBundleInput): SupportBundleView {
  const versions = input.versions ?? (process.versions as Partial<Record<string, string>>);
  const system = input.system ?? {
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
  };
  const language = input.settings.language;
  return {
    format: 'dicom-ferry-support',
    version: 1,
    createdAt: (input.now ?? new Date()).toISOString(),
    app: { version: safeVersion(input.app.version) ?? 'unknown', host: input.app.host },
    runtime: {
      node: safeVersion(versions.node) ?? 'unknown',
      electron: safeVersion(versions.electron),
      chrome: safeVersion(versions.chrome),
      os: safeCode(system.platform),
      osRelease: safeVersion(system.release) ?? 'unknown',
      arch: safeCode(system.arch),
    },
    settings: {
      kiosk: input.settings.kiosk,
      language:
        language !== undefined && /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/u.test(language)
          ? language
          : 'unknown',
      linkOpen: input.settings.linkOpen,
      secretsPersistent: input.settings.secretsPersistent,
    },
    engines: {
      link: input.engines.link === true,
      upload: input.engines.upload === true,
      validate: input.engines.validate === true,
      deid: input.engines.deid === true,
    },
    uptimeSeconds: Math.round(input.uptimeSeconds ?? process.uptime()),
    ...input.log.snapshot(),
  };
}
