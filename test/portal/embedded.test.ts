/**
 * The portal with its embedded default (disk store + journal), over real loopback sockets:
 * the whole protocol, and every kind of bad input the issue lists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPortal, type RunningPortal } from '../../portal/server.ts';
import type { CreateLinkInput } from '../../portal/service.ts';
import {
  dicomParts,
  failed,
  makeStudies,
  multipartBody,
  postJson,
  referenced,
  removeTempDirs,
  request,
  stow,
  tempDir,
  tokenOf,
  waitForTerminal,
  type TestStudies,
} from './helpers.ts';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const DAY = 86_400_000;

let clock = Date.parse('2030-01-10T09:00:00Z');
const now = () => new Date(clock);

let portal: RunningPortal;
let dataDir: string;
let media: TestStudies;

const linkInput = (over: Partial<CreateLinkInput> = {}): CreateLinkInput => ({
  patientName: media.patientName,
  birthDate: '19700101',
  email: 'jane@example.org',
  provider: 'Dr. Ada Lovelace',
  department: 'Neurology',
  organization: 'St. Example Hospital',
  expiresInMs: 7 * DAY,
  policy: { kind: 'none' },
  ...over,
});

function newLink(over: Partial<CreateLinkInput> = {}) {
  const issued = portal.service.createLink(linkInput(over), 'test');
  return { ...issued, token: tokenOf(issued.link) };
}

async function createTransfer(token: string, studies = media.studies) {
  const answer = await postJson(`${portal.url}/api/v1/transfers`, token, {
    studies,
    instances: studies.reduce((n, s) => n + s.instances, 0),
    bytes: studies.reduce((n, s) => n + s.bytes, 0),
    client: { name: 'test', version: '1' },
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.json;
}

const ofStudy = (i: number) =>
  media.instances.filter((x) => x.studyInstanceUid === media.studies[i]!.studyInstanceUid);

/** Each test sends its own studies: the same SOP Instance UIDs in two accounts are a different matter. */
let seed = 1000;
beforeEach(async () => {
  media = await makeStudies(2, 3, seed++);
});

beforeAll(async () => {
  dataDir = await tempDir();
  portal = await startPortal({
    dataDir,
    now,
    staffPassword: 'correct horse battery staple',
    defaultLimits: { maxRequestBytes: 512 * 1024 },
    maxTokenFailures: 1000,
    verifyRetryMs: 100,
  });
});

afterAll(async () => {
  await portal?.close();
  await removeTempDirs();
});

describe('embedded portal: the protocol', () => {
  it('resolves a link: who expects what, policy, limits, STOW-RS URL', async () => {
    const { token, accountId, expiresAt } = newLink({
      policy: { kind: 'basic', options: ['retain-uids'] },
    });
    const answer = await request(`${portal.url}/api/v1/links/${token}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      protocol: 1,
      accountId,
      provider: {
        name: 'Dr. Ada Lovelace',
        department: 'Neurology',
        organization: 'St. Example Hospital',
      },
      recipient: { name: media.patientName, email: 'jane@example.org' },
      patient: { name: media.patientName, birthDate: '19700101' },
      expiresAt,
      policy: { kind: 'basic', options: ['retain-uids'] },
      limits: { maxRequestBytes: 512 * 1024 },
      stowUrl: `${portal.url}/dicomweb/studies`,
      transfersUrl: `${portal.url}/api/v1/transfers`,
      statusUrl: null,
      transfers: [],
    });
    expect(answer.headers['cache-control']).toBe('no-store');
    const versions = await request(`${portal.url}/api`);
    expect(versions.json).toEqual({ versions: ['v1'], current: 'v1' });
  });

  it('carries a transfer from manifest to "available", answering per instance and for resume', async () => {
    const { token } = newLink();
    const created = await createTransfer(token);
    expect(created.state).toBe('created');
    expect(created.message).toBe(
      'Transfer started: 6 images in 2 studies (' + created.message.split('(')[1],
    );
    const {
      stow: stowUrl,
      instances: instancesUrl,
      commit: commitUrl,
      self: statusUrl,
    } = created.urls;

    const empty = await request(instancesUrl, { token });
    expect(empty.json).toMatchObject({ count: 0, instances: [] });

    const first = await stow(stowUrl, token, dicomParts(ofStudy(0)));
    expect(first.status, first.text).toBe(200);
    expect(first.headers['content-type']).toBe('application/dicom+json');
    expect(referenced(first.json)).toEqual(ofStudy(0).map((i) => i.sopInstanceUid));
    expect(first.json['00081198']).toBeUndefined();
    expect(first.json['00081190'].Value[0]).toBe(
      `${portal.url}/dicomweb/studies/${media.studies[0]!.studyInstanceUid}`,
    );

    const receiving = await request(statusUrl, { token });
    expect(receiving.json).toMatchObject({
      state: 'receiving',
      message: 'Receiving images: 3 of 6.',
      received: { instances: 3 },
    });

    // What a resuming client asks: which instances are held, with the SHA-256 of what arrived.
    const held = await request(instancesUrl, { token });
    expect(held.json.count).toBe(3);
    const sha = await import('node:crypto').then(
      (c) => (b: Buffer) => c.createHash('sha256').update(b).digest('hex'),
    );
    expect(
      new Map(
        held.json.instances.map((i: { sopInstanceUid: string; sha256: string }) => [
          i.sopInstanceUid,
          i.sha256,
        ]),
      ),
    ).toEqual(new Map(ofStudy(0).map((i) => [i.sopInstanceUid, sha(i.bytes)])));

    // Committing early is refused with the counts.
    const early = await postJson(commitUrl, token, undefined);
    expect(early.status).toBe(409);
    expect(early.json.error).toMatchObject({ code: 'transfer-incomplete', retryable: false });
    expect(early.json.error.message).toContain('3 of the 6');

    // An identical re-send is success, not a second copy.
    const again = await stow(stowUrl, token, dicomParts(ofStudy(0)));
    expect(again.status).toBe(200);
    expect(referenced(again.json)).toEqual(ofStudy(0).map((i) => i.sopInstanceUid));

    const second = await stow(
      `${stowUrl}/${media.studies[1]!.studyInstanceUid}`,
      token,
      dicomParts(ofStudy(1)),
    );
    expect(second.status).toBe(200);
    expect((await request(instancesUrl, { token })).json.count).toBe(6);

    const committed = await postJson(commitUrl, token, { instances: 6 });
    expect(committed.status, committed.text).toBe(200);
    const final = await waitForTerminal(statusUrl, token);
    expect(final.state).toBe('available');
    expect(final.timeline.map((e: { state: string }) => e.state)).toEqual([
      'created',
      'receiving',
      'received',
      'verifying',
      'available',
    ]);
    expect(final.timeline.map((e: { message: string }) => e.message).slice(1)).toEqual([
      'Receiving images: 6 of 6.',
      'All 6 images were received.',
      "Checking that every image is stored in the hospital's archive.",
      'The images are available to Dr. Ada Lovelace (Neurology).',
    ]);

    // Each instance is one file in the disk store, byte for byte what was sent.
    for (const instance of media.instances) {
      const file = path.join(
        dataDir,
        'images',
        instance.studyInstanceUid,
        `${instance.sopInstanceUid}.dcm`,
      );
      expect((await readFile(file)).equals(instance.bytes)).toBe(true);
    }
    // The RetrieveURL answers (WADO-RS) with the same bytes.
    const retrieveUrl = first.json['00081199'].Value[0]['00081190'].Value[0] as string;
    const retrieved = await fetch(retrieveUrl, { headers: { authorization: `Bearer ${token}` } });
    expect(retrieved.status).toBe(200);
    expect(Buffer.from(await retrieved.arrayBuffer()).includes(ofStudy(0)[0]!.bytes)).toBe(true);

    // The link itself lists the transfer, and the patient's page shows the timeline.
    const resolved = await request(`${portal.url}/api/v1/links/${token}`);
    expect(resolved.json.statusUrl).toBe(statusUrl);
    expect(resolved.json.transfers[0]).toMatchObject({ state: 'available' });
    const page = await request(`${portal.url}/u/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toContain('The images are available to Dr. Ada Lovelace (Neurology).');
    expect(page.text).toContain(`ferry://${new URL(portal.url).host}/u/${token}`);

    // Committing twice is harmless; sending more is refused.
    expect((await postJson(commitUrl, token, undefined)).status).toBe(200);
    const late = await stow(stowUrl, token, dicomParts(ofStudy(0)));
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('transfer-closed');
  });

  it('accepts plain STOW-RS clients at /dicomweb/studies into an implicit transfer', async () => {
    const { token } = newLink();
    const ct = readFileSync(path.join(PYDICOM, 'CT_small.dcm'));
    const answer = await stow(`${portal.url}/dicomweb/studies`, token, [
      { contentType: 'application/dicom', data: ct },
    ]);
    expect(answer.status, answer.text).toBe(200);
    const transfers = await request(`${portal.url}/api/v1/transfers`, { token });
    expect(transfers.json.transfers).toHaveLength(1);
    expect(transfers.json.transfers[0]).toMatchObject({
      state: 'receiving',
      message: 'Receiving images: 1 received so far.',
    });
  });
});

describe('embedded portal: bad input gets a clear error and loses nothing', () => {
  it('refuses unknown tokens with 401 and a sentence', async () => {
    for (const answer of [
      await request(`${portal.url}/api/v1/links/${'A'.repeat(43)}`),
      await stow(`${portal.url}/dicomweb/studies`, 'B'.repeat(43), dicomParts(ofStudy(0))),
      await stow(`${portal.url}/dicomweb/studies`, undefined, dicomParts(ofStudy(0))),
      await request(`${portal.url}/api/v1/transfers`, { token: 'short' }),
    ]) {
      expect(answer.status).toBe(401);
      expect(answer.json.error).toEqual({
        code: 'link-unknown',
        message:
          'This upload link is not valid. Check that you copied the whole link, or ask the hospital for a new one.',
        retryable: false,
      });
    }
  });

  it('answers per instance: a non-DICOM part, a text part, a foreign study, a changed instance', async () => {
    const { token } = newLink();
    const transfer = await createTransfer(token, [media.studies[0]!]);
    const [a, b, c] = ofStudy(0);
    const mixed = await stow(transfer.urls.stow, token, [
      { contentType: 'application/dicom', data: a!.bytes },
      { contentType: 'application/dicom', data: Buffer.from('%PDF-1.4 not an image at all') },
      { contentType: 'text/plain', data: b!.bytes },
      { contentType: 'application/dicom', data: ofStudy(1)[0]!.bytes }, // not announced in this transfer
    ]);
    expect(mixed.status, mixed.text).toBe(202);
    expect(referenced(mixed.json)).toEqual([a!.sopInstanceUid]);
    expect(failed(mixed.json)).toEqual([
      ['', 0xc000],
      ['', 0xc000],
      [ofStudy(1)[0]!.sopInstanceUid, 0x0124],
    ]);

    // Same SOP Instance UID, different bytes: refused as a duplicate, the first stays.
    const changed = Buffer.from(a!.bytes);
    changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 0xff, changed.length - 1);
    const dup = await stow(transfer.urls.stow, token, [
      { contentType: 'application/dicom', data: changed },
    ]);
    expect(dup.status).toBe(409);
    expect(failed(dup.json)).toEqual([[a!.sopInstanceUid, 0x0111]]);

    // A study in the URL that the instance does not belong to.
    const wrongStudy = await stow(`${transfer.urls.stow}/1.2.3.4`, token, dicomParts([c!]));
    expect(wrongStudy.status).toBe(409);
    expect(failed(wrongStudy.json)).toEqual([[c!.sopInstanceUid, 0x0124]]);

    // Not PS3.10 (no preamble/meta) and cut short.
    const raw = readFileSync(path.join(PYDICOM, 'ExplVR_LitEndNoMeta.dcm'));
    const truncated = readFileSync(path.join(PYDICOM, 'MR_truncated.dcm'));
    const bad = await stow(`${portal.url}/dicomweb/studies`, token, [
      { contentType: 'application/dicom', data: raw },
      { contentType: 'application/dicom', data: truncated },
    ]);
    expect(bad.status).toBe(409);
    expect(failed(bad.json).map(([, reason]) => reason)).toEqual([0xc000, 0xc000]);

    expect((await request(transfer.urls.instances, { token })).json.count).toBe(1);
    expect(
      existsSync(path.join(dataDir, 'images', a!.studyInstanceUid, `${a!.sopInstanceUid}.dcm`)),
    ).toBe(true);
  });

  it('refuses a damaged multipart body and wrong media types, recording nothing', async () => {
    const { token } = newLink();
    const transfer = await createTransfer(token, [media.studies[0]!]);
    const whole = multipartBody(dicomParts(ofStudy(0)));
    const cut = await request(transfer.urls.stow, {
      method: 'POST',
      token,
      headers: {
        'content-type':
          'multipart/related; type="application/dicom"; boundary=ferry-test-boundary-7d3a',
      },
      body: whole.subarray(0, whole.length - 40),
    });
    expect(cut.status).toBe(400);
    expect(cut.json.error).toMatchObject({ code: 'multipart-malformed', retryable: true });
    const json = await request(transfer.urls.stow, {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/dicom+json' },
      body: '[]',
    });
    expect(json.status).toBe(415);
    expect(json.json.error.code).toBe('unsupported-media-type');
    expect((await request(transfer.urls.instances, { token })).json.count).toBe(0);
    expect((await request(transfer.urls.self, { token })).json.state).toBe('created');
  });

  it('refuses oversized bodies with 413, by Content-Length and while streaming', async () => {
    const { token } = newLink();
    const transfer = await createTransfer(token, [media.studies[0]!]);
    const big = Buffer.alloc(700 * 1024, 7);
    const declared = await stow(transfer.urls.stow, token, [
      { contentType: 'application/dicom', data: big },
    ]);
    expect(declared.status).toBe(413);
    expect(declared.json.error).toMatchObject({ code: 'request-too-large', retryable: false });

    async function* chunked() {
      yield multipartBody(dicomParts(ofStudy(0))).subarray(0, 100);
      for (let i = 0; i < 20; i++) yield Buffer.alloc(64 * 1024, 1);
    }
    const streamed = await request(transfer.urls.stow, {
      method: 'POST',
      token,
      headers: {
        'content-type':
          'multipart/related; type="application/dicom"; boundary=ferry-test-boundary-7d3a',
      },
      chunks: chunked(),
    }).catch((err: Error) => ({ status: -1, json: undefined, text: err.message }));
    // The portal answers 413 and closes the connection; a client still writing may see the reset first.
    if (streamed.status !== -1) expect(streamed.status).toBe(413);
    expect((await request(transfer.urls.instances, { token })).json.count).toBe(0);

    // A manifest beyond the account's limits is refused before anything is sent.
    const small = newLink({ limits: { maxInstances: 2 } });
    const tooMany = await postJson(`${portal.url}/api/v1/transfers`, small.token, {
      studies: [media.studies[0]],
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.json.error.code).toBe('over-limit');
    expect(tooMany.json.error.message).toContain('at most 2 images');
    // And instances past the limit are refused one by one (0xA700 out of resources).
    const over = await stow(`${portal.url}/dicomweb/studies`, small.token, dicomParts(ofStudy(0)));
    expect(over.status).toBe(202);
    expect(referenced(over.json)).toHaveLength(2);
    expect(failed(over.json)).toEqual([[ofStudy(0)[2]!.sopInstanceUid, 0xa700]]);
  });

  it('stops a revoked link mid-upload, keeps what arrived, and finishes with a new link', async () => {
    const issued = newLink();
    const transfer = await createTransfer(issued.token);
    expect((await stow(transfer.urls.stow, issued.token, dicomParts(ofStudy(0)))).status).toBe(200);

    // Revoked while a request body is still arriving: that request records nothing.
    const body = multipartBody(dicomParts(ofStudy(1)));
    let revokeNow!: () => void;
    const revoked = new Promise<void>((resolve) => (revokeNow = resolve));
    async function* slowly() {
      yield body.subarray(0, 1000);
      revokeNow();
      await new Promise((r) => setTimeout(r, 100));
      yield body.subarray(1000);
    }
    const inFlight = request(transfer.urls.stow, {
      method: 'POST',
      token: issued.token,
      headers: {
        'content-type':
          'multipart/related; type="application/dicom"; boundary=ferry-test-boundary-7d3a',
      },
      chunks: slowly(),
    });
    await revoked;
    portal.service.revokeLink(issued.linkId, 'Sent to the wrong address.', 'staff:test');
    const answer = await inFlight;
    expect(answer.status).toBe(403);
    expect(answer.json.error).toEqual({
      code: 'link-revoked',
      message: 'This upload link was revoked by the hospital. Ask them for a new one.',
      retryable: false,
    });
    const status = await request(transfer.urls.self, { token: issued.token });
    expect(status.json.state).toBe('revoked');
    expect(status.json.message).toBe(
      'The upload link was revoked by the hospital: Sent to the wrong address. The 3 images already received are kept. Ask St. Example Hospital for a new link if you still need to send images.',
    );
    expect(status.json.received.instances).toBe(3);
    expect((await request(`${portal.url}/api/v1/links/${issued.token}`)).status).toBe(403);

    // A new link for the same account: the new transfer already counts what arrived.
    const renewed = portal.service.issueLink(issued.accountId, 7 * DAY, 'staff:test');
    const token = tokenOf(renewed.link);
    const next = await createTransfer(token);
    expect(next.received.instances).toBe(3);
    expect((await request(next.urls.instances, { token })).json.count).toBe(3);
    expect((await stow(next.urls.stow, token, dicomParts(ofStudy(1)))).status).toBe(200);
    expect((await postJson(next.urls.commit, token, undefined)).status).toBe(200);
    expect((await waitForTerminal(next.urls.self, token)).state).toBe('available');
  });

  it('expires a link mid-upload: 410, status "expired", images kept', async () => {
    const issued = newLink({ expiresInMs: DAY });
    const transfer = await createTransfer(issued.token);
    expect((await stow(transfer.urls.stow, issued.token, dicomParts(ofStudy(0)))).status).toBe(200);
    clock += 2 * DAY;
    try {
      const answer = await stow(transfer.urls.stow, issued.token, dicomParts(ofStudy(1)));
      expect(answer.status).toBe(410);
      expect(answer.json.error).toEqual({
        code: 'link-expired',
        message: 'This upload link has expired. Ask the hospital for a new one.',
        retryable: false,
      });
      const status = await request(transfer.urls.self, { token: issued.token });
      expect(status.json).toMatchObject({
        state: 'expired',
        terminal: true,
        received: { instances: 3 },
      });
      expect(status.json.message).toContain('expired before the transfer was finished');
      expect((await postJson(transfer.urls.commit, issued.token, undefined)).status).toBe(410);
    } finally {
      clock -= 2 * DAY;
    }
  });

  it('keeps everything across a restart of the portal', async () => {
    const issued = newLink();
    const transfer = await createTransfer(issued.token, [media.studies[0]!]);
    expect((await stow(transfer.urls.stow, issued.token, dicomParts(ofStudy(0)))).status).toBe(200);
    await portal.close();
    portal = await startPortal({
      dataDir,
      now,
      defaultLimits: { maxRequestBytes: 512 * 1024 },
      maxTokenFailures: 1000,
      verifyRetryMs: 100,
    });
    const url = `${portal.url}/api/v1/transfers/${transfer.transferId}`;
    expect((await request(`${url}/instances`, { token: issued.token })).json.count).toBe(3);
    expect((await postJson(`${url}/commit`, issued.token, undefined)).status).toBe(200);
    expect((await waitForTerminal(url, issued.token)).state).toBe('available');
  });

  it('stores an instance sent twice at once only once', async () => {
    const { token } = newLink();
    const transfer = await createTransfer(token, [media.studies[1]!]);
    const answers = await Promise.all(
      [1, 2, 3].map(() => stow(transfer.urls.stow, token, dicomParts(ofStudy(1)))),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const held = (await request(transfer.urls.instances, { token })).json;
    expect(held.count).toBe(3);
  });
});

describe('embedded portal: rate limits and audit', () => {
  it('blocks an IP that guesses tokens, with Retry-After', async () => {
    const guarded = await startPortal({
      dataDir: await tempDir(),
      maxTokenFailures: 5,
      staffPassword: 'x',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push(
          (await request(`${guarded.url}/api/v1/links/${String(i).repeat(43)}`)).status,
        );
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      const blocked = await request(`${guarded.url}/api/v1/links/${'x'.repeat(43)}`);
      expect(blocked.json.error.code).toBe('too-many-attempts');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await guarded.close();
    }
  });

  it('audits links, uploads and states by id, without patient values', () => {
    const audit = readFileSync(path.join(dataDir, 'audit.jsonl'), 'utf8');
    const actions = new Set(
      audit
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { action: string }).action),
    );
    for (const a of [
      'account-created',
      'link-issued',
      'link-revoked',
      'link-rejected',
      'transfer-created',
      'instances-received',
      'instances-rejected',
      'transfer-state',
    ]) {
      expect(actions, a).toContain(a);
    }
    for (const secret of [
      media.patientName,
      '19700101',
      'jane@example.org',
      media.studies[0]!.studyInstanceUid,
      media.instances[0]!.sopInstanceUid,
    ]) {
      expect(audit).not.toContain(secret);
    }
    // The journal keeps token hashes only.
    const journal = readFileSync(path.join(dataDir, 'db', 'journal.jsonl'), 'utf8');
    expect(journal).toMatch(/"tokenHash":"[0-9a-f]{64}"/);
    expect(journal).not.toMatch(/"token":/);
  });

  it('does not hold request bodies in memory (a 0-byte keep-alive probe)', async () => {
    // Smoke check that the server stays responsive while a STOW-RS body is trickling in.
    const { token } = newLink();
    const transfer = await createTransfer(token, [media.studies[0]!]);
    const req = http.request(transfer.urls.stow, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'multipart/related; type="application/dicom"; boundary=b',
      },
    });
    req.on('error', () => undefined);
    req.write('--b\r\n\r\n');
    const status = await request(transfer.urls.self, { token });
    expect(status.status).toBe(200);
    req.destroy();
  });
});
