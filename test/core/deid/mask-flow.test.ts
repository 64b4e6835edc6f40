/**
 * The user's masks from the API to the bytes that leave the computer: the previewed bytes
 * (the deid engine, which the image view renders) equal the bytes the uploader streams, for
 * masked native and compressed instances, under a de-identifying policy and under `none`.
 * Templates per device and image size; masks.get / masks.set / masks.clear on a real scan.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it, vi } from 'vitest';

import type { MaskView, PolicyView, ScanView } from '../../../main/core/api.ts';
import { createDispatch } from '../../../main/core/app-service/dispatch.ts';
import { memorySecretStore } from '../../../main/core/app-service/engines.ts';
import { memoryHistory } from '../../../main/core/app-service/history.ts';
import { deidEngine } from '../../../main/core/app-service/real-engines.ts';
import { createAppService } from '../../../main/core/app-service/service.ts';
import { parseDicom } from '../../../main/core/dicom/parse.ts';
import { getText } from '../../../main/core/dicom/values.ts';
import {
  fileMaskTemplates,
  memoryMaskTemplates,
  rectsProblem,
  templateKey,
} from '../../../main/core/deid/mask-templates.ts';
import { SeriesMasks } from '../../../main/core/deid/series-masks.ts';
import { createDeidSource } from '../../../main/core/deid/upload-source.ts';
import { decodeFrame } from '../../../main/core/imaging/decode.ts';
import type { UploadItem } from '../../../main/core/upload/source.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';
import { makeMedia } from '../../support/make-media.ts';

const work = mkdtempSync(path.join(tmpdir(), 'ferry-mask-flow-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const key = Buffer.alloc(32, 7);
const rect = { x: 4, y: 6, width: 30, height: 10 };

async function streamed(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('previewed bytes = uploaded bytes, masked', () => {
  for (const policy of [
    { kind: 'basic', options: [] } as PolicyView,
    { kind: 'none' } as PolicyView,
  ]) {
    it(`native and compressed instances under policy ${policy.kind}`, async (context) => {
      if (skipFor(missingPydicom())) return context.skip();
      const root = path.join(work, `media-${policy.kind}`);
      mkdirSync(root, { recursive: true });
      const names = ['SC_rgb_rle.dcm', 'SC_rgb.dcm', 'CT_small.dcm'];
      const items: UploadItem[] = [];
      for (const name of names) {
        const from = path.join(
          pydicomTestFiles(),
          name === 'SC_rgb.dcm' ? 'SC_rgb_dcmtk_+eb+cr.dcm' : name,
        );
        copyFileSync(from, path.join(root, name));
        const ds = parseDicom(new Uint8Array(readFileSync(from))).dataset;
        items.push({
          path: name,
          sopInstanceUid: getText(ds, 0x00080018)!,
          studyInstanceUid: getText(ds, 0x0020000d)!,
          bytes: statSync(from).size,
        });
      }
      // The two SC files (100 x 100) are masked; CT_small (128 x 128) is not.
      const masks = new SeriesMasks();
      masks.set(root, '1.2.3', ['SC_rgb_rle.dcm', 'SC_rgb.dcm'], {
        rows: 100,
        columns: 100,
        rects: [rect],
      });
      const engine = deidEngine({ journalKey: async () => key, masks });
      const source = createDeidSource({
        policy,
        mediaRoot: root,
        key,
        masksFor: (relPath) => masks.forPath(root, relPath),
      });
      try {
        const prepared = await source.prepare(items);
        // Masked secondary captures count as looked at: nothing is held back.
        expect(prepared.heldBack).toEqual([]);
        expect(prepared.items).toHaveLength(3);
        for (const item of prepared.items) {
          const opened = await source.source(item);
          const sent = await streamed(opened.stream);
          expect(sent.length).toBe(item.bytes);
          const masked = item.path !== 'CT_small.dcm';
          if (!masked && policy.kind === 'none') {
            // Sent as it is on the media, byte for byte.
            expect(sent.equals(readFileSync(path.join(root, item.path)))).toBe(true);
            continue;
          }
          const previewed = await engine.outgoingInstance!(root, item.path, policy);
          expect(previewed.masked).toBe(masked);
          expect(Buffer.compare(sent, Buffer.from(previewed.bytes))).toBe(0);
          if (masked) {
            const frame = await decodeFrame(sent);
            if (frame.kind !== 'decoded') throw new Error(frame.reason);
            const at = (row: number, column: number) =>
              frame.samples[(row * frame.columns + column) * frame.channels]!;
            expect(at(rect.y, rect.x)).toBe(0);
            expect(at(rect.y + rect.height - 1, rect.x + rect.width - 1)).toBe(0);
          }
          if (policy.kind === 'none') {
            const ds = parseDicom(sent).dataset;
            expect(getText(ds, 0x00080018)).toBe(item.sopInstanceUid);
          }
        }
      } finally {
        source.close();
      }
    });
  }

  it('an unmasked flagged image is held back under a de-identifying policy', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    const root = path.join(work, 'media-held');
    mkdirSync(root, { recursive: true });
    copyFileSync(path.join(pydicomTestFiles(), 'SC_rgb_rle.dcm'), path.join(root, 'SC.dcm'));
    const ds = parseDicom(new Uint8Array(readFileSync(path.join(root, 'SC.dcm')))).dataset;
    const source = createDeidSource({
      policy: { kind: 'basic', options: [] },
      mediaRoot: root,
      key,
      masksFor: () => undefined,
    });
    try {
      const prepared = await source.prepare([
        {
          path: 'SC.dcm',
          sopInstanceUid: getText(ds, 0x00080018)!,
          studyInstanceUid: getText(ds, 0x0020000d)!,
          bytes: statSync(path.join(root, 'SC.dcm')).size,
        },
      ]);
      expect(prepared.heldBack.map((held) => held.reason)).toEqual(['burned-in']);
    } finally {
      source.close();
    }
  });
});

describe('mask templates', () => {
  const kind = { manufacturer: ' Acme  Medical ', model: 'Sono 5', rows: 480, columns: 640 };

  it('keys on manufacturer, model and size, ignoring case and spacing', () => {
    expect(templateKey(kind)).toBe('ACME MEDICAL|SONO 5|480x640');
    expect(templateKey({ ...kind, manufacturer: 'acme medical' })).toBe(templateKey(kind));
    expect(templateKey({ ...kind, rows: 600 })).not.toBe(templateKey(kind));
  });

  it('checks rectangles: whole pixels, inside the image, at most 32', () => {
    expect(rectsProblem([rect], 480, 640)).toBeUndefined();
    expect(rectsProblem([{ x: 600, y: 0, width: 41, height: 1 }], 480, 640)).toMatch(/outside/u);
    expect(rectsProblem([{ x: 0.5, y: 0, width: 1, height: 1 }], 480, 640)).toMatch(/whole/u);
    expect(rectsProblem([{ x: 0, y: 0, width: 0, height: 1 }], 480, 640)).toMatch(/empty/u);
    expect(rectsProblem(new Array(33).fill(rect), 480, 640)).toMatch(/at most 32/u);
  });

  it('remembers templates in a JSON file that holds no patient data', async () => {
    const file = path.join(work, 'data', 'mask-templates.json');
    const store = fileMaskTemplates(file);
    expect(await store.get(kind)).toBeUndefined();
    await store.set(kind, [rect]);
    await store.set({ ...kind, rows: 600 }, [{ x: 0, y: 0, width: 640, height: 40 }]);
    const again = fileMaskTemplates(file);
    expect((await again.get(kind))?.rects).toEqual([rect]);
    expect((await again.get({ ...kind, manufacturer: 'ACME MEDICAL' }))?.rects).toEqual([rect]);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      templates: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(saved.templates).sort()).toEqual([
      'ACME MEDICAL|SONO 5|480x640',
      'ACME MEDICAL|SONO 5|600x640',
    ]);
    for (const template of Object.values(saved.templates)) {
      expect(Object.keys(template).sort()).toEqual([
        'columns',
        'manufacturer',
        'model',
        'rects',
        'rows',
        'updatedAt',
      ]);
    }
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('drops a damaged or hand-edited entry instead of proposing it', async () => {
    const file = path.join(work, 'damaged.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        templates: {
          'ACME MEDICAL|SONO 5|480x640': {
            ...kind,
            rects: [{ x: 0, y: 0, width: 9999, height: 1 }],
          },
        },
      }),
    );
    expect(await fileMaskTemplates(file).get(kind)).toBeUndefined();
    writeFileSync(file, '{ not json');
    expect(await fileMaskTemplates(file).get(kind)).toBeUndefined();
    await fileMaskTemplates(file).set(kind, [rect]);
    expect((await fileMaskTemplates(file).get(kind))?.rects).toEqual([rect]);
  });
});

describe('masks.get / masks.set / masks.clear', () => {
  it('sets the user rectangles, saves the template, proposes it on the next disc', async () => {
    const media = await makeMedia({
      outDir: path.join(work, 'disc'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 2,
      rows: 48,
      columns: 64,
      modalities: ['US', 'CT'],
      withDicomdir: false,
      extras: false,
      seed: 11,
    });
    const templates = memoryMaskTemplates();
    const service = createAppService({
      host: 'browser-host',
      version: '0.1.0',
      engines: { masks: new SeriesMasks() },
      platformServices: {
        secrets: memorySecretStore(),
        keepAwake: { start: vi.fn(), stop: vi.fn() },
      },
      history: memoryHistory(),
      emit: () => {},
      maskTemplates: templates,
    });
    const dispatch = createDispatch(service.handlers);
    const scan = async (): Promise<ScanView> => {
      const answer = await dispatch('media.scan', { path: media.root });
      if (!answer.ok) throw new Error(answer.error.message);
      return answer.value as ScanView;
    };
    const first = await scan();
    const us = first.patients[0]!.studies[0]!.series.find((s) => s.modality === 'US')!;
    const ask = { scanId: first.scanId, seriesInstanceUid: us.seriesInstanceUid };
    const none = await dispatch('masks.get', ask);
    expect(none).toMatchObject({
      ok: true,
      value: { source: 'none', rectangles: [], rows: 48, columns: 64 },
    });

    const set = await dispatch('masks.set', {
      ...ask,
      rectangles: [{ x: 0, y: 0, width: 64, height: 8 }],
    });
    expect(set.ok).toBe(true);
    const view = (set as { value: MaskView }).value;
    expect(view).toMatchObject({
      source: 'user',
      rectangles: [{ x: 0, y: 0, width: 64, height: 8 }],
      templateKey: 'DICOM FERRY TEST MEDIA||48x64',
    });
    expect(us.instances).toBe(2);

    // Outside the image, fractions, too many: refused with a plain sentence, nothing changes.
    const outside = await dispatch('masks.set', {
      ...ask,
      rectangles: [{ x: 60, y: 0, width: 5, height: 1 }],
    });
    expect(outside).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect((outside as { error: { message: string } }).error.message).toMatch(
      /inside the image \(64 x 48/u,
    );
    const fraction = await dispatch('masks.set', {
      ...ask,
      rectangles: [{ x: 0.5, y: 0, width: 5, height: 1 }],
    });
    expect(fraction).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    const many = await dispatch('masks.set', {
      ...ask,
      rectangles: new Array(33).fill({ x: 0, y: 0, width: 1, height: 1 }),
    });
    expect(many).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await dispatch('masks.get', ask)).toMatchObject({ ok: true, value: { source: 'user' } });

    // Reading the disc again forgets the user's masks; the template proposes them.
    const second = await scan();
    const proposed = await dispatch('masks.get', { ...ask, scanId: second.scanId });
    expect(proposed).toMatchObject({
      ok: true,
      value: { source: 'template', rectangles: [{ x: 0, y: 0, width: 64, height: 8 }] },
    });
    const cleared = await dispatch('masks.clear', { ...ask, scanId: second.scanId });
    expect(cleared).toMatchObject({ ok: true, value: { source: 'template' } });

    const unknown = await dispatch('masks.get', {
      ...ask,
      scanId: second.scanId,
      seriesInstanceUid: '1.2.3',
    });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const stale = await dispatch('masks.get', ask);
    expect(stale).toMatchObject({ ok: false, error: { code: 'no-scan' } });
  });
});
