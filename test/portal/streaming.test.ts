/**
 * STOW-RS bodies are streamed: a request several times larger than the memory the process may grow
 * by passes through without the portal holding it (parts go to temp files as they arrive).
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortal, type RunningPortal } from '../../portal/server.ts';
import { makeMedia } from '../support/make-media.ts';
import { referenced, removeTempDirs, request, tempDir, tokenOf } from './helpers.ts';

let portal: RunningPortal;

beforeAll(async () => {
  portal = await startPortal({ dataDir: await tempDir(), staffPassword: 'x' });
});

afterAll(async () => {
  await portal?.close();
  await removeTempDirs();
});

describe('streaming STOW-RS', () => {
  it('receives a 130 MB request while the process grows by far less', async () => {
    const outDir = await tempDir('ferry-portal-big-');
    const media = await makeMedia({
      outDir,
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 4,
      rows: 4096,
      columns: 4096,
      withDicomdir: false,
      extras: false,
      seed: 77,
    });
    const series = media.patients[0]!.studies[0]!.series[0]!;
    const files = series.files.map((f) => path.join(media.root, f));
    const { link } = portal.service.createLink(
      {
        patientName: 'BIG^STUDY',
        birthDate: '19600101',
        email: 'big@example.org',
        provider: 'Dr. Big',
        expiresInMs: 86_400_000,
        policy: { kind: 'none' },
      },
      'test',
    );
    const boundary = 'big-boundary-1';
    async function* body() {
      for (const file of files) {
        yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
        for await (const chunk of createReadStream(file)) yield chunk as Buffer;
        yield Buffer.from('\r\n');
      }
      yield Buffer.from(`--${boundary}--\r\n`);
    }
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const answer = await request(`${portal.url}/dicomweb/studies`, {
      method: 'POST',
      token: tokenOf(link),
      headers: {
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      },
      chunks: body(),
    });
    clearInterval(sampler);
    expect(answer.status, answer.text).toBe(200);
    expect(referenced(answer.json)).toEqual(series.sopInstanceUids);
    expect(media.totalBytes).toBeGreaterThan(130e6);
    // Client and portal share this process: both stream, so growth stays a fraction of the body.
    expect((peak - baseline) / 1e6).toBeLessThan(48);
  });
});
