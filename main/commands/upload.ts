import path from 'node:path';
import { parseArgs } from 'node:util';
import { FerryError, isFerryError } from '../core/errors.ts';
import {
  BurnedInRefusal,
  createDeidSource,
  type DeidSource,
  type HeldBackInstance,
} from '../core/deid/upload-source.ts';
import type { LinkInfo } from '../core/link/model.ts';
import type { ScanResult } from '../core/media/model.ts';
import { scanMedia } from '../core/media/scan.ts';
import {
  defaultJournalDir,
  defaultKeyFile,
  itemsFromScan,
  loadOrCreateKeyFile,
  resolveLink,
  startUpload,
  type UploadEvent,
  type UploadItem,
  type UploadResult,
} from '../core/upload/index.ts';
import { checkIdentity } from '../core/validate/index.ts';
import type { Io } from './io.ts';

interface IdentityProblem {
  /** One file of the patient's images, to tell which patient is meant (no names in messages). */
  readonly path: string;
  readonly message: string;
}

/** The link is for someone else: nothing is sent unless the user confirms. */
class IdentityRefusal extends Error {
  readonly code = 'identity-mismatch';
  constructor(readonly patients: readonly IdentityProblem[]) {
    super(
      'The images on this disc do not seem to be of the patient this upload link was made for, so nothing was sent. Check that you have the right disc and the right link; if you are sure, run again with --confirm-identity.',
    );
    this.name = 'IdentityRefusal';
  }
}

/** checkIdentity (main/core/validate) for every patient with a selected study. */
function identityProblems(
  scan: ScanResult,
  items: readonly UploadItem[],
  info: LinkInfo,
): { mismatched: IdentityProblem[]; unverified: IdentityProblem[] } {
  const selected = new Set(items.map((i) => i.studyInstanceUid));
  const expected = { expectedName: info.patient.name, expectedBirthDate: info.patient.birthDate };
  const mismatched: IdentityProblem[] = [];
  const unverified: IdentityProblem[] = [];
  for (const patient of scan.patients) {
    const studies = patient.studies.filter((s) => selected.has(s.studyInstanceUid));
    const path = studies[0]?.series[0]?.instances[0]?.path;
    if (path === undefined) continue;
    const check = checkIdentity(
      { name: patient.patientName, birthDate: patient.birthDate },
      expected,
    );
    const wrong = [
      ...(check.name === 'mismatch' ? ['the name does not match'] : []),
      ...(check.birthDate === 'mismatch' ? ['the birth date does not match'] : []),
    ];
    const missing = [
      ...(check.name === 'unknown' ? ['no patient name'] : []),
      ...(check.birthDate === 'unknown' ? ['no birth date'] : []),
    ];
    if (wrong.length > 0) mismatched.push({ path, message: `${wrong.join(' and ')}.` });
    else if (missing.length > 0) unverified.push({ path, message: `${missing.join(', ')}.` });
  }
  return { mismatched, unverified };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0)} MB`;
}

function progressPrinter(io: Io, json: boolean): (event: UploadEvent) => void {
  let last = 0;
  const line = (text: string): void => io.stderr(io.isTty ? `\r\x1b[K${text}` : `${text}\n`);
  return (event) => {
    switch (event.kind) {
      case 'phase':
        if (event.phase === 'resolving') line('Opening the upload link…');
        else if (event.phase === 'committing') line('Telling the portal everything has been sent…');
        else if (event.phase === 'following') line('Waiting for the hospital to confirm…');
        if (io.isTty && event.phase !== 'sending') io.stderr('\n');
        break;
      case 'link':
        line(
          `Sending to ${event.link.provider.name}${event.link.provider.department ? ` (${event.link.provider.department})` : ''}; the link works until ${new Date(event.link.expiresAt).toUTCString()}.`,
        );
        if (io.isTty) io.stderr('\n');
        break;
      case 'resume':
        if (event.held > 0) {
          line(
            `The portal already has ${event.held} of these images; sending the other ${event.toSend}.`,
          );
          if (io.isTty) io.stderr('\n');
        }
        break;
      case 'progress': {
        const now = Date.now();
        if (!io.isTty && !json && now - last < 2000 && event.instances.done < event.instances.total)
          return;
        if (json && now - last < 1000 && event.instances.done < event.instances.total) return;
        last = now;
        const eta =
          event.etaSeconds !== undefined && event.rate > 0
            ? `, about ${Math.ceil(event.etaSeconds)} s left`
            : '';
        line(
          `Sending: ${event.instances.done} of ${event.instances.total} images, ${megabytes(event.bytes.done)} of ${megabytes(event.bytes.total)}, ${megabytes(event.rate)}/s${eta}`,
        );
        break;
      }
      case 'retry':
        line(
          `The portal did not answer properly (${event.code}); trying again in ${Math.ceil(event.delayMs / 1000)} s.`,
        );
        if (io.isTty) io.stderr('\n');
        break;
      case 'instance-failed':
        line(`${event.failure.path}: ${event.failure.message}`);
        if (io.isTty) io.stderr('\n');
        break;
      case 'status':
        line(`Status: ${event.status.message}`);
        if (io.isTty) io.stderr('\n');
        break;
      case 'warning':
        line(event.message);
        if (io.isTty) io.stderr('\n');
        break;
      default:
        break;
    }
  };
}

function resultJson(result: UploadResult, heldBack: readonly HeldBackInstance[]): unknown {
  return {
    transferId: result.transferId,
    state: result.status.state,
    message: result.status.message,
    instances: result.instances,
    failures: result.failures,
    heldBack: heldBack.map(heldJson),
    timeline: result.status.timeline,
  };
}

function heldJson(held: HeldBackInstance): unknown {
  return {
    path: held.path,
    reason: held.reason,
    message: held.message,
    ...(held.burnedIn ? { burnedIn: held.burnedIn.map((f) => f.reason) } : {}),
  };
}

export async function runUpload(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      link: { type: 'string' },
      study: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      'batch-count': { type: 'string' },
      'batch-mb': { type: 'string' },
      'key-file': { type: 'string' },
      'journal-dir': { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
      'confirm-burned-in': { type: 'boolean', default: false },
      'confirm-identity': { type: 'boolean', default: false },
      'idle-timeout': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const target = positionals[0];
  if (!target || !values.link) {
    io.stderr(
      'ferry upload: give the disc folder and the link, e.g. ferry upload /media/cdrom --link https://portal.example/u/…\n',
    );
    return 2;
  }
  const numberOption = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new FerryError('internal', { detail: `--${name} must be a positive number` });
    return n;
  };
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const json = values.json === true;
  let deid: DeidSource | undefined;
  try {
    const mediaRoot = path.resolve(target);
    const scan = await scanMedia(mediaRoot, { signal: controller.signal });
    let items = itemsFromScan(scan, values.study ?? []);
    if (values.study?.length && items.length === 0) {
      io.stderr('ferry upload: none of the given studies is on this disc.\n');
      return 2;
    }
    const key = await loadOrCreateKeyFile(values['key-file'] ?? defaultKeyFile());
    const { info } = await resolveLink(values.link, { signal: controller.signal });
    // Identity check (protocol 7.1): the disc's patients against the one the link was made for.
    const identity = identityProblems(scan, items, info);
    if (identity.mismatched.length > 0 && values['confirm-identity'] !== true) {
      throw new IdentityRefusal(identity.mismatched);
    }
    for (const problem of identity.mismatched) {
      io.stderr(
        `Sent as you confirmed (--confirm-identity): ${problem.path}: ${problem.message}\n`,
      );
    }
    for (const problem of identity.unverified) {
      io.stderr(`Could not check whose images these are: ${problem.path}: ${problem.message}\n`);
    }
    // The link's policy decides what leaves the computer: as on the disc, or de-identified /
    // reconciled, in which case every instance is prepared first (UIDs and lengths as sent).
    let heldBack: readonly HeldBackInstance[] = [];
    if (info.policy.kind !== 'none') {
      deid = createDeidSource({
        policy: info.policy,
        mediaRoot,
        key,
        confirmBurnedIn: values['confirm-burned-in'] === true,
      });
      io.stderr(
        deid.policy?.kind === 'reconcile'
          ? 'The hospital asks for its own patient ID in the images; preparing them…\n'
          : 'The hospital asks for de-identified images; preparing them…\n',
      );
      const prepared = await deid.prepare(items, { signal: controller.signal });
      const burnedIn = prepared.heldBack.filter((h) => h.reason === 'burned-in');
      if (burnedIn.length > 0) throw new BurnedInRefusal(burnedIn);
      heldBack = prepared.heldBack;
      for (const held of heldBack) io.stderr(`Not sent: ${held.path}: ${held.message}\n`);
      if (prepared.confirmedBurnedIn > 0) {
        io.stderr(
          `${prepared.confirmedBurnedIn} image(s) that may show identity in the picture are sent as you confirmed (--confirm-burned-in).\n`,
        );
      }
      items = prepared.items;
    }
    const concurrency = numberOption('concurrency', values.concurrency);
    const batchCount = numberOption('batch-count', values['batch-count']);
    const batchMb = numberOption('batch-mb', values['batch-mb']);
    const idle = numberOption('idle-timeout', values['idle-timeout']);
    const { done } = startUpload({
      link: values.link,
      items,
      mediaRoot,
      ...(deid ? { source: deid.source, exactLengths: true } : {}),
      journalDir: values['journal-dir'] ?? defaultJournalDir(),
      key,
      ...(concurrency ? { concurrency: Math.floor(concurrency) } : {}),
      ...(batchCount ? { batchCount: Math.floor(batchCount) } : {}),
      ...(batchMb ? { batchBytes: Math.floor(batchMb * 1024 * 1024) } : {}),
      ...(idle ? { idleTimeoutMs: idle * 1000 } : {}),
      follow: values['no-wait'] ? false : { intervalMs: 1000, timeoutMs: 10 * 60_000 },
      signal: controller.signal,
      onEvent: progressPrinter(io, json),
    });
    const result = await done;
    if (io.isTty) io.stderr('\r\x1b[K');
    if (json) io.stdout(`${JSON.stringify(resultJson(result, heldBack), null, 2)}\n`);
    else {
      io.stdout(`Transfer ${result.transferId}: ${result.status.message}\n`);
      if (result.failures.length > 0) {
        io.stdout(`${result.failures.length} image(s) were not stored:\n`);
        for (const f of result.failures) io.stdout(`  ${f.path}: ${f.message}\n`);
      }
    }
    const bad =
      result.failures.length > 0 ||
      heldBack.length > 0 ||
      ['failed', 'expired', 'revoked'].includes(result.status.state);
    return bad ? 1 : 0;
  } catch (error) {
    if (io.isTty) io.stderr('\r\x1b[K');
    if (error instanceof IdentityRefusal) {
      if (json) {
        const refusal = { code: error.code, message: error.message, patients: error.patients };
        io.stdout(`${JSON.stringify({ error: refusal }, null, 2)}\n`);
      }
      io.stderr(`ferry upload: ${error.message}\n`);
      for (const p of error.patients) io.stderr(`  ${p.path}: ${p.message}\n`);
      return 1;
    }
    if (error instanceof BurnedInRefusal) {
      if (json) {
        const refusal = {
          code: error.code,
          message: error.message,
          files: error.files.map(heldJson),
        };
        io.stdout(`${JSON.stringify({ error: refusal }, null, 2)}\n`);
      }
      io.stderr(`ferry upload: ${error.message}\n`);
      for (const file of error.files) io.stderr(`  ${file.path}: ${file.message}\n`);
      return 1;
    }
    if (isFerryError(error)) {
      if (json) io.stdout(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
      io.stderr(`ferry upload: ${error.message}${error.detail ? ` (${error.detail})` : ''}\n`);
      return error.code === 'cancelled' ? 130 : 1;
    }
    const err = error as NodeJS.ErrnoException;
    if (err.name === 'AbortError') {
      io.stderr('\nUpload cancelled. Run the same command again to continue.\n');
      return 130;
    }
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
      io.stderr(`ferry upload: nothing to upload at ${target} (no such file or folder)\n`);
      return 2;
    }
    throw error;
  } finally {
    deid?.close();
    process.off('SIGINT', onSigint);
  }
}
