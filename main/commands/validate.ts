import { parseArgs } from 'node:util';
import { FerryError } from '../core/errors.ts';
import type { Finding } from '../core/findings.ts';
import type { ExpectedPatient } from '../core/validate/identity.ts';
import { scanAndValidate, type ValidationResult } from '../core/validate/index.ts';
import type { Io } from './io.ts';

/** The `ferry validate --json` document (docs/validation.md). */
export interface ValidateJson {
  readonly root: string;
  readonly source: 'dicomdir' | 'walk';
  readonly summary: ValidationResult['summary'] & {
    readonly studies: number;
    readonly patients: number;
  };
  readonly identityChecked: boolean;
  readonly needsConfirmation: boolean;
  readonly blockedPaths: readonly string[];
  readonly duplicatePaths: readonly string[];
  readonly findings: readonly Finding[];
}

export function validationToJson(result: ValidationResult, identityChecked: boolean): ValidateJson {
  return {
    root: result.scan.root,
    source: result.scan.source,
    summary: {
      ...result.summary,
      patients: result.scan.summary.patients,
      studies: result.scan.summary.studies,
    },
    identityChecked,
    needsConfirmation: result.needsConfirmation,
    blockedPaths: result.blockedPaths,
    duplicatePaths: result.duplicatePaths,
    findings: result.findings,
  };
}

const mark = { error: 'ERROR  ', warning: 'warning', info: 'info   ' } as const;

/** Plain text: one block per finding, the message first, then what a clerk needs. */
export function formatValidationText(result: ValidationResult, identityChecked: boolean): string {
  const s = result.summary;
  const lines: string[] = [
    `${s.instances} images checked: ${s.errors} error(s), ${s.warnings} warning(s), ${s.infos} note(s).`,
  ];
  if (s.blockedFiles > 0)
    lines.push(`${s.blockedFiles} file(s) will not be sent until the errors are resolved.`);
  if (s.duplicateFiles > 0)
    lines.push(`${s.duplicateFiles} identical copy(ies) will be sent once.`);
  if (result.needsConfirmation) {
    lines.push(
      'Some images may not belong to the person the upload link was made for: confirm before sending.',
    );
  } else if (!identityChecked) {
    lines.push(
      'No identity check: give --link (or --expect-name and --expect-birth-date) to check the patient.',
    );
  }
  for (const finding of result.findings) {
    lines.push('', `${mark[finding.severity]} ${finding.code}: ${finding.message}`);
    if (finding.detail) lines.push(`        ${finding.detail}`);
    const shown = finding.paths.slice(0, 5);
    for (const p of shown) lines.push(`        ${p}`);
    if (finding.paths.length > shown.length) {
      lines.push(`        … and ${finding.paths.length - shown.length} more file(s)`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function expectedFromLink(url: string): Promise<ExpectedPatient> {
  // Imported only when asked: resolving a link is the one network call of this command.
  const { LinkClient } = await import('../core/link/index.ts');
  const info = await new LinkClient(url).resolve();
  return { expectedName: info.patient.name, expectedBirthDate: info.patient.birthDate };
}

export async function runValidate(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      link: { type: 'string' },
      'expect-name': { type: 'string' },
      'expect-birth-date': { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const target = positionals[0];
  if (!target) {
    io.stderr('ferry validate: give the folder of the disc, e.g. ferry validate /media/cdrom\n');
    return 2;
  }
  let expectedPatient: ExpectedPatient | undefined;
  if (values.link !== undefined) {
    try {
      expectedPatient = await expectedFromLink(values.link);
    } catch (error) {
      if (error instanceof FerryError) {
        io.stderr(`ferry validate: ${error.message}${error.detail ? ` (${error.detail})` : ''}\n`);
        return 2;
      }
      throw error;
    }
  } else if (values['expect-name'] !== undefined || values['expect-birth-date'] !== undefined) {
    if (values['expect-name'] === undefined || values['expect-birth-date'] === undefined) {
      io.stderr('ferry validate: --expect-name and --expect-birth-date go together\n');
      return 2;
    }
    expectedPatient = {
      expectedName: values['expect-name'],
      expectedBirthDate: values['expect-birth-date'],
    };
  }
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let result: ValidationResult;
  try {
    if (io.isTty) io.stderr('Checking the disc…');
    result = await scanAndValidate(target, {
      signal: controller.signal,
      ...(expectedPatient ? { expectedPatient } : {}),
      ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.name === 'AbortError') {
      io.stderr('\nValidation cancelled.\n');
      return 130;
    }
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
      io.stderr(`ferry validate: nothing to check at ${target} (no such file or folder)\n`);
      return 2;
    }
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      io.stderr(`ferry validate: no permission to read ${target}\n`);
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (io.isTty) io.stderr('\r\x1b[K');
  const identityChecked = expectedPatient !== undefined;
  if (values.json)
    io.stdout(`${JSON.stringify(validationToJson(result, identityChecked), null, 2)}\n`);
  else io.stdout(formatValidationText(result, identityChecked));
  return result.summary.errors > 0 ? 1 : 0;
}
