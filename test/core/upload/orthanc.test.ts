/**
 * Exactly once, into a real Orthanc (Debian orthanc + orthanc-dicomweb) behind the reference
 * portal: through injected faults, and across kill -9 of `ferry upload` at random points.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpload, UploadJournal } from '../../../main/core/upload/index.ts';
import { missingOrthanc, startOrthanc, type RunningOrthanc } from '../../support/orthanc.ts';
import { skipFor } from '../../support/tools.ts';
import {
  makeLink,
  makeTestMedia,
  newKey,
  removeTempDirs,
  startRig,
  tempDir,
  type Rig,
} from './helpers.ts';

const skip = skipFor(missingOrthanc());
const repoRoot = path.resolve(import.meta.dirname, '../../..');

let orthanc: RunningOrthanc;
let rig: Rig;

beforeAll(async () => {
  if (skip) return;
  orthanc = await startOrthanc();
  rig = await startRig({ archive: `dicomweb:${orthanc.dicomWebUrl}` });
});

afterAll(async () => {
  await rig?.close();
  await orthanc?.dispose();
  await removeTempDirs();
});

function duplicates(list: readonly string[]): string[] {
  const seen = new Set<string>();
  return list.filter((uid) => (seen.has(uid) ? true : (seen.add(uid), false)));
}

describe.skipIf(skip)('upload into Orthanc through the portal', () => {
  it('stores every selected instance in Orthanc exactly once, through faults', async () => {
    const media = await makeTestMedia(30, 9001, 3);
    let n = 0;
    rig.proxy.plan = (request) => {
      if (!request.isStow) return undefined;
      const kinds = [
        { kind: 'reset' },
        undefined,
        { kind: 'status', status: 503, retryAfter: '1' },
        { kind: 'reset-after' },
        undefined,
        { kind: 'stall' },
      ] as const;
      return n < 12 ? kinds[n++ % kinds.length] : undefined;
    };
    const { link } = makeLink(rig);
    const result = await startUpload({
      link,
      items: media.items,
      mediaRoot: media.root,
      journalDir: await tempDir('ferry-journal-'),
      key: newKey(),
      batchCount: 4,
      concurrency: 2,
      idleTimeoutMs: 1500,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      follow: { intervalMs: 100, timeoutMs: 30_000 },
    }).done;
    rig.proxy.plan = undefined;
    expect(result.status.state).toBe('available');
    const stored = await orthanc.listInstances();
    const selected = media.items.map((i) => i.sopInstanceUid);
    expect(duplicates(stored)).toEqual([]);
    expect(stored.filter((uid) => selected.includes(uid)).sort()).toEqual([...selected].sort());
  });

  it('survives kill -9 of `ferry upload` at random points: completes, nothing stored twice, nothing confirmed re-sent', async () => {
    const media = await makeTestMedia(120, 31337, 2);
    const { link, accountId } = makeLink(rig);
    const journalDir = await tempDir('ferry-journal-');
    const keyFile = path.join(await tempDir('ferry-key-'), 'journal.key');
    // Slow answers stretch the upload so kills land in every phase.
    rig.proxy.plan = (request) => (request.isStow ? { kind: 'slow', delayMs: 200 } : undefined);
    rig.proxy.stowParts.clear();
    const selected = media.items.map((i) => i.sopInstanceUid);

    const args = [
      'bin/ferry.cjs',
      'upload',
      media.root,
      '--link',
      link,
      '--key-file',
      keyFile,
      '--journal-dir',
      journalDir,
      '--batch-count',
      '2',
      '--concurrency',
      '2',
      '--json',
      '--confirm-identity', // generated names are random; the identity check has its own test
    ];
    const run = (killAfterMs?: number) =>
      new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
        (resolve) => {
          const child = spawn(process.execPath, args, {
            cwd: repoRoot,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          let armed = false;
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr.on('data', (d: Buffer) => {
            stderr += d.toString();
            // Count from the moment the link answered: the random point is inside the upload.
            if (!armed && killAfterMs !== undefined && stderr.includes('Sending to')) {
              armed = true;
              setTimeout(() => child.kill('SIGKILL'), killAfterMs);
            }
          });
          child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
        },
      );

    const confirmedInJournal = async (): Promise<Set<string>> => {
      const key = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'hex');
      const journal = await UploadJournal.open(
        UploadJournal.fileFor(journalDir, key, rig.proxy.url, selected),
        key,
      );
      try {
        return new Set(selected.filter((uid) => journal.stateOf(uid) === 'confirmed'));
      } finally {
        await journal.close();
      }
    };

    let kills = 0;
    let mostConfirmed = 0;
    const killPoints: number[] = [];
    for (let attempt = 0; attempt < 10 && kills < 6; attempt++) {
      const confirmed = kills > 0 ? await confirmedInJournal() : new Set<string>();
      mostConfirmed = Math.max(mostConfirmed, confirmed.size);
      const before = new Map(rig.proxy.stowParts);
      const delay = Math.floor(Math.random() * 700);
      const outcome = await run(delay);
      if (outcome.signal === 'SIGKILL') {
        kills++;
        killPoints.push(delay);
      }
      // Nothing the journal had confirmed went out again.
      for (const uid of confirmed)
        expect(rig.proxy.stowParts.get(uid) ?? 0, 'confirmed instance re-sent').toBe(
          before.get(uid) ?? 0,
        );
      if (outcome.signal !== 'SIGKILL') expect(outcome.code, outcome.stderr).toBe(0);
    }
    expect(kills, `kill points ${killPoints.join(', ')} ms`).toBeGreaterThanOrEqual(5);
    expect(mostConfirmed).toBeGreaterThan(0); // the runs did resume from a journal with progress in it

    rig.proxy.plan = undefined;
    const confirmed = await confirmedInJournal();
    const before = new Map(rig.proxy.stowParts);
    const final = await run();
    expect(final.code, final.stderr).toBe(0);
    const answer = JSON.parse(final.stdout) as { state: string; instances: { selected: number } };
    expect(answer.state).toBe('available');
    for (const uid of confirmed)
      expect(rig.proxy.stowParts.get(uid) ?? 0).toBe(before.get(uid) ?? 0);

    const stored = await orthanc.listInstances();
    expect(duplicates(stored)).toEqual([]);
    expect(stored.filter((uid) => selected.includes(uid)).sort()).toEqual([...selected].sort());
    rig.portal.service.store.sync();
    expect(rig.portal.service.store.instancesOf(accountId).size).toBe(120);
  });
});
