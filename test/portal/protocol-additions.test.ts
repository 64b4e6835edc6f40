/**
 * Protocol v1 additions (docs/upload-link-protocol.md): a dead link's read-only resolution
 * (3.1), Idempotency-Key on transfer create (4), the basic policy's subject ID (3), and the
 * listening address beside the public one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortal, type RunningPortal } from '../../portal/server.ts';
import type { CreateLinkInput } from '../../portal/service.ts';
import { postJson, removeTempDirs, request, tempDir, tokenOf } from './helpers.ts';

const DAY = 86_400_000;
let clock = Date.parse('2030-01-10T09:00:00Z');
let portal: RunningPortal;

const manifest = {
  studies: [{ studyInstanceUid: '1.2.826.0.1.3680043.10.1.1', instances: 2, bytes: 2000 }],
  instances: 2,
  bytes: 2000,
};

function newLink(over: Partial<CreateLinkInput> = {}) {
  const issued = portal.service.createLink(
    {
      patientName: 'DOE^JANE',
      birthDate: '19700101',
      email: 'jane@example.org',
      provider: 'Dr. Ada Lovelace',
      department: 'Neurology',
      expiresInMs: 7 * DAY,
      policy: { kind: 'none' },
      ...over,
    },
    'test',
  );
  return { ...issued, token: tokenOf(issued.link) };
}

function create(token: string, key?: string, body: unknown = manifest) {
  return request(`${portal.listeningUrl}/api/v1/transfers`, {
    method: 'POST',
    token,
    headers: {
      'content-type': 'application/json',
      ...(key !== undefined ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  portal = await startPortal({
    port: 0,
    dataDir: await tempDir(),
    publicUrl: 'http://127.0.0.1:1/portal-prefix',
    staffPassword: 'pw',
    log: () => undefined,
    now: () => new Date(clock),
  });
});

afterAll(async () => {
  await portal?.close();
  await removeTempDirs();
});

describe('startPortal', () => {
  it('gives the listening address beside the public one', () => {
    expect(portal.url).toBe('http://127.0.0.1:1/portal-prefix');
    expect(portal.listeningUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(portal.listeningUrl).not.toBe(portal.url);
  });
});

describe('a dead link resolves read-only', () => {
  it('live: state active', async () => {
    const { token } = newLink();
    const answer = await request(`${portal.listeningUrl}/api/v1/links/${token}`);
    expect(answer.status).toBe(200);
    expect(answer.json.state).toBe('active');
  });

  it('revoked: 403 link-revoked with the reason, the transfers address and the transfers', async () => {
    const { token, linkId } = newLink();
    const made = await create(token);
    expect(made.status).toBe(201);
    portal.service.revokeLink(linkId, 'sent to the wrong address', 'test');
    const answer = await request(`${portal.listeningUrl}/api/v1/links/${token}`);
    expect(answer.status).toBe(403);
    expect(answer.json.error.code).toBe('link-revoked');
    expect(answer.json.link).toMatchObject({
      protocol: 1,
      state: 'revoked',
      reason: 'The hospital revoked this link: sent to the wrong address',
      transfersUrl: `${portal.url}/api/v1/transfers`,
      statusUrl: made.json.urls.self,
    });
    expect(answer.json.link.transfers).toHaveLength(1);
    // Nothing to send with: no policy, limits, identity or STOW-RS address.
    for (const key of ['policy', 'limits', 'patient', 'recipient', 'stowUrl'])
      expect(answer.json.link).not.toHaveProperty(key);
  });

  it('expired: 410 link-expired with the resolution', async () => {
    const { token } = newLink({ expiresInMs: DAY });
    expect((await create(token)).status).toBe(201);
    clock += 2 * DAY;
    try {
      const answer = await request(`${portal.listeningUrl}/api/v1/links/${token}`);
      expect(answer.status).toBe(410);
      expect(answer.json.link.state).toBe('expired');
      expect(answer.json.link.reason).toMatch(/^This link expired on /);
      expect(answer.json.link.transfers).toHaveLength(1);
    } finally {
      clock -= 2 * DAY;
    }
  });
});

describe('Idempotency-Key on POST /api/v1/transfers', () => {
  it('the same key gets the same transfer (200), another key a new one', async () => {
    const { token } = newLink();
    const first = await create(token, 'key-0001');
    expect(first.status).toBe(201);
    const again = await create(token, 'key-0001');
    expect(again.status).toBe(200);
    expect(again.json.transferId).toBe(first.json.transferId);
    expect(again.headers.location).toBe(first.headers.location);
    const other = await create(token, 'key-0002');
    expect(other.status).toBe(201);
    expect(other.json.transferId).not.toBe(first.json.transferId);
    const list = await request(`${portal.listeningUrl}/api/v1/transfers`, { token });
    expect(list.json.transfers).toHaveLength(2);
  });

  it('is per account: the same key on another account makes its own transfer', async () => {
    const a = newLink();
    const b = newLink();
    const first = await create(a.token, 'shared-key');
    const second = await create(b.token, 'shared-key');
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.json.transferId).not.toBe(first.json.transferId);
  });

  it('the same key with another manifest is refused (422), a malformed key is a bad request', async () => {
    const { token } = newLink();
    expect((await create(token, 'key-x')).status).toBe(201);
    const other = await create(token, 'key-x', {
      ...manifest,
      studies: [{ ...manifest.studies[0]!, instances: 3 }],
      instances: 3,
    });
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('idempotency-key-reused');
    const bad = await create(token, 'has space');
    expect(bad.status).toBe(400);
  });

  it('is kept with the transfer in the journal; a create without a key is always new', async () => {
    const { token } = newLink();
    const first = await create(token, 'durable-key');
    portal.service.store.sync();
    expect(portal.service.store.transfers.get(first.json.transferId)?.idempotencyKey).toBe(
      'durable-key',
    );
    const answer = await postJson(`${portal.listeningUrl}/api/v1/transfers`, token, manifest);
    expect(answer.status).toBe(201); // no key: a new transfer
    const again = await create(token, 'durable-key');
    expect(again.json.transferId).toBe(first.json.transferId);
  });
});

describe('basic policy with a subject ID', () => {
  it('is given to the app in the policy, and checked when the link is made', async () => {
    const { token } = newLink({ policy: { kind: 'basic', options: [], subjectId: 'SUBJ-0042' } });
    const answer = await request(`${portal.listeningUrl}/api/v1/links/${token}`);
    expect(answer.json.policy).toEqual({ kind: 'basic', options: [], subjectId: 'SUBJ-0042' });
    expect(() =>
      newLink({ policy: { kind: 'basic', options: [], subjectId: 'has space' } }),
    ).toThrow(/subject ID/);
  });
});
