/**
 * `ferry deidentify PATH --out DIR [--profile basic] [--option NAME]… [--key-file F]
 *  [--pseudonym ID] [--mask X,Y,W,H]… [--confirm-burned-in] [--concurrency N] [--json]`
 *
 * Writes de-identified Part 10 files (PS3.15 Annex E, docs/deidentification.md) under DIR as
 * STUDY/SERIES/INSTANCE.dcm named by the new UIDs, and DIR/deidentification-report.json: every
 * attribute changed, per instance, without the original values. Never writes the DICOMDIR.
 * Images that may show identity in their pixels are held back unless masked (--mask) or
 * confirmed (--confirm-burned-in).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { DeidError, type AttributeChange, type DeidentifyPolicy } from '../core/deid/engine.ts';
import { deidentifyInstance, writeInstanceFile } from '../core/deid/instance.ts';
import type { MaskRect } from '../core/deid/mask.ts';
import { allOptions, type DeidOption } from '../core/deid/profile.ts';
import { makeFinding, type Finding } from '../core/findings.ts';
import { scanMedia } from '../core/media/scan.ts';
import { forEachLimit } from '../core/util/pool.ts';
import type { Io } from './io.ts';

interface InstanceReport {
  /** Path on the disc (stdout only: folder names on some discs carry names). */
  source?: string;
  output?: string;
  status: 'written' | 'held' | 'failed';
  sopInstanceUid?: string;
  burnedIn: string[];
  masked: boolean;
  error?: { code: string; message: string };
  changes: Omit<AttributeChange, 'before'>[];
}

const reportName = 'deidentification-report.json';

function parseMask(text: string): MaskRect {
  const parts = text.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 4 || !parts.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(`--mask wants X,Y,WIDTH,HEIGHT in pixels, got "${text}"`);
  }
  const [x = 0, y = 0, width = 0, height = 0] = parts;
  return { x, y, width, height };
}

/** The HMAC key: read from F, or created there (0600) when F does not exist yet. */
async function loadKey(file: string | undefined, io: Io): Promise<Uint8Array> {
  if (file === undefined) {
    io.stderr('No --key-file: using a one-time key, so new UIDs will differ from any other run.\n');
    return randomBytes(32);
  }
  try {
    const key = await readFile(file);
    if (key.length < 16) throw new Error(`${file} holds fewer than 16 bytes: not a usable key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await writeFile(file, key, { mode: 0o600, flag: 'wx' });
  io.stderr(`Created a new key in ${file}; keep it to get the same UIDs in later runs.\n`);
  return key;
}

export async function runDeidentify(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      profile: { type: 'string', default: 'basic' },
      option: { type: 'string', multiple: true, default: [] },
      'key-file': { type: 'string' },
      pseudonym: { type: 'string' },
      mask: { type: 'string', multiple: true, default: [] },
      'confirm-burned-in': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const target = positionals[0];
  const outDir = values.out;
  if (!target || !outDir) {
    io.stderr(
      'ferry deidentify: give the disc and an output folder, e.g. ferry deidentify /media/cdrom --out ./anon\n',
    );
    return 2;
  }
  if (values.profile !== 'basic') {
    io.stderr(
      `ferry deidentify: the only profile is "basic" (PS3.15 E.1), got "${values.profile}"\n`,
    );
    return 2;
  }
  const options: DeidOption[] = [];
  for (const option of values.option) {
    if (!(allOptions as readonly string[]).includes(option)) {
      io.stderr(
        `ferry deidentify: unknown option "${option}"; options: ${allOptions.join(', ')}\n`,
      );
      return 2;
    }
    options.push(option as DeidOption);
  }
  let masks: MaskRect[];
  try {
    masks = values.mask.map(parseMask);
  } catch (error) {
    io.stderr(`ferry deidentify: ${(error as Error).message}\n`);
    return 2;
  }
  if (masks.length > 0 && !options.includes('clean-pixel-data')) options.push('clean-pixel-data');
  const concurrency = values.concurrency ? Number(values.concurrency) : 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    io.stderr('ferry deidentify: --concurrency wants a positive integer\n');
    return 2;
  }

  const root = path.resolve(outDir);
  await mkdir(root, { recursive: true });
  if ((await readdir(root)).length > 0) {
    io.stderr(`ferry deidentify: ${outDir} is not empty; give an empty or new folder\n`);
    return 2;
  }
  const key = await loadKey(values['key-file'], io);
  const policy: DeidentifyPolicy = {
    kind: 'deidentify',
    profile: 'basic',
    options,
    key,
    ...(values.pseudonym !== undefined ? { pseudonym: { patientId: values.pseudonym } } : {}),
  };

  let scan;
  try {
    scan = await scanMedia(target, { verify: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      io.stderr(`ferry deidentify: nothing at ${target} (no such file or folder)\n`);
      return 2;
    }
    throw error;
  }
  const instances = scan.patients.flatMap((patient) =>
    patient.studies.flatMap((study) => study.series.flatMap((series) => series.instances)),
  );
  const reports: InstanceReport[] = new Array(instances.length);
  const findings: Finding[] = [];
  let done = 0;
  const started = performance.now();
  await forEachLimit(instances, concurrency, async (instance, index) => {
    const report: InstanceReport = {
      source: instance.path,
      status: 'failed',
      burnedIn: [],
      masked: false,
      changes: [],
    };
    reports[index] = report;
    try {
      if (instance.path.includes('!/')) {
        throw new DeidError('unreadable', 'files inside zip archives are not de-identified yet');
      }
      const abs = path.join(scan.root, instance.path);
      let result = await deidentifyInstance({ kind: 'file', path: abs }, policy);
      if (result.burnedIn.length > 0 && masks.length > 0) {
        result = await deidentifyInstance({ kind: 'file', path: abs }, policy, { masks });
      }
      report.sopInstanceUid = result.sopInstanceUid;
      report.burnedIn = result.burnedIn.map((flag) => flag.reason);
      report.masked = result.masked;
      report.changes = result.changes.map(({ before: _before, ...change }) => change);
      if (result.burnedIn.length > 0 && !result.masked && !values['confirm-burned-in']) {
        report.status = 'held';
        findings.push(
          makeFinding('deid-burned-in-risk', [instance.path], report.burnedIn.join(', ')),
        );
        return;
      }
      const relative = path.join(
        result.studyInstanceUid || 'study',
        result.seriesInstanceUid || 'series',
        `${result.sopInstanceUid}.dcm`,
      );
      await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
      await writeInstanceFile(result, path.join(root, relative));
      report.output = relative.split(path.sep).join('/');
      report.status = 'written';
    } catch (error) {
      if (!(error instanceof DeidError)) throw error;
      report.error = { code: error.code, message: error.message };
      findings.push(
        makeFinding(
          error.code.startsWith('mask') ? 'deid-mask-refused' : 'deid-failed',
          [instance.path],
          error.code,
        ),
      );
    } finally {
      done++;
      if (io.isTty) io.stderr(`\r\x1b[KDe-identifying ${done} of ${instances.length}`);
    }
  });
  if (io.isTty) io.stderr('\r\x1b[K');
  const count = (status: InstanceReport['status']): number =>
    reports.filter((report) => report.status === status).length;
  const summary = {
    instances: instances.length,
    written: count('written'),
    held: count('held'),
    failed: count('failed'),
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
  const document = {
    profile: 'basic',
    options,
    output: root,
    summary,
    instances: reports,
    findings,
  };
  // The report beside the files carries no source paths (disc folder names can be names).
  const fileReport = {
    ...document,
    output: undefined,
    instances: reports.map(({ source: _source, ...rest }) => rest),
    findings: findings.map(({ paths: _paths, ...rest }) => rest),
  };
  await writeFile(path.join(root, reportName), `${JSON.stringify(fileReport, null, 2)}\n`);
  if (values.json) {
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    io.stdout(
      `De-identified ${summary.written} of ${summary.instances} images into ${outDir} (${summary.seconds} s).\n` +
        `Every change is listed in ${path.join(outDir, reportName)}.\n`,
    );
    if (summary.held > 0) {
      io.stdout(
        `${summary.held} images were held back: they may show the patient's name or other details in the picture itself.\n` +
          'Check them; cover those areas with --mask X,Y,WIDTH,HEIGHT, or run again with --confirm-burned-in.\n',
      );
    }
    if (summary.failed > 0)
      io.stdout(`${summary.failed} images could not be de-identified; they were not written.\n`);
  }
  return summary.held > 0 || summary.failed > 0 ? 1 : 0;
}
