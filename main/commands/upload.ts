import path from 'node:path';
import { parseArgs } from 'node:util';
import { FerryError, isFerryError } from '../core/errors.ts';
import type { LinkPolicy } from '../core/link/model.ts';
import { scanMedia } from '../core/media/scan.ts';
import {
  defaultJournalDir,
  defaultKeyFile,
  itemsFromScan,
  loadOrCreateKeyFile,
  resolveLink,
  startUpload,
  type InstanceSource,
  type UploadEvent,
  type UploadResult,
} from '../core/upload/index.ts';
import type { Io } from './io.ts';

/**
 * The de-identifier plugs in here (issue 5): a module main/core/deid/upload-source.ts exporting
 * `createDeidSource({ policy, mediaRoot })` returning the per-instance source. Until it exists, a
 * link whose policy asks for de-identification is refused before anything is sent.
 */
const DEID_SOURCE_MODULE = '../core/deid/upload-source.ts';

async function deidSource(
  policy: LinkPolicy,
  mediaRoot: string,
): Promise<InstanceSource | undefined> {
  try {
    const module = (await import(DEID_SOURCE_MODULE)) as {
      createDeidSource?: (options: { policy: LinkPolicy; mediaRoot: string }) => InstanceSource;
    };
    return module.createDeidSource?.({ policy, mediaRoot });
  } catch {
    return undefined;
  }
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

function resultJson(result: UploadResult): unknown {
  return {
    transferId: result.transferId,
    state: result.status.state,
    message: result.status.message,
    instances: result.instances,
    failures: result.failures,
    timeline: result.status.timeline,
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
  try {
    const mediaRoot = path.resolve(target);
    const scan = await scanMedia(mediaRoot, { signal: controller.signal });
    const items = itemsFromScan(scan, values.study ?? []);
    if (values.study?.length && items.length === 0) {
      io.stderr('ferry upload: none of the given studies is on this disc.\n');
      return 2;
    }
    const key = await loadOrCreateKeyFile(values['key-file'] ?? defaultKeyFile());
    // The de-identifying source is only looked for when the link asks for it.
    const { info } = await resolveLink(values.link, { signal: controller.signal });
    const source =
      info.policy.kind === 'none' ? undefined : await deidSource(info.policy, mediaRoot);
    const concurrency = numberOption('concurrency', values.concurrency);
    const batchCount = numberOption('batch-count', values['batch-count']);
    const batchMb = numberOption('batch-mb', values['batch-mb']);
    const idle = numberOption('idle-timeout', values['idle-timeout']);
    const { done } = startUpload({
      link: values.link,
      items,
      mediaRoot,
      ...(source ? { source } : {}),
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
    if (json) io.stdout(`${JSON.stringify(resultJson(result), null, 2)}\n`);
    else {
      io.stdout(`Transfer ${result.transferId}: ${result.status.message}\n`);
      if (result.failures.length > 0) {
        io.stdout(`${result.failures.length} image(s) were not stored:\n`);
        for (const f of result.failures) io.stdout(`  ${f.path}: ${f.message}\n`);
      }
    }
    const bad =
      result.failures.length > 0 || ['failed', 'expired', 'revoked'].includes(result.status.state);
    return bad ? 1 : 0;
  } catch (error) {
    if (io.isTty) io.stderr('\r\x1b[K');
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
    process.off('SIGINT', onSigint);
  }
}
