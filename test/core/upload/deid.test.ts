/**
 * De-identification plugged into the upload (main/core/deid/upload-source.ts), against the
 * reference portal and a real Orthanc behind it: a basic-profile link stores every instance once
 * with no planted patient value and the same remapped UIDs across kill -9 and resume; a reconcile
 * link puts the MRN in Patient ID and the original ID in Other Patient IDs Sequence; images that
 * may show identity in their pixels are refused unless confirmed.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeidSource,
  deidKeyFrom,
  identityPolicyFor,
} from '../../../main/core/deid/upload-source.ts';
import type { LinkPolicy } from '../../../main/core/link/model.ts';
import { scanMedia } from '../../../main/core/media/scan.ts';
import { itemsFromScan, startUpload, type UploadItem } from '../../../main/core/upload/index.ts';
import { makeMedia, type GeneratedMedia } from '../../support/make-media.ts';
import { missingOrthanc, startOrthanc, type RunningOrthanc } from '../../support/orthanc.ts';
import { skipFor } from '../../support/tools.ts';
import { makeLink, newKey, removeTempDirs, startRig, tempDir, type Rig } from './helpers.ts';

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

async function media(
  seed: number,
  options: { names: string[]; instancesPerSeries: number; modalities?: string[] },
): Promise<{
  generated: GeneratedMedia;
  items: UploadItem[];
  /** The disc's patient as scanned: links are made for them, so the identity check passes. */
  patient: { name: string; birthDate: string };
}> {
  const generated = await makeMedia({
    outDir: path.join(await tempDir('ferry-deid-media-'), 'disc'),
    patients: options.names.length,
    patientNames: options.names,
    studiesPerPatient: 2,
    seriesPerStudy: 1,
    instancesPerSeries: options.instancesPerSeries,
    rows: 32,
    columns: 32,
    withDicomdir: false,
    extras: false,
    ...(options.modalities ? { modalities: options.modalities } : {}),
    seed,
  });
  const scan = await scanMedia(generated.root);
  const first = scan.patients[0]!;
  return {
    generated,
    items: itemsFromScan(scan),
    patient: { name: first.patientName, birthDate: first.birthDate },
  };
}

/** Orthanc's own view of every instance it holds: tags by keyword, nested sequences included. */
async function orthancTags(): Promise<Map<string, Record<string, unknown>>> {
  const ids = (await orthanc.get('/instances')) as string[];
  const byUid = new Map<string, Record<string, unknown>>();
  for (const id of ids) {
    const tags = (await orthanc.get(`/instances/${id}/simplified-tags`)) as Record<string, unknown>;
    byUid.set(String(tags.SOPInstanceUID), tags);
  }
  return byUid;
}

function runFerry(
  args: string[],
  killAfterMs?: number,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/ferry.cjs', ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let armed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!armed && killAfterMs !== undefined && stderr.includes('Sending:')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('link policy -> de-identification policy', () => {
  const key = newKey();
  it('maps basic options to Ferry names, the subject ID to the pseudonym, and refuses what Ferry does not do', () => {
    const policy = identityPolicyFor(
      {
        kind: 'basic',
        options: ['retain-longitudinal-modified-dates', 'clean-descriptors'],
        subjectId: 'SUBJ-0042',
      },
      key,
    );
    expect(policy).toEqual({
      kind: 'deidentify',
      profile: 'basic',
      options: ['retain-modified-dates', 'clean-descriptors'],
      key: deidKeyFrom(key),
      pseudonym: { patientId: 'SUBJ-0042' },
    });
    expect(identityPolicyFor({ kind: 'none' }, key)).toBeUndefined();
    expect(identityPolicyFor({ kind: 'reconcile', mrn: 'MRN9', issuer: 'HOSP' }, key)).toEqual({
      kind: 'reconcile',
      patientId: 'MRN9',
      issuerOfPatientId: 'HOSP',
    });
    expect(() =>
      identityPolicyFor({ kind: 'basic', options: ['clean-recognizable-visual-features'] }, key),
    ).toThrow(expect.objectContaining({ code: 'deid-unavailable' }));
    expect(() => identityPolicyFor({ kind: 'unknown', name: 'x' }, key)).toThrow(
      expect.objectContaining({ code: 'policy-unknown' }),
    );
    // Never the journal's key bytes themselves.
    expect(deidKeyFrom(key).equals(key)).toBe(false);
  });
});

describe.skipIf(skip)('de-identified upload into Orthanc through the portal', () => {
  it('basic profile: every instance once, no planted patient value, the same new UIDs across kill -9 and resume', async () => {
    const {
      generated,
      items,
      patient: onDisc,
    } = await media(4242, {
      names: ['PLANTEDFAMILY^PLANTEDGIVEN'],
      instancesPerSeries: 30,
      modalities: ['CT', 'MR'],
    });
    const patient = generated.patients[0]!;
    const planted = [
      'PLANTEDFAMILY',
      'PLANTEDGIVEN',
      patient.patientId,
      ...patient.studies.flatMap((s) => [s.accessionNumber, s.studyId, s.studyInstanceUid]),
      ...patient.studies.flatMap((s) => s.series.map((x) => x.seriesInstanceUid)),
      'FERRY GENERAL HOSPITAL',
    ].filter((v) => v.length >= 6); // short values (a study ID "1000") also occur inside new UIDs
    const originalUids = items.map((i) => i.sopInstanceUid);

    // The portal's subject ID becomes the pseudonym (Patient ID and Name).
    const policy: LinkPolicy = { kind: 'basic', options: [], subjectId: 'SUBJ-0042' };
    const { link, accountId } = makeLink(rig, {
      policy: { kind: 'basic', options: [], subjectId: 'SUBJ-0042' },
      patient: onDisc,
    });
    const journalDir = await tempDir('ferry-journal-');
    const keyFile = path.join(await tempDir('ferry-key-'), 'journal.key');
    rig.proxy.plan = (request) => (request.isStow ? { kind: 'slow', delayMs: 150 } : undefined);
    rig.proxy.stowParts.clear();
    const args = [
      'upload',
      generated.root,
      '--link',
      link,
      '--key-file',
      keyFile,
      '--journal-dir',
      journalDir,
      '--batch-count',
      '3',
      '--concurrency',
      '2',
      '--json',
    ];

    const killed = await runFerry(args, 150 + Math.floor(Math.random() * 400));
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const firstRun = new Set(rig.proxy.stowParts.keys());
    expect(firstRun.size).toBeGreaterThan(0);
    rig.proxy.plan = undefined;
    const final = await runFerry(args);
    expect(final.code, final.stderr).toBe(0);
    const answer = JSON.parse(final.stdout) as {
      state: string;
      instances: { selected: number; alreadyHeld: number };
    };
    expect(answer.state).toBe('available');
    expect(answer.instances.selected).toBe(items.length);
    expect(answer.instances.alreadyHeld).toBeGreaterThan(0); // resumed, not started over

    // The UIDs the same key gives: what the portal announced, holds, and Orthanc stores.
    const key = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'hex');
    const deid = createDeidSource({ policy, mediaRoot: generated.root, key });
    const expected = (await deid.prepare(items)).items.map((i) => i.sopInstanceUid).sort();
    deid.close();
    expect(expected).toHaveLength(items.length);
    expect(expected.filter((uid) => originalUids.includes(uid))).toEqual([]);
    // Both runs sent only these UIDs (no new UIDs on resume).
    expect([...rig.proxy.stowParts.keys()].filter((uid) => !expected.includes(uid))).toEqual([]);
    for (const uid of firstRun) expect(expected).toContain(uid);

    rig.portal.service.store.sync();
    expect([...rig.portal.service.store.instancesOf(accountId).keys()].sort()).toEqual(expected);
    const stored = await orthanc.listInstances();
    const mine = stored.filter((uid) => expected.includes(uid));
    expect(mine.sort()).toEqual(expected);
    expect(stored.filter((uid) => originalUids.includes(uid))).toEqual([]);

    const tags = await orthancTags();
    for (const uid of expected) {
      const instance = tags.get(uid)!;
      const text = JSON.stringify(instance);
      for (const value of planted) expect(text, `planted ${value} in ${uid}`).not.toContain(value);
      expect(instance.PatientIdentityRemoved).toBe('YES');
      expect(instance.PatientName).toBe('SUBJ-0042');
      expect(instance.PatientID).toBe('SUBJ-0042');
      expect(instance.StudyID ?? '').toBe('');
      expect(instance.PatientBirthDate ?? '').toBe('');
    }
  });

  it('reconcile: the MRN in Patient ID, the outside ID in Other Patient IDs Sequence', async () => {
    const { generated, items } = await media(5151, {
      names: ['RECONCILE^PATIENT'],
      instancesPerSeries: 3,
    });
    const outsideId = generated.patients[0]!.patientId;
    const policy: LinkPolicy = { kind: 'reconcile', mrn: 'MRN-77881', issuer: 'STEXAMPLE' };
    const { link, accountId } = makeLink(rig, {
      policy: { kind: 'reconcile', mrn: 'MRN-77881', issuer: 'STEXAMPLE' },
    });
    const key = newKey();
    const deid = createDeidSource({ policy, mediaRoot: generated.root, key });
    const prepared = await deid.prepare(items);
    expect(prepared.heldBack).toEqual([]);
    // Reconcile keeps identity and UIDs.
    expect(prepared.items.map((i) => i.sopInstanceUid).sort()).toEqual(
      items.map((i) => i.sopInstanceUid).sort(),
    );
    const result = await startUpload({
      link,
      items: prepared.items,
      source: deid.source,
      exactLengths: true,
      journalDir: await tempDir('ferry-journal-'),
      key,
      follow: { intervalMs: 100, timeoutMs: 30_000 },
    }).done.finally(() => deid.close());
    expect(result.status.state).toBe('available');
    rig.portal.service.store.sync();
    expect(rig.portal.service.store.instancesOf(accountId).size).toBe(items.length);

    const tags = await orthancTags();
    for (const item of prepared.items) {
      const instance = tags.get(item.sopInstanceUid)!;
      expect(instance.PatientID).toBe('MRN-77881');
      expect(instance.IssuerOfPatientID).toBe('STEXAMPLE');
      expect(instance.PatientName).toBe('RECONCILE^PATIENT');
      const others = instance.OtherPatientIDsSequence as Record<string, unknown>[];
      expect(others).toEqual(
        expect.arrayContaining([expect.objectContaining({ PatientID: outsideId })]),
      );
    }
  });

  it('refuses images that may show identity in their pixels unless confirmed, naming them; nothing sent', async () => {
    // Modalities the generator does not model become Secondary Capture: flagged for burned-in text.
    const { generated, items, patient } = await media(6161, {
      names: ['BURNED^IN'],
      instancesPerSeries: 2,
      modalities: ['CT', 'OT'],
    });
    const { link, accountId } = makeLink(rig, { policy: { kind: 'basic', options: [] }, patient });
    const journalDir = await tempDir('ferry-journal-');
    const keyFile = path.join(await tempDir('ferry-key-'), 'journal.key');
    const base = ['upload', generated.root, '--link', link, '--key-file', keyFile];
    const refused = await runFerry([...base, '--journal-dir', journalDir, '--json']);
    expect(refused.code, refused.stderr).toBe(1);
    const body = JSON.parse(refused.stdout) as {
      error: { code: string; files: { path: string; reason: string }[] };
    };
    expect(body.error.code).toBe('burned-in-unconfirmed');
    const flagged = body.error.files.map((f) => f.path);
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.length).toBeLessThan(items.length);
    for (const file of flagged) expect(refused.stderr).toContain(file);
    expect(refused.stderr).toContain('--confirm-burned-in');
    rig.portal.service.store.sync();
    expect(rig.portal.service.store.instancesOf(accountId).size).toBe(0);
    expect(rig.portal.service.store.transfersOf(accountId)).toEqual([]);

    const confirmed = await runFerry([
      ...base,
      '--journal-dir',
      journalDir,
      '--confirm-burned-in',
      '--json',
    ]);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    rig.portal.service.store.sync();
    expect(rig.portal.service.store.instancesOf(accountId).size).toBe(items.length);
  });

  it('refuses a disc whose patient is not the one the link was made for, unless confirmed', async () => {
    const { generated, items } = await media(7171, {
      names: ['SOMEONE^ELSE'],
      instancesPerSeries: 1,
    });
    const { link, accountId } = makeLink(rig, {
      patient: { name: 'DOE^JANE', birthDate: '19700101' },
    });
    const keyFile = path.join(await tempDir('ferry-key-'), 'journal.key');
    const journalDir = await tempDir('ferry-journal-');
    const base = ['upload', generated.root, '--link', link, '--key-file', keyFile];
    const refused = await runFerry([...base, '--journal-dir', journalDir, '--json']);
    expect(refused.code, refused.stderr).toBe(1);
    const body = JSON.parse(refused.stdout) as { error: { code: string; patients: unknown[] } };
    expect(body.error.code).toBe('identity-mismatch');
    expect(body.error.patients).toHaveLength(1);
    expect(refused.stderr).toContain('the name does not match');
    expect(refused.stderr).not.toContain('SOMEONE'); // no patient values in messages
    rig.portal.service.store.sync();
    expect(rig.portal.service.store.transfersOf(accountId)).toEqual([]);

    const confirmed = await runFerry([
      ...base,
      '--journal-dir',
      journalDir,
      '--confirm-identity',
      '--json',
    ]);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    rig.portal.service.store.sync();
    expect(rig.portal.service.store.instancesOf(accountId).size).toBe(items.length);
  });
});
