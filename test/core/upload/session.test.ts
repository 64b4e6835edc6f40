/**
 * The upload session against the reference portal (embedded store) on loopback, through the
 * fault-injecting proxy: complete uploads, pre-flight refusals, resume, faults, revoked and
 * expired links.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../../main/core/errors.ts';
import {
  readTimeline,
  startUpload,
  UploadJournal,
  type UploadEvent,
  type UploadOptions,
} from '../../../main/core/upload/index.ts';
import type { Fault } from '../../support/fault-proxy.ts';
import {
  makeLink,
  makeTestMedia,
  newKey,
  portalHolds,
  removeTempDirs,
  startRig,
  tempDir,
  type Rig,
  type TestMedia,
} from './helpers.ts';

let rig: Rig;
let media: TestMedia;

beforeAll(async () => {
  rig = await startRig();
  media = await makeTestMedia(40, 4242);
});

afterAll(async () => {
  await rig?.close();
  await removeTempDirs();
});

async function options(link: string, extra: Partial<UploadOptions> = {}): Promise<UploadOptions> {
  return {
    link,
    items: media.items,
    mediaRoot: media.root,
    journalDir: await tempDir('ferry-journal-'),
    key: newKey(),
    batchCount: 5,
    concurrency: 3,
    follow: { intervalMs: 50, timeoutMs: 20_000 },
    retry: { baseDelayMs: 20, maxDelayMs: 300, maxAttempts: 12 },
    idleTimeoutMs: 1500,
    ...extra,
  };
}

describe('upload session (embedded portal)', () => {
  it('sends every instance once, commits, and follows the status to "available"', async () => {
    rig.proxy.plan = undefined;
    rig.proxy.stowParts.clear();
    const { link, accountId } = makeLink(rig);
    const events: UploadEvent[] = [];
    const opts = await options(link, { onEvent: (e) => events.push(e) });
    const result = await startUpload(opts).done;
    expect(result.status.state).toBe('available');
    expect(result.instances).toEqual({ selected: 40, alreadyHeld: 0, confirmed: 40, failed: 0 });
    expect(portalHolds(rig, accountId).sort()).toEqual(
      media.items.map((i) => i.sopInstanceUid).sort(),
    );
    expect([...rig.proxy.stowParts.values()].every((n) => n === 1)).toBe(true);
    expect(rig.proxy.stowParts.size).toBe(40);

    const last = events.filter((e) => e.kind === 'progress').at(-1);
    expect(last).toMatchObject({ instances: { done: 40, total: 40 } });
    expect(events.some((e) => e.kind === 'status' && e.status.state === 'available')).toBe(true);

    // The timeline is kept and readable later, with the portal's sentences word for word.
    const kept = await readTimeline(opts.journalDir, opts.key, result.transferId);
    expect(kept?.status.state).toBe('available');
    expect(kept?.status.timeline.map((e) => e.state)).toEqual([
      'created',
      'receiving',
      'received',
      'verifying',
      'available',
    ]);

    // The journal holds no UID, path or hash in clear.
    const journalBytes = await readFile(result.journalFile);
    for (const item of media.items.slice(0, 5)) {
      expect(journalBytes.includes(item.sopInstanceUid)).toBe(false);
    }
    expect(journalBytes.includes(result.transferId)).toBe(false);
    const journal = await UploadJournal.open(result.journalFile, opts.key);
    expect(media.items.every((i) => journal.stateOf(i.sopInstanceUid) === 'confirmed')).toBe(true);
    expect(journal.entry(media.items[0]!.sopInstanceUid)?.sha256).toMatch(/^[0-9a-f]{64}$/);
    await journal.close();

    // Run again: nothing is sent, the same transfer is reported.
    rig.proxy.stowParts.clear();
    const again = await startUpload(opts).done;
    expect(again.transferId).toBe(result.transferId);
    expect(rig.proxy.stowParts.size).toBe(0);
  });

  it('refuses before sending when the policy asks for de-identification and none is available', async () => {
    rig.proxy.stowParts.clear();
    const { link, accountId } = makeLink(rig, { policy: { kind: 'basic', options: [] } });
    const error = await startUpload(await options(link)).done.catch((e: unknown) => e);
    expect(isFerryError(error, 'deid-unavailable')).toBe(true);
    expect((error as Error).message).toMatch(/cannot do that yet, so nothing was sent/);
    expect(rig.proxy.stowParts.size).toBe(0);
    expect(portalHolds(rig, accountId)).toEqual([]);

    const reconcile = makeLink(rig, { policy: { kind: 'reconcile', mrn: 'MRN1' } });
    const error2 = await startUpload(await options(reconcile.link)).done.catch((e: unknown) => e);
    expect(isFerryError(error2, 'deid-unavailable')).toBe(true);
  });

  it('refuses a selection over the link limits before sending', async () => {
    rig.proxy.stowParts.clear();
    const { link } = makeLink(rig, { maxInstances: 10 });
    const error = await startUpload(await options(link)).done.catch((e: unknown) => e);
    expect(isFerryError(error, 'over-limit')).toBe(true);
    expect(rig.proxy.stowParts.size).toBe(0);
  });

  it('completes through resets, 500/503, 429 with Retry-After, slow, trickled and stalled answers', async () => {
    rig.proxy.stowParts.clear();
    const faults: Fault[] = [
      { kind: 'reset' },
      { kind: 'status', status: 503, retryAfter: '1' },
      { kind: 'reset-mid-body', afterBytes: 3000 },
      { kind: 'status', status: 500 },
      { kind: 'reset-after' },
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'slow', delayMs: 400 },
      { kind: 'stall' },
      { kind: 'trickle', chunkBytes: 64, everyMs: 5 },
    ];
    let next = 0;
    // Every other request gets the next fault, API calls included.
    rig.proxy.plan = (request) =>
      request.index % 2 === 0 && next < faults.length * 2
        ? faults[next++ % faults.length]
        : undefined;
    const { link, accountId } = makeLink(rig);
    const events: UploadEvent[] = [];
    const result = await startUpload(await options(link, { onEvent: (e) => events.push(e) })).done;
    rig.proxy.plan = undefined;
    expect(result.status.state).toBe('available');
    expect(portalHolds(rig, accountId).sort()).toEqual(
      media.items.map((i) => i.sopInstanceUid).sort(),
    );
    const injected = rig.proxy.stats.faults;
    for (const kind of [
      'reset',
      'status',
      'reset-mid-body',
      'reset-after',
      'slow',
      'stall',
      'trickle',
    ]) {
      expect(injected[kind], kind).toBeGreaterThan(0);
    }
    expect(events.some((e) => e.kind === 'retry' && e.delayMs >= 1000)).toBe(true); // Retry-After honoured
  });

  it('stops with a clear sentence when the link is revoked mid-upload, keeps the journal, and finishes with a new link', async () => {
    rig.proxy.stowParts.clear();
    const first = makeLink(rig);
    let stowSeen = 0;
    rig.proxy.plan = (request) => {
      if (!request.isStow) return undefined;
      if (++stowSeen === 3)
        rig.portal.service.revokeLink(first.linkId, 'sent to the wrong address', 'test');
      return { kind: 'slow', delayMs: 50 };
    };
    const opts = await options(first.link, { concurrency: 1 });
    const error = await startUpload(opts).done.catch((e: unknown) => e);
    rig.proxy.plan = undefined;
    expect(isFerryError(error, 'link-revoked')).toBe(true);
    // The portal's own sentence for a dead link, or Ferry's when it gives none.
    expect((error as Error).message).toMatch(/revoked.*new (link|one)/);
    const partly = portalHolds(rig, first.accountId);
    expect(partly.length).toBeGreaterThan(0);
    expect(partly.length).toBeLessThan(40);

    const journalFile = UploadJournal.fileFor(
      opts.journalDir,
      opts.key,
      rig.proxy.url,
      media.items.map((i) => i.sopInstanceUid),
    );
    const journal = await UploadJournal.open(journalFile, opts.key);
    const confirmed = media.items
      .filter((i) => journal.stateOf(i.sopInstanceUid) === 'confirmed')
      .map((i) => i.sopInstanceUid);
    await journal.close();
    expect(confirmed.length).toBeGreaterThan(0);

    const fresh = rig.portal.service.issueLink(first.accountId, 86_400_000, 'test');
    const before = new Map(rig.proxy.stowParts);
    const result = await startUpload({ ...opts, link: fresh.link }).done;
    expect(result.status.state).toBe('available');
    expect(result.instances.alreadyHeld).toBe(partly.length);
    expect(portalHolds(rig, first.accountId).sort()).toEqual(
      media.items.map((i) => i.sopInstanceUid).sort(),
    );
    for (const uid of confirmed) expect(rig.proxy.stowParts.get(uid)).toBe(before.get(uid)); // not re-sent
  });

  it('stops when the link expires mid-upload and finishes with a new link', async () => {
    rig.proxy.stowParts.clear();
    const first = makeLink(rig, { expiresInMs: 60_000 });
    let stowSeen = 0;
    rig.proxy.plan = (request) => {
      if (request.isStow && ++stowSeen === 3) rig.clock.offsetMs = 120_000; // the link's hour has passed
      return undefined;
    };
    const opts = await options(first.link, { concurrency: 1 });
    const error = await startUpload(opts).done.catch((e: unknown) => e);
    rig.proxy.plan = undefined;
    expect(isFerryError(error, 'link-expired')).toBe(true);
    expect((error as Error).message).toMatch(/expired.*new (link|one)/);
    const partly = portalHolds(rig, first.accountId).length;
    expect(partly).toBeGreaterThan(0);

    const fresh = rig.portal.service.issueLink(first.accountId, 86_400_000, 'test');
    const result = await startUpload({ ...opts, link: fresh.link }).done;
    rig.clock.offsetMs = 0;
    expect(result.status.state).toBe('available');
    expect(result.instances.alreadyHeld).toBe(partly);
    expect(portalHolds(rig, first.accountId)).toHaveLength(40);
  });

  it('pauses, resumes and cancels; a cancelled upload resumes without re-sending', async () => {
    rig.proxy.stowParts.clear();
    rig.proxy.plan = (request) => (request.isStow ? { kind: 'slow', delayMs: 100 } : undefined);
    const { link, accountId } = makeLink(rig);
    const opts = await options(link, { concurrency: 1, batchCount: 2 });
    let confirmedAtPause = -1;
    const { session, done } = startUpload({
      ...opts,
      onEvent: (e) => {
        if (e.kind === 'progress' && e.instances.done >= 6 && confirmedAtPause < 0) {
          confirmedAtPause = e.instances.done;
          session.pause();
          setTimeout(() => {
            expect(session.paused).toBe(true);
            session.resume();
          }, 300);
        }
        if (e.kind === 'progress' && e.instances.done >= 20) session.cancel();
      },
    });
    const error = await done.catch((e: unknown) => e);
    expect(isFerryError(error, 'cancelled')).toBe(true);
    const held = portalHolds(rig, accountId);
    expect(held.length).toBeGreaterThanOrEqual(20);
    expect(held.length).toBeLessThan(40);

    rig.proxy.plan = undefined;
    const before = new Map(rig.proxy.stowParts);
    const result = await startUpload(opts).done;
    expect(result.status.state).toBe('available');
    for (const uid of held) expect(rig.proxy.stowParts.get(uid)).toBe(before.get(uid));
    expect(portalHolds(rig, accountId)).toHaveLength(40);
  });

  it('reports an unreadable instance and sends the rest', async () => {
    const { rm } = await import('node:fs/promises');
    const local = await makeTestMedia(6, 777, 1);
    const victim = local.items[2]!;
    await rm(path.join(local.root, victim.path));
    const { link, accountId } = makeLink(rig);
    const result = await startUpload({
      ...(await options(link)),
      items: local.items,
      mediaRoot: local.root,
    }).done;
    expect(result.failures.map((f) => [f.path, f.code])).toEqual([
      [victim.path, 'instance-unreadable'],
    ]);
    expect(result.failures[0]?.message).toMatch(/could not be read/);
    expect(portalHolds(rig, accountId)).toHaveLength(5);
    expect(['available', 'verifying', 'received']).toContain(result.status.state);
  });
});

describe('ferry upload / ferry status commands', () => {
  it('uploads with the CLI and shows the timeline, also on a revoked link', async () => {
    const { main } = await import('../../../main/cli.ts');
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      isTty: false,
    };
    const { link, linkId } = makeLink(rig);
    const keyFile = path.join(await tempDir('ferry-key-'), 'k');
    const journalDir = await tempDir('ferry-journal-');
    const code = await main(
      [
        'upload',
        media.root,
        '--link',
        link,
        '--key-file',
        keyFile,
        '--journal-dir',
        journalDir,
        '--json',
        '--confirm-identity', // generated names are random; the identity check has its own test
      ],
      io,
    );
    expect(code, err.join('')).toBe(0);
    const result = JSON.parse(out.join('')) as { transferId: string; state: string };
    expect(result.state).toBe('available');

    rig.portal.service.revokeLink(linkId, undefined, 'test');
    out.length = 0;
    expect(await main(['status', '--link', link, '--json'], io)).toBe(0);
    const status = JSON.parse(out.join('')) as {
      transferId: string;
      state: string;
      timeline: { message: string }[];
      link: { state: string; reason: string };
    };
    expect(status.link.state).toBe('revoked');
    expect(status.link.reason).toMatch(/revoked/);
    expect(status.transferId).toBe(result.transferId);
    expect(status.state).toBe('available');
    expect(status.timeline.at(-1)?.message).toBe(
      'The images are available to Dr Test (Radiology).',
    );

    out.length = 0;
    expect(
      await main(
        [
          'upload',
          media.root,
          '--link',
          link,
          '--key-file',
          keyFile,
          '--journal-dir',
          journalDir,
          '--confirm-identity',
        ],
        io,
      ),
    ).toBe(1);
    expect(err.join('')).toMatch(/revoked/);
  });
});
