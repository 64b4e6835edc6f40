/** The upload adapter (real-engines.ts): the session's events as the UI's UploadProgress. */
import { describe, expect, it, vi } from 'vitest';
import type { UploadUpdate } from '../../main/core/app-service/engines.ts';
import { FerryError } from '../../main/core/errors.ts';
import { parseUploadLink } from '../../main/core/link/link-url.ts';
import type { UploadEvent, UploadOptions } from '../../main/core/upload/session.ts';

const session = { pause: vi.fn(), resume: vi.fn(), cancel: vi.fn() };
let emit: ((event: UploadEvent) => void) | undefined;
let settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void } | undefined;
let options: UploadOptions | undefined;

vi.mock('../../main/core/upload/session.ts', () => ({
  startUpload: (given: UploadOptions) => {
    options = given;
    emit = given.onEvent;
    return {
      session,
      done: new Promise((resolve, reject) => (settle = { resolve, reject })),
    };
  },
}));

const { uploadEngine } = await import('../../main/core/app-service/real-engines.ts');

function start() {
  const updates: UploadUpdate[] = [];
  const control = uploadEngine({
    journalDir: '/tmp/journal',
    journalKey: async () => Buffer.alloc(32, 1),
  }).start(
    {
      link: parseUploadLink(`https://portal.example/u/${'K'.repeat(43)}`),
      root: '/media/cd',
      instances: [
        {
          studyInstanceUid: '1.2.3',
          seriesInstanceUid: '1.2.3.4',
          instance: {
            path: 'DICOM/IM1',
            bytes: 100,
            sopInstanceUid: '1.2.3.4.5',
            sopClassUid: '1.2',
            transferSyntaxUid: '1.2.840.10008.1.2.1',
            source: 'header',
          },
        },
      ],
      policy: { kind: 'none' },
      burnedInConfirmed: false,
      client: { name: 'DICOM Ferry', version: '0.1.0' },
    },
    (update) => updates.push(update),
  );
  return { updates, control };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the upload adapter', () => {
  it('maps phases, progress, pause, network retries and the end onto UploadProgress', async () => {
    const { updates, control } = start();
    await tick();
    expect(options?.items).toEqual([
      { path: 'DICOM/IM1', sopInstanceUid: '1.2.3.4.5', studyInstanceUid: '1.2.3', bytes: 100 },
    ]);
    expect(options?.follow).toBe(false);
    emit?.({ kind: 'phase', phase: 'resolving' });
    emit?.({ kind: 'transfer', transferId: 'tr_1', how: 'created' });
    emit?.({
      kind: 'progress',
      instances: { done: 0, total: 1 },
      bytes: { done: 50, total: 100 },
      rate: 25,
      etaSeconds: 2,
    });
    control.pause();
    expect(session.pause).toHaveBeenCalled();
    emit?.({ kind: 'paused' });
    emit?.({ kind: 'resumed' });
    emit?.({ kind: 'retry', attempt: 1, delayMs: 100, code: 'portal-unreachable' });
    emit?.({ kind: 'phase', phase: 'committing' });
    settle?.resolve({ transferId: 'tr_1' });
    await tick();
    expect(updates.map((u) => u.state)).toEqual([
      'preparing',
      'preparing',
      'sending',
      'paused',
      'sending',
      'waiting-network',
      'committing',
      'done',
    ]);
    expect(updates[2]).toMatchObject({
      sentBytes: 50,
      totalBytes: 100,
      bytesPerSecond: 25,
      etaSeconds: 2,
      transferId: 'tr_1',
    });
    expect(updates.at(-1)).toMatchObject({ state: 'done', transferId: 'tr_1' });
  });

  it('reports a failure with the catalogue sentence, and a cancel as cancelled', async () => {
    const failed = start();
    await tick();
    settle?.reject(new FerryError('retries-exhausted'));
    await tick();
    expect(failed.updates.at(-1)).toMatchObject({
      state: 'failed',
      error: { code: 'retries-exhausted', message: new FerryError('retries-exhausted').message },
    });

    const cancelled = start();
    await tick();
    cancelled.control.cancel();
    settle?.reject(new FerryError('cancelled'));
    await tick();
    expect(cancelled.updates.at(-1)).toMatchObject({ state: 'cancelled' });
  });
});
