/**
 * WADO-RS RetrieveInstance through the portal (the RetrieveURL of a STOW-RS answer): streamed from the
 * archive the images went to. Against a real Orthanc (`--archive dicomweb:`), byte for byte, with the
 * built-in store's authorization rules and a retryable 503 while Orthanc is down; and the DICOMweb
 * client's handling of answers a real archive rarely gives (a fake archive on loopback).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomWebArchive, ArchiveUnavailableError } from '../../portal/archive.ts';
import type { StoredInstance } from '../../portal/model.ts';
import { acceptsOnlyBareDicom, startPortal, type RunningPortal } from '../../portal/server.ts';
import { missingOrthanc, startOrthanc, type RunningOrthanc } from '../support/orthanc.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../support/tools.ts';
import {
  dicomParts,
  makeStudies,
  referenced,
  removeTempDirs,
  stow,
  tempDir,
  tokenOf,
  type TestInstance,
  type TestStudies,
} from './helpers.ts';

const DAY = 86_400_000;
let clock = Date.now();
const now = () => new Date(clock);
let seed = 7000;

interface Retrieved {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

async function retrieve(url: string, token: string | undefined, accept?: string) {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (accept !== undefined) headers.accept = accept;
  const res = await fetch(url, { headers });
  return {
    status: res.status,
    headers: res.headers,
    body: Buffer.from(await res.arrayBuffer()),
  } satisfies Retrieved;
}

/** The one part of a multipart/related answer, checking its framing. */
function onlyPart(answer: Retrieved): { headers: string; body: Buffer } {
  const type = answer.headers.get('content-type') ?? '';
  expect(type).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
  const boundary = /boundary=("?)([^";]+)\1/.exec(type)![2]!;
  const open = Buffer.from(`--${boundary}\r\n`);
  const close = Buffer.from(`\r\n--${boundary}--\r\n`);
  expect(answer.body.subarray(0, open.length).equals(open)).toBe(true);
  expect(answer.body.subarray(answer.body.length - close.length).equals(close)).toBe(true);
  const headEnd = answer.body.indexOf('\r\n\r\n');
  const body = answer.body.subarray(headEnd + 4, answer.body.length - close.length);
  expect(body.includes(Buffer.from(`--${boundary}`))).toBe(false);
  return { headers: answer.body.subarray(open.length, headEnd).toString('latin1'), body };
}

function linkFor(portal: RunningPortal, media: TestStudies, expiresInMs = 7 * DAY) {
  const issued = portal.service.createLink(
    {
      patientName: media.patientName,
      birthDate: '19800202',
      email: 'pat@example.org',
      provider: 'Dr. Grace Hopper',
      expiresInMs,
      policy: { kind: 'none' },
    },
    'test',
  );
  return { ...issued, token: tokenOf(issued.link) };
}

/** Sends every instance through the portal; returns each one's RetrieveURL from the STOW-RS answer. */
async function upload(portal: RunningPortal, token: string, instances: readonly TestInstance[]) {
  const answer = await stow(`${portal.url}/dicomweb/studies`, token, dicomParts(instances));
  expect(answer.status, answer.text).toBe(200);
  expect(referenced(answer.json).sort()).toEqual(instances.map((i) => i.sopInstanceUid).sort());
  const urls = new Map<string, string>();
  for (const item of answer.json['00081199'].Value as Record<string, { Value: string[] }>[]) {
    urls.set(item['00081155']!.Value[0]!, item['00081190']!.Value[0]!);
  }
  return urls;
}

afterAll(async () => {
  await removeTempDirs();
});

const skipOrthanc = skipFor(missingOrthanc());
const skipPydicom = skipOrthanc || skipFor(missingPydicom());

describe.skipIf(skipOrthanc)('retrieval with --archive dicomweb: a real Orthanc', () => {
  let orthanc: RunningOrthanc;
  let portal: RunningPortal;
  const logs: string[] = [];

  beforeAll(async () => {
    orthanc = await startOrthanc();
    portal = await startPortal({
      dataDir: await tempDir(),
      archive: `dicomweb:${orthanc.dicomWebUrl}`,
      now,
      staffPassword: 'x',
      retryAfterSeconds: 3,
      log: (line) => logs.push(line),
    });
  });

  afterAll(async () => {
    await portal?.close();
    await orthanc?.dispose();
  });

  it('streams every instance back from Orthanc byte for byte, as multipart or as a bare file', async () => {
    const media = await makeStudies(2, 3, seed++);
    const { token } = linkFor(portal, media);
    const urls = await upload(portal, token, media.instances);
    for (const instance of media.instances) {
      const url = urls.get(instance.sopInstanceUid)!;
      expect(url).toMatch(
        new RegExp(
          `^${portal.url}/dicomweb/studies/${instance.studyInstanceUid}/series/[0-9.]+/instances/${instance.sopInstanceUid}$`,
        ),
      );
      const answer = await retrieve(url, token);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const part = onlyPart(answer);
      expect(part.headers).toMatch(/^Content-Type: application\/dicom$/im);
      expect(part.body.equals(instance.bytes), instance.sopInstanceUid).toBe(true);
    }
    // A client that accepts only the bare file gets exactly the file.
    const [first] = media.instances;
    const bare = await retrieve(urls.get(first!.sopInstanceUid)!, token, 'application/dicom');
    expect(bare.status).toBe(200);
    expect(bare.headers.get('content-type')).toBe('application/dicom');
    expect(bare.body.equals(first!.bytes)).toBe(true);
    // The PS3.18 Accept of a WADO-RS client gets the multipart form.
    const wado = await retrieve(
      urls.get(first!.sopInstanceUid)!,
      token,
      'multipart/related; type="application/dicom"; transfer-syntax=*',
    );
    expect(onlyPart(wado).body.equals(first!.bytes)).toBe(true);
    expect(logs).toEqual([]);
  });

  it.skipIf(skipPydicom)(
    'keeps the transfer syntax it was sent in: implicit VR, JPEG 2000 and JPEG come back unchanged',
    async () => {
      const files = ['MR_small_implicit.dcm', 'JPEG2000.dcm', 'SC_rgb_jpeg_dcmtk.dcm'].map((name) =>
        readFileSync(path.join(pydicomTestFiles(), name)),
      );
      const media = await makeStudies(1, 1, seed++);
      const { token } = linkFor(portal, media);
      const answer = await stow(
        `${portal.url}/dicomweb/studies`,
        token,
        files.map((data) => ({
          contentType: 'application/dicom',
          data,
        })),
      );
      expect(answer.status, answer.text).toBe(200);
      const urls = (answer.json['00081199'].Value as Record<string, { Value: string[] }>[]).map(
        (item) => item['00081190']!.Value[0]!,
      );
      expect(urls).toHaveLength(3);
      for (const [i, url] of urls.entries()) {
        const back = await retrieve(url, token);
        expect(back.status).toBe(200);
        expect(onlyPart(back).body.equals(files[i]!), url).toBe(true);
      }
    },
  );

  it('applies the built-in store rules: only the account that sent it, with its token, at its own URL', async () => {
    const media = await makeStudies(1, 2, seed++);
    const sender = linkFor(portal, media);
    const urls = await upload(portal, sender.token, media.instances);
    const [a, b] = media.instances;
    const url = urls.get(a!.sopInstanceUid)!;

    const anonymous = await retrieve(url, undefined);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body.toString()).error.code).toBe('link-unknown');
    expect((await retrieve(url, 'D'.repeat(43))).status).toBe(401);

    // Another account's valid link, even for the same patient, sees nothing.
    const other = linkFor(portal, media);
    const foreign = await retrieve(url, other.token);
    expect(foreign.status).toBe(404);
    expect(JSON.parse(foreign.body.toString()).error.code).toBe('not-found');

    // The instance under another series or study of the URL: not found.
    const wrongSeries = url.replace(/\/series\/[0-9.]+\//, '/series/1.2.3/');
    expect((await retrieve(wrongSeries, sender.token)).status).toBe(404);
    const swapped = url.replace(a!.sopInstanceUid, b!.sopInstanceUid);
    expect((await retrieve(swapped, sender.token)).status).toBe(200); // same study and series

    // Like the built-in store, and like reading a transfer's status, this is a read-only use: an
    // expired or revoked link still reads back what it sent.
    clock += 8 * DAY;
    try {
      const expired = await retrieve(url, sender.token);
      expect(expired.status).toBe(200);
      expect(onlyPart(expired).body.equals(a!.bytes)).toBe(true);
    } finally {
      clock -= 8 * DAY;
    }
    portal.service.revokeLink(sender.linkId, undefined, 'staff:test');
    const revoked = await retrieve(url, sender.token);
    expect(revoked.status).toBe(200);
    expect(onlyPart(revoked).body.equals(a!.bytes)).toBe(true);
  });

  it('answers 404 when Orthanc no longer holds the instance', async () => {
    const media = await makeStudies(1, 1, seed++);
    const { token } = linkFor(portal, media);
    const urls = await upload(portal, token, media.instances);
    const [only] = media.instances;
    const found = await fetch(`${orthanc.url}/tools/lookup`, {
      method: 'POST',
      body: only!.sopInstanceUid,
    });
    const [match] = (await found.json()) as { ID: string }[];
    expect((await fetch(`${orthanc.url}/instances/${match!.ID}`, { method: 'DELETE' })).ok).toBe(
      true,
    );
    const gone = await retrieve(urls.get(only!.sopInstanceUid)!, token);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body.toString()).error.message).toContain(
      "The hospital's archive does not hold this image",
    );
  });

  it('answers 503 + Retry-After while Orthanc is down, and the same bytes once it is back', async () => {
    const media = await makeStudies(1, 1, seed++);
    const { token } = linkFor(portal, media);
    const urls = await upload(portal, token, media.instances);
    const [only] = media.instances;
    const url = urls.get(only!.sopInstanceUid)!;
    await orthanc.stop();
    try {
      const down = await retrieve(url, token);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('3');
      expect(JSON.parse(down.body.toString()).error).toMatchObject({
        code: 'archive-unavailable',
        retryable: true,
      });
    } finally {
      await orthanc.restart();
    }
    const back = await retrieve(url, token);
    expect(back.status).toBe(200);
    expect(onlyPart(back).body.equals(only!.bytes)).toBe(true);
  });
});

describe('retrieval from the embedded store', () => {
  it('streams the file as multipart or bare, and answers 404 once the file is gone', async () => {
    const dataDir = await tempDir();
    const portal = await startPortal({ dataDir, staffPassword: 'x' });
    try {
      const media = await makeStudies(1, 2, seed++);
      const { token } = linkFor(portal, media);
      const urls = await upload(portal, token, media.instances);
      const [a, b] = media.instances;
      const multipart = await retrieve(urls.get(a!.sopInstanceUid)!, token);
      expect(multipart.headers.get('content-length')).toBe(String(multipart.body.length));
      expect(onlyPart(multipart).body.equals(a!.bytes)).toBe(true);
      const bare = await retrieve(urls.get(a!.sopInstanceUid)!, token, 'application/dicom');
      expect(bare.headers.get('content-type')).toBe('application/dicom');
      expect(bare.body.equals(a!.bytes)).toBe(true);

      await rm(path.join(dataDir, 'images', b!.studyInstanceUid, `${b!.sopInstanceUid}.dcm`));
      const gone = await retrieve(urls.get(b!.sopInstanceUid)!, token);
      expect(gone.status).toBe(404);
      expect(JSON.parse(gone.body.toString()).error.code).toBe('not-found');
    } finally {
      await portal.close();
    }
  });
});

describe('DICOMweb retrieval: answers from a fake archive', () => {
  let server: http.Server;
  let reply: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => undefined;
  let base: URL;
  const instance: StoredInstance = {
    sopInstanceUid: '1.2.3.4.5',
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    studyInstanceUid: '1.2.3',
    seriesInstanceUid: '1.2.3.4',
    accountId: 'acc_x',
    transferId: 'tr_x',
    sha256: '',
    bytes: 4000,
    storedAt: '2030-01-01T00:00:00Z',
  };
  const file = Buffer.alloc(4000, 7);
  const seen: { url: string; accept: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', accept: req.headers.accept ?? '' });
      reply(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const archive = () => new DicomWebArchive(base, 2000);
  async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  it('asks for the stored transfer syntax at the instance URL and reads the single part', async () => {
    reply = (_req, res) => {
      res.writeHead(200, {
        'content-type': 'multipart/related; type="application/dicom"; boundary="b 1"',
      });
      // Written in small pieces so the delimiter straddles chunks.
      const whole = Buffer.concat([
        Buffer.from('preamble\r\n--b 1\r\nContent-Type: application/dicom\r\n'),
        Buffer.from(`Content-Length: ${file.length}\r\n\r\n`),
        file,
        Buffer.from('\r\n--b 1--\r\nepilogue'),
      ]);
      for (let i = 0; i < whole.length; i += 333) res.write(whole.subarray(i, i + 333));
      res.end();
    };
    const got = await archive().retrieve(instance);
    expect(got?.bytes).toBe(4000);
    expect((await readAll(got!.body)).equals(file)).toBe(true);
    expect(seen.at(-1)).toEqual({
      url: '/dicom-web/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5',
      accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
    });
  });

  it('takes a bare application/dicom answer as the file', async () => {
    reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/dicom', 'content-length': file.length });
      res.end(file);
    };
    const got = await archive().retrieve(instance);
    expect(got?.bytes).toBe(4000);
    expect((await readAll(got!.body)).equals(file)).toBe(true);
  });

  it('tells "not held" (404) from "cannot ask" (5xx, 401, refused, not multipart)', async () => {
    reply = (_req, res) => res.writeHead(404).end();
    expect(await archive().retrieve(instance)).toBeUndefined();
    for (const status of [500, 503, 401]) {
      reply = (_req, res) => res.writeHead(status).end();
      await expect(archive().retrieve(instance)).rejects.toBeInstanceOf(ArchiveUnavailableError);
    }
    reply = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    await expect(archive().retrieve(instance)).rejects.toBeInstanceOf(ArchiveUnavailableError);
    const closed = new DicomWebArchive(new URL('http://127.0.0.1:9/dicom-web'), 2000);
    await expect(closed.retrieve(instance)).rejects.toBeInstanceOf(ArchiveUnavailableError);
  });

  it('fails the body, never shortens it, when the archive breaks off mid-instance', async () => {
    reply = (_req, res) => {
      res.writeHead(200, {
        'content-type': 'multipart/related; type="application/dicom"; boundary=xyz',
      });
      res.write(Buffer.from('--xyz\r\nContent-Type: application/dicom\r\n\r\n'));
      res.write(file.subarray(0, 1500), () => res.destroy());
    };
    const got = await archive().retrieve(instance);
    await expect(readAll(got!.body)).rejects.toThrow();
  });

  it('through the portal: a broken-off archive answer cuts the connection instead of ending the file', async () => {
    const media = await makeStudies(1, 1, seed++);
    const [one] = media.instances;
    // STOW-RS into the fake archive succeeds; its WADO-RS answer then breaks off halfway.
    reply = (req, res) => {
      if (req.method === 'POST') {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/dicom+json' });
          res.end(
            JSON.stringify({
              '00081199': {
                vr: 'SQ',
                Value: [{ '00081155': { vr: 'UI', Value: [one!.sopInstanceUid] } }],
              },
            }),
          );
        });
        return;
      }
      res.writeHead(200, {
        'content-type': 'multipart/related; type="application/dicom"; boundary=xyz',
      });
      res.write(Buffer.from('--xyz\r\nContent-Type: application/dicom\r\n\r\n'));
      res.write(one!.bytes.subarray(0, 1000), () => res.destroy());
    };
    const logs: string[] = [];
    const portal = await startPortal({
      dataDir: await tempDir(),
      archive: `dicomweb:${base.href}`,
      staffPassword: 'x',
      log: (line) => logs.push(line),
    });
    try {
      const { token } = linkFor(portal, media);
      const urls = await upload(portal, token, media.instances);
      const url = urls.get(one!.sopInstanceUid)!;
      // The answer is cut off: never a complete response, never the multipart close delimiter.
      const raw = await rawGet(url, token);
      expect(raw.complete).toBe(false);
      expect(raw.body.includes(Buffer.from('--\r\n'))).toBe(false);
      expect(logs.join('\n')).toMatch(
        /retrieving an instance from the DICOMweb archive .* broke off/,
      );
    } finally {
      await portal.close();
    }
  });
});

describe('Accept negotiation for RetrieveInstance', () => {
  it('sends the bare file only to clients that accept nothing but application/dicom', () => {
    expect(acceptsOnlyBareDicom(undefined)).toBe(false);
    expect(acceptsOnlyBareDicom('*/*')).toBe(false);
    expect(acceptsOnlyBareDicom('application/dicom')).toBe(true);
    expect(acceptsOnlyBareDicom('application/dicom; transfer-syntax=*')).toBe(true);
    expect(acceptsOnlyBareDicom('multipart/related; type="application/dicom"')).toBe(false);
    expect(
      acceptsOnlyBareDicom('application/dicom, multipart/related; type="application/dicom, x"'),
    ).toBe(false);
    expect(acceptsOnlyBareDicom('application/dicom, */*;q=0.1')).toBe(false);
  });
});

/** A GET that reports whether the response body arrived whole (by its framing). */
function rawGet(url: string, token: string): Promise<{ complete: boolean; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = () => resolve({ complete: res.complete, body: Buffer.concat(chunks) });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
  });
}
