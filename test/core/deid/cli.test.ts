/** `ferry deidentify`: files, report without original values, key file, held images. */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runDeidentify } from '../../../main/commands/deidentify.ts';
import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { previewInstance } from '../../../main/core/deid/instance.ts';
import type { Io } from '../../../main/commands/io.ts';
import { makeMedia, missingDicomTools, type GeneratedMedia } from '../../support/make-media.ts';
import { skipFor } from '../../support/tools.ts';
import { image, part10, text } from './planted.ts';

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

  it('names files only by well-formed UIDs: no UID on the disc can write outside the folder', async () => {
    // With --option retain-uids the disc's own UIDs name the output. These are crafted.
    const disc = path.join(work, 'crafted');
    mkdirSync(disc, { recursive: true });
    const crafted: [sop: string, study: string, series: string][] = [
      ['../../../escaped-a', '..', '..'],
      ['..', '.', 'a/b'],
      [`1.${'2'.repeat(70)}`, '1.2.3', '/tmp'],
      ['1.2.826.0.1.3680043.10.999.77', '1.2.826.0.1.3680043.10.999.2', '1.2.3.4'],
    ];
    crafted.forEach(([sop, study, series], index) => {
      const uids: Record<number, string> = {
        0x00080018: sop,
        0x0020000d: study,
        0x0020000e: series,
      };
      const elements = image(4, 4).map((element) =>
        uids[element.tag] === undefined ? element : text(element.tag, 'UI', uids[element.tag]!),
      );
      writeFileSync(path.join(disc, `f${index}.dcm`), part10(elements));
    });
    const out = path.join(work, 'crafted-out', 'inner');
    const io = capture();
    const args = [disc, '--out', out, '--option', 'retain-uids', '--confirm-burned-in', '--json'];
    expect(await runDeidentify([...args, '--key-file', path.join(work, 'key')], io)).toBe(0);
    const document = JSON.parse(io.out.join('')) as { instances: { output: string }[] };
    expect(document.instances.map((instance) => instance.output)).toHaveLength(4);
    // Nothing beside the output folder, and every file where the report says.
    expect(readdirSync(path.join(work, 'crafted-out'))).toEqual(['inner']);
    expect(files(out).sort()).toEqual(
      [...document.instances.map((instance) => instance.output), 'deidentification-report.json']
        .map((name) => name.split('/').join(path.sep))
        .sort(),
    );
    const outputs = document.instances.map((instance) => instance.output);
    expect(outputs[0]).toMatch(
      /^study-[0-9a-f]{32}\/series-[0-9a-f]{32}\/instance-[0-9a-f]{32}\.dcm$/u,
    );
    expect(outputs[2]).toMatch(/^1\.2\.3\/series-[0-9a-f]{32}\/instance-[0-9a-f]{32}\.dcm$/u);
    expect(outputs[3]).toBe(
      '1.2.826.0.1.3680043.10.999.2/1.2.3.4/1.2.826.0.1.3680043.10.999.77.dcm',
    );
  });

  it('reads files whole up to the limit and streams larger ones: the same bytes as the preview', async () => {
    // Sizes around the command's first read buffer (1 MiB, exactly filled by one file), one
    // that makes it grow, one at the whole-file limit's far side (streamed), and small ones.
    const disc = path.join(work, 'sizes');
    mkdirSync(disc, { recursive: true });
    const sized = (rows: number, uid: string, total?: number): Uint8Array => {
      const elements = image(rows, rows).map((element) =>
        element.tag === 0x00080018 ? text(0x00080018, 'UI', uid) : element,
      );
      const bytes = part10(elements);
      if (total === undefined) return bytes;
      // Data Set Trailing Padding (FFFC,FFFC) OB brings the file to exactly `total` bytes.
      const padding = total - bytes.length - 12;
      const padded = new Uint8Array(total);
      padded.set(bytes);
      padded.set([0xfc, 0xff, 0xfc, 0xff, 0x4f, 0x42, 0, 0], bytes.length);
      new DataView(padded.buffer).setUint32(bytes.length + 8, padding, true);
      return padded;
    };
    const inputs: [string, Uint8Array][] = [
      ['a-small.dcm', sized(16, '1.2.3.1')],
      ['b-slot.dcm', sized(16, '1.2.3.2', 1024 * 1024)],
      ['c-grows.dcm', sized(900, '1.2.3.3')],
      ['d-small.dcm', sized(32, '1.2.3.4')],
      ['e-streamed.dcm', sized(1600, '1.2.3.5')],
      ['f-small.dcm', sized(8, '1.2.3.6')],
    ];
    expect(inputs.map(([, bytes]) => bytes.length > 4 * 1024 * 1024)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
    expect(inputs[1]![1].length).toBe(1024 * 1024);
    expect(inputs[2]![1].length).toBeGreaterThan(1024 * 1024);
    for (const [name, bytes] of inputs) writeFileSync(path.join(disc, name), bytes);
    const keyFile = path.join(work, 'sizes-key');
    writeFileSync(keyFile, Buffer.alloc(32, 3));
    const out = path.join(work, 'sizes-out');
    const io = capture();
    const args = [disc, '--out', out, '--key-file', keyFile, '--confirm-burned-in', '--json'];
    expect(await runDeidentify(args, io)).toBe(0);
    const document = JSON.parse(io.out.join('')) as {
      series: { changes: object[] }[];
      instances: { source: string; output: string; series: number; changes: object[] }[];
    };
    expect(document.instances).toHaveLength(inputs.length);
    expect(document.series).toHaveLength(1); // image() gives every file the same series
    const policy: DeidentifyPolicy = {
      kind: 'deidentify',
      profile: 'basic',
      options: [],
      key: Buffer.alloc(32, 3),
    };
    for (const instance of document.instances) {
      const input = inputs.find(([name]) => name === instance.source)![1];
      const expected = await previewInstance({ kind: 'bytes', bytes: input }, policy);
      const written = readFileSync(path.join(out, instance.output));
      expect(Buffer.compare(written, expected.bytes)).toBe(0);
      // Its series' changes and its own are exactly its changes, without the original values.
      const listed = [...document.series[instance.series]!.changes, ...instance.changes];
      const sorted = (changes: object[]): string[] =>
        changes.map((change) => JSON.stringify(change)).sort();
      expect(sorted(listed)).toEqual(
        sorted(expected.changes.map(({ before: _before, ...change }) => change)),
      );
    }
  });
});
