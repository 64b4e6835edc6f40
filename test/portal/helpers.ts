/** Shared pieces of the portal tests: generated studies, STOW-RS bodies, API calls. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { makeMedia } from '../support/make-media.ts';

/** Answers are checked field by field in the tests: loosely typed on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export interface TestInstance {
  readonly file: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly bytes: Buffer;
}

export interface TestStudies {
  readonly instances: TestInstance[];
  readonly studies: { studyInstanceUid: string; instances: number; bytes: number }[];
  readonly patientId: string;
  readonly patientName: string;
}

const tempDirs: string[] = [];

export async function tempDir(prefix = 'ferry-portal-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** One patient, `studies` studies of `perStudy` small CT/MR instances each (test/support/make-media.ts). */
export async function makeStudies(
  studies: number,
  perStudy: number,
  seed: number,
): Promise<TestStudies> {
  const outDir = await tempDir('ferry-portal-media-');
  const media = await makeMedia({
    outDir,
    patients: 1,
    studiesPerPatient: studies,
    seriesPerStudy: 1,
    instancesPerSeries: perStudy,
    withDicomdir: false,
    extras: false,
    rows: 16,
    columns: 16,
    seed,
  });
  const patient = media.patients[0]!;
  const instances: TestInstance[] = [];
  for (const study of patient.studies) {
    for (const series of study.series) {
      for (const [i, rel] of series.files.entries()) {
        const file = path.join(media.root, rel);
        instances.push({
          file,
          sopInstanceUid: series.sopInstanceUids[i]!,
          studyInstanceUid: study.studyInstanceUid,
          bytes: await readFile(file),
        });
      }
    }
  }
  return {
    instances,
    studies: patient.studies.map((s) => {
      const of = instances.filter((i) => i.studyInstanceUid === s.studyInstanceUid);
      return {
        studyInstanceUid: s.studyInstanceUid,
        instances: of.length,
        bytes: of.reduce((n, i) => n + i.bytes.length, 0),
      };
    }),
    patientId: patient.patientId,
    patientName: patient.patientName,
  };
}

export interface Part {
  readonly contentType?: string;
  readonly data: Buffer;
}

export function multipartBody(
  parts: readonly Part[],
  boundary = 'ferry-test-boundary-7d3a',
): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\n${part.contentType === undefined ? '' : `Content-Type: ${part.contentType}\r\n`}\r\n`,
      ),
    );
    chunks.push(part.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export const dicomParts = (instances: readonly TestInstance[]): Part[] =>
  instances.map((i) => ({ contentType: 'application/dicom', data: i.bytes }));

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: Loose;
  readonly text: string;
}

export function request(
  url: string,
  options: {
    method?: string;
    token?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    chunks?: AsyncIterable<Buffer>;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const req = http.request(url, { method: options.method ?? 'GET', headers });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    if (options.chunks !== undefined) {
      void (async () => {
        try {
          for await (const chunk of options.chunks!) {
            if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          }
          req.end();
        } catch (err) {
          req.destroy(err as Error);
        }
      })();
    } else req.end(options.body);
  });
}

export function stow(
  url: string,
  token: string | undefined,
  parts: readonly Part[],
  boundary?: string,
): Promise<Answer> {
  const body = multipartBody(parts, boundary);
  return request(url, {
    method: 'POST',
    ...(token !== undefined ? { token } : {}),
    headers: {
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary ?? 'ferry-test-boundary-7d3a'}`,
      accept: 'application/dicom+json',
    },
    body,
  });
}

export function postJson(url: string, token: string | undefined, value: unknown): Promise<Answer> {
  return request(url, {
    method: 'POST',
    ...(token !== undefined ? { token } : {}),
    headers: { 'content-type': 'application/json' },
    body: value === undefined ? '' : JSON.stringify(value),
  });
}

/** SOP Instance UIDs of ReferencedSOPSequence (0008,1199). */
export function referenced(json: Loose): string[] {
  return ((json?.['00081199']?.Value ?? []) as Loose[]).map(
    (i) => i['00081155'].Value[0] as string,
  );
}

/** [SOP Instance UID or '', FailureReason] of FailedSOPSequence (0008,1198). */
export function failed(json: Loose): [string, number][] {
  return ((json?.['00081198']?.Value ?? []) as Loose[]).map((i) => [
    (i['00081155']?.Value?.[0] as string | undefined) ?? '',
    i['00081197'].Value[0] as number,
  ]);
}

export function tokenOf(link: string): string {
  return link.slice(link.lastIndexOf('/') + 1);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Returns the transfer status once it is terminal. */
export function waitForTerminal(statusUrl: string, token: string): Promise<Loose> {
  return waitFor('a terminal transfer state', async () => {
    const answer = await request(statusUrl, { token });
    return answer.json?.terminal ? answer.json : undefined;
  });
}

/** The cookies an answer sets (name=value), without the ones it clears. */
export function cookiesOf(answer: Answer): string[] {
  const set = answer.headers['set-cookie'] ?? [];
  return set.map((c) => c.split(';')[0]!).filter((c) => !c.endsWith('='));
}

export function postForm(
  url: string,
  cookies: string[],
  fields: Record<string, string | string[]>,
): Promise<Answer> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) form.append(k, one);
  return request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
    body: form.toString(),
  });
}

export const csrfOf = (page: string): string => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

/** Signs in as the staff user "admin" through the sign-in form. */
export async function staffSignIn(
  portalUrl: string,
  password: string,
): Promise<{ answer: Answer; cookies: string[] }> {
  const page = await request(`${portalUrl}/staff/sign-in`);
  const answer = await postForm(`${portalUrl}/staff/sign-in`, cookiesOf(page), {
    csrf: csrfOf(page.text),
    username: 'admin',
    password,
  });
  return { answer, cookies: cookiesOf(answer) };
}
