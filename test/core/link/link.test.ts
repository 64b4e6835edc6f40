import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../../main/core/errors.ts';
import { LinkClient } from '../../../main/core/link/client.ts';
import { backoffMs, DEFAULT_RETRY, retryAfterSeconds } from '../../../main/core/link/http.ts';
import { checkPortalAddress, parseUploadLink } from '../../../main/core/link/link-url.ts';
import { makeLink, removeTempDirs, startRig, type Rig } from '../upload/helpers.ts';

const TOKEN = 'A'.repeat(43);

describe('upload links', () => {
  it('parses https, ferry:// deep links and loopback http', () => {
    expect(parseUploadLink(`https://portal.example/u/${TOKEN}`)).toMatchObject({
      portalUrl: 'https://portal.example',
      token: TOKEN,
    });
    expect(parseUploadLink(`https://h.example/ferry/u/${TOKEN}`).portalUrl).toBe(
      'https://h.example/ferry',
    );
    expect(parseUploadLink(`ferry://portal.example/u/${TOKEN}`).portalUrl).toBe(
      'https://portal.example',
    );
    expect(parseUploadLink(`ferry://127.0.0.1:8470/u/${TOKEN}`).portalUrl).toBe(
      'http://127.0.0.1:8470',
    );
    expect(parseUploadLink(`http://localhost:1/u/${TOKEN}`).portalUrl).toBe('http://localhost:1');
  });

  it('refuses what is not an upload link, and plain http to another machine', () => {
    for (const bad of [
      '',
      'portal.example',
      `https://portal.example/x/${TOKEN}`,
      `https://portal.example/u/short`,
      `ftp://p/u/${TOKEN}`,
    ]) {
      expect(
        isFerryError(
          (() => {
            try {
              parseUploadLink(bad);
            } catch (e) {
              return e;
            }
          })(),
          'link-invalid',
        ),
        bad,
      ).toBe(true);
    }
    expect(() => parseUploadLink(`http://portal.example/u/${TOKEN}`)).toThrow(/unencrypted/);
  });

  it('sends the token only to the portal base it came with', () => {
    const link = parseUploadLink(`http://127.0.0.1:9/u/${TOKEN}`);
    expect(checkPortalAddress(link, '/api/v1/transfers')).toBe(
      'http://127.0.0.1:9/api/v1/transfers',
    );
    expect(() => checkPortalAddress(link, 'https://archive.example/stow')).toThrow(
      /unexpected address/,
    );
    expect(() => checkPortalAddress(link, 'http://evil.example/steal')).toThrow(
      /unexpected address/,
    );
    expect(() => checkPortalAddress(link, 'http://127.0.0.1:10/other')).toThrow();
    const prefixed = parseUploadLink(`https://h.example/ferry/u/${TOKEN}`);
    expect(checkPortalAddress(prefixed, 'https://h.example/ferry/api/v1/transfers')).toContain(
      '/ferry/api',
    );
    expect(() => checkPortalAddress(prefixed, 'https://h.example/other/api')).toThrow();
  });

  it('refuses a basic profile option it does not know (pre-flight)', async () => {
    const { parsePolicy } = await import('../../../main/core/link/client.ts');
    expect(parsePolicy({ kind: 'basic', options: ['retain-uids'] })).toEqual({
      kind: 'basic',
      options: ['retain-uids'],
    });
    expect(parsePolicy({ kind: 'basic', options: ['retain-everything'] }).kind).toBe('unknown');
    expect(parsePolicy({ kind: 'future' }).kind).toBe('unknown');
  });

  it('reads Retry-After and backs off with jitter', () => {
    expect(retryAfterSeconds('3')).toBe(3);
    expect(retryAfterSeconds(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThanOrEqual(4);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(backoffMs(1, DEFAULT_RETRY, 7)).toBe(7000);
    for (let attempt = 1; attempt < 12; attempt++) {
      const delay = backoffMs(attempt, DEFAULT_RETRY);
      expect(delay).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
      expect(delay).toBeGreaterThanOrEqual(
        Math.min(DEFAULT_RETRY.maxDelayMs, 500 * 2 ** (attempt - 1)) / 2,
      );
    }
  });
});

describe('link client against the reference portal', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.close();
    await removeTempDirs();
  });

  it('resolves who expects the images, the policy, the limits and the addresses', async () => {
    const { link } = makeLink(rig, { policy: { kind: 'basic', options: ['retain-uids'] } });
    const info = await new LinkClient(link).resolve();
    expect(info.protocol).toBe(1);
    expect(info.provider).toMatchObject({ name: 'Dr Test', department: 'Radiology' });
    expect(info.patient).toEqual({ name: 'TEST^PATIENT', birthDate: '19700101' });
    expect(info.policy).toEqual({ kind: 'basic', options: ['retain-uids'] });
    expect(info.limits.maxRequestBytes).toBeGreaterThan(0);
    expect(info.transfersUrl).toBe(`${rig.proxy.url}/api/v1/transfers`);
  });

  it('maps unknown, revoked and expired links to their sentences; status still reads on a dead link', async () => {
    const unknown = await new LinkClient(`${rig.proxy.url}/u/${TOKEN}`)
      .resolve()
      .catch((e: unknown) => e);
    expect(isFerryError(unknown, 'link-unknown')).toBe(true);

    const made = makeLink(rig);
    const client = new LinkClient(made.link);
    const info = await client.resolve();
    await client.createTransfer(info.transfersUrl, {
      studies: [{ studyInstanceUid: '1.2.3', instances: 1, bytes: 10 }],
      instances: 1,
      bytes: 10,
    });
    rig.portal.service.revokeLink(made.linkId, undefined, 'test');
    const revoked = await client.resolve().catch((e: unknown) => e);
    expect(isFerryError(revoked, 'link-revoked')).toBe(true);
    expect((revoked as Error).message).toMatch(/revoked/);
    const transfers = await client.listTransfers();
    expect(transfers[0]?.state).toBe('revoked');
    expect(transfers[0]?.message).toMatch(/revoked by the hospital/);

    const short = makeLink(rig, { expiresInMs: 1000 });
    rig.clock.offsetMs = 5000;
    try {
      const expired = await new LinkClient(short.link).resolve().catch((e: unknown) => e);
      expect(isFerryError(expired, 'link-expired')).toBe(true);
    } finally {
      rig.clock.offsetMs = 0;
    }
  });

  it('retries a create whose answer was lost with the same Idempotency-Key: one transfer', async () => {
    const { link, accountId } = makeLink(rig);
    const client = new LinkClient(link, { retry: { baseDelayMs: 5 } });
    const info = await client.resolve();
    let creates = 0;
    // The portal makes the transfer, then the connection drops before the answer: twice.
    rig.proxy.plan = (request) =>
      request.method === 'POST' && request.url.endsWith('/api/v1/transfers') && creates++ < 2
        ? { kind: 'reset-after' }
        : undefined;
    const manifest = {
      studies: [{ studyInstanceUid: '1.2.826.0.1.3680043.10.9.1', instances: 1, bytes: 10 }],
      instances: 1,
      bytes: 10,
    };
    try {
      const status = await client.createTransfer(info.transfersUrl, manifest);
      expect(creates).toBe(3);
      rig.portal.service.store.sync();
      const transfers = rig.portal.service.store.transfersOf(accountId);
      expect(transfers.map((t) => t.id)).toEqual([status.transferId]);
    } finally {
      rig.proxy.plan = undefined;
    }
  });

  it('reads a dead link read-only for status: its state, reason and transfers address', async () => {
    const { link, linkId } = makeLink(rig);
    const client = new LinkClient(link);
    expect((await client.resolveForStatus()).state).toBe('active');
    rig.portal.service.revokeLink(linkId, 'wrong patient', 'test');
    const dead = await client.resolveForStatus();
    expect(dead).toEqual({
      state: 'revoked',
      reason: 'The hospital revoked this link: wrong patient',
      transfersUrl: `${rig.proxy.url}/api/v1/transfers`,
    });
    expect(await client.listTransfers(dead.transfersUrl)).toEqual([]);
  });

  it('retries a busy portal and gives up with retries-exhausted', async () => {
    const { link } = makeLink(rig);
    let n = 0;
    rig.proxy.plan = () => (n++ < 2 ? { kind: 'status', status: 503 } : undefined);
    const info = await new LinkClient(link, { retry: { baseDelayMs: 5 } }).resolve();
    expect(info.protocol).toBe(1);
    rig.proxy.plan = () => ({ kind: 'status', status: 500 });
    const error = await new LinkClient(link, { retry: { baseDelayMs: 5, maxAttempts: 3 } })
      .resolve()
      .catch((e: unknown) => e);
    rig.proxy.plan = undefined;
    expect(isFerryError(error, 'retries-exhausted')).toBe(true);
  });
});
