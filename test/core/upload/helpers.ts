/** Shared pieces of the upload tests: a portal behind the fault proxy, generated media, links. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanMedia } from '../../../main/core/media/scan.ts';
import { itemsFromScan, type UploadItem } from '../../../main/core/upload/index.ts';
import type { LinkPolicy } from '../../../portal/model.ts';
import { startPortal, type RunningPortal } from '../../../portal/server.ts';
import { makeMedia } from '../../support/make-media.ts';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.ts';
import { freePort } from '../../support/free-port.ts';

const dirs: string[] = [];

export async function tempDir(prefix = 'ferry-upload-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export interface Rig {
  readonly portal: RunningPortal;
  readonly proxy: FaultProxy;
  /** The portal's clock: tests move it to expire links. */
  clock: { offsetMs: number };
  close(): Promise<void>;
}

/** A portal whose public address is the fault proxy: every request Ferry makes goes through it. */
export async function startRig(options: { archive?: string } = {}): Promise<Rig> {
  const proxy = await startFaultProxy();
  const clock = { offsetMs: 0 };
  // The portal's public address is the proxy, so its own port is chosen here to be known.
  const port = await freePort();
  const portal = await startPortal({
    port,
    dataDir: path.join(await tempDir('ferry-upload-portal-'), 'data'),
    publicUrl: proxy.url,
    staffPassword: 'test-password',
    log: () => undefined,
    verifyRetryMs: 200,
    now: () => new Date(Date.now() + clock.offsetMs),
    ...(options.archive ? { archive: options.archive } : {}),
  });
  proxy.target = `http://127.0.0.1:${port}`;
  return {
    portal,
    proxy,
    clock,
    async close() {
      await proxy.close();
      await portal.close();
    },
  };
}

export function makeLink(
  rig: Rig,
  options: {
    policy?: LinkPolicy;
    expiresInMs?: number;
    maxInstances?: number;
    maxBytes?: number;
    /** Whom the link is for (the identity check); default TEST^PATIENT, 19700101. */
    patient?: { name: string; birthDate: string };
  } = {},
): { link: string; accountId: string; linkId: string } {
  return rig.portal.service.createLink(
    {
      patientName: options.patient?.name ?? 'TEST^PATIENT',
      birthDate: options.patient?.birthDate ?? '19700101',
      email: 'patient@example.org',
      provider: 'Dr Test',
      department: 'Radiology',
      expiresInMs: options.expiresInMs ?? 86_400_000,
      policy: options.policy ?? { kind: 'none' },
      ...(options.maxInstances || options.maxBytes
        ? {
            limits: {
              ...(options.maxInstances ? { maxInstances: options.maxInstances } : {}),
              ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
            },
          }
        : {}),
    },
    'test',
  );
}

export interface TestMedia {
  readonly root: string;
  readonly items: UploadItem[];
}

export async function makeTestMedia(
  instances: number,
  seed: number,
  studies = 2,
): Promise<TestMedia> {
  const media = await makeMedia({
    outDir: path.join(await tempDir('ferry-upload-media-'), 'disc'),
    patients: 1,
    studiesPerPatient: studies,
    seriesPerStudy: 1,
    instancesPerSeries: Math.ceil(instances / studies),
    rows: 32,
    columns: 32,
    withDicomdir: false,
    extras: false,
    seed,
  });
  const scan = await scanMedia(media.root);
  return { root: media.root, items: itemsFromScan(scan) };
}

export function newKey(): Buffer {
  return randomBytes(32);
}

/** Every SOP Instance UID the portal's store holds for the account. */
export function portalHolds(rig: Rig, accountId: string): string[] {
  rig.portal.service.store.sync();
  return [...rig.portal.service.store.instancesOf(accountId).keys()];
}
