/** `ferry deidentify`: files, report without original values, key file, held images. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runDeidentify } from '../../../main/commands/deidentify.ts';
import type { Io } from '../../../main/commands/io.ts';
import { makeMedia, missingDicomTools, type GeneratedMedia } from '../../support/make-media.ts';
import { skipFor } from '../../support/tools.ts';

const work = mkdtempSync(path.join(tmpdir(), 'ferry-deid-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function capture(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTty: false };
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('ferry deidentify', () => {
  let media: GeneratedMedia | undefined;
  beforeAll(async () => {
    if (missingDicomTools(['dcmmkdir'])) return;
    media = await makeMedia({
      outDir: path.join(work, 'disc'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 2,
      modalities: ['CT', 'US'],
      patientNames: ['Hoffmann^Greta'],
      seed: 3,
    });
  });

  it('writes files and a report without original values; holds burned-in risks', async (context) => {
    if (skipFor(missingDicomTools(['dcmmkdir']))) return context.skip();
    const out = path.join(work, 'out1');
    const keyFile = path.join(work, 'key');
    const io = capture();
    const status = await runDeidentify(
      [media!.root, '--out', out, '--key-file', keyFile, '--json'],
      io,
    );
    expect(status).toBe(1); // the US series is held back
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const document = JSON.parse(io.out.join('')) as {
      summary: { written: number; held: number; failed: number };
    };
    expect(document.summary).toMatchObject({ written: 2, held: 2, failed: 0 });
    const written = files(out);
    expect(written.filter((file) => file.endsWith('.dcm'))).toHaveLength(2);
    expect(written.some((file) => /DICOMDIR/iu.test(file))).toBe(false);
    const report = readFileSync(path.join(out, 'deidentification-report.json'), 'utf8');
    expect(report).not.toMatch(/Hoffmann|Greta|"before"|DICOM\/PA/u);
    for (const file of written.filter((name) => name.endsWith('.dcm'))) {
      const bytes = readFileSync(path.join(out, file)).toString('latin1');
      expect(bytes).not.toMatch(/Hoffmann|Greta/iu);
      expect(bytes).not.toContain(media!.patients[0]!.patientId);
    }

    // The same key gives the same files; confirming burned-in risks writes them all.
    const again = capture();
    const out2 = path.join(work, 'out2');
    expect(
      await runDeidentify(
        [media!.root, '--out', out2, '--key-file', keyFile, '--confirm-burned-in'],
        again,
      ),
    ).toBe(0);
    const second = files(out2).filter((file) => file.endsWith('.dcm'));
    expect(second).toHaveLength(4);
    for (const file of written.filter((name) => name.endsWith('.dcm'))) {
      expect(second).toContain(file);
    }
  });

  it('refuses unknown options and a non-empty output folder', async () => {
    const io = capture();
    expect(await runDeidentify([work, '--out', path.join(work, 'x'), '--option', 'nope'], io)).toBe(
      2,
    );
    expect(io.err.join('')).toContain('unknown option');
    expect(await runDeidentify([work, '--out', work], capture())).toBe(2);
  });
});
