/** Staff pages: sign-in, CSRF, creating an account and its link, the outbox e-mail, revoking. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortal, type RunningPortal } from '../../portal/server.ts';
import {
  csrfOf,
  postForm,
  removeTempDirs,
  request,
  staffSignIn,
  tempDir,
  tokenOf,
  type Answer,
} from './helpers.ts';

let portal: RunningPortal;
let dataDir: string;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  dataDir = await tempDir();
  portal = await startPortal({ dataDir, staffPassword: PASSWORD });
});

afterAll(async () => {
  await portal?.close();
  await removeTempDirs();
});

function signIn(password = PASSWORD): Promise<{ answer: Answer; cookies: string[] }> {
  return staffSignIn(portal.url, password);
}

describe('staff pages', () => {
  it('sends strangers to sign-in, with a strict CSP and no scripts', async () => {
    const home = await request(`${portal.url}/staff`);
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/staff/sign-in');
    const page = await request(`${portal.url}/staff/sign-in`);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(page.text).not.toContain('<script');
    expect(page.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('refuses a wrong password, a missing CSRF token, and rate-limits guessing', async () => {
    const wrong = await signIn('nope');
    expect(wrong.answer.status).toBe(401);
    expect(wrong.answer.text).toContain('The user name or password is not right.');
    const noCsrf = await postForm(`${portal.url}/staff/sign-in`, [], {
      username: 'admin',
      password: PASSWORD,
    });
    expect(noCsrf.status).toBe(400);
    for (let i = 0; i < 4; i++) await signIn('nope');
    const blocked = await signIn(PASSWORD);
    expect(blocked.answer.status).toBe(429);
  });

  it('creates an account, shows the link once, e-mails it to the outbox, and revokes it', async () => {
    // A fresh portal: the previous test rate-limited this IP for 'admin'.
    await portal.close();
    portal = await startPortal({ dataDir, staffPassword: PASSWORD });
    const { answer, cookies } = await signIn();
    expect(answer.status).toBe(303);
    expect(answer.headers['set-cookie']?.find((c) => c.startsWith('ferry_session='))).toMatch(
      /; Path=\/staff; HttpOnly; SameSite=Strict/,
    );

    const newPage = await request(`${portal.url}/staff/accounts/new`, {
      headers: { cookie: cookies.join('; ') },
    });
    expect(newPage.status).toBe(200);
    const csrf = csrfOf(newPage.text);

    const forged = await postForm(`${portal.url}/staff/accounts`, cookies, {
      csrf: 'forged',
      patientName: 'X',
    });
    expect(forged.status).toBe(400);

    const created = await postForm(`${portal.url}/staff/accounts`, cookies, {
      csrf,
      patientName: '<script>alert(1)</script>^JANE',
      birthDate: '1970-01-01',
      email: 'jane@example.org',
      provider: 'Dr. Ada Lovelace',
      department: 'Neurology',
      organization: 'St. Example Hospital',
      expires: '7d',
      policy: 'basic',
      option: ['retain-uids', 'clean-descriptors'],
      sendEmail: 'yes',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.text).not.toContain('<script>alert(1)</script>');
    expect(created.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;^JANE');
    const link = /value="(http:\/\/[^"]+\/u\/[A-Za-z0-9_-]{43})"/.exec(created.text)?.[1];
    expect(link).toBeDefined();

    const resolved = await request(`${portal.url}/api/v1/links/${tokenOf(link!)}`);
    expect(resolved.json.policy).toEqual({
      kind: 'basic',
      options: ['retain-uids', 'clean-descriptors'],
    });
    expect(resolved.json.patient.birthDate).toBe('19700101');

    const outbox = path.join(dataDir, 'outbox');
    const [eml] = (await readdir(outbox)).filter((f) => f.endsWith('.eml'));
    const message = await readFile(path.join(outbox, eml!), 'utf8');
    expect(message).toMatch(/^To: .* <jane@example\.org>$/m);
    const body = Buffer.from(message.split('\r\n\r\n')[1]!.replace(/\r\n/g, ''), 'base64').toString(
      'utf8',
    );
    expect(body).toContain(link!);

    const dashboard = await request(`${portal.url}/staff`, {
      headers: { cookie: cookies.join('; ') },
    });
    expect(dashboard.text).toContain('Dr. Ada Lovelace');
    const accountId = resolved.json.accountId as string;
    const revoke = await postForm(`${portal.url}/staff/accounts/${accountId}/revoke`, cookies, {
      csrf,
      reason: 'Wrong patient',
    });
    expect(revoke.status).toBe(303);
    expect((await request(`${portal.url}/api/v1/links/${tokenOf(link!)}`)).json.error.code).toBe(
      'link-revoked',
    );
    const details = await request(`${portal.url}/staff/accounts/${accountId}`, {
      headers: { cookie: cookies.join('; ') },
    });
    expect(details.text).toContain('revoked');

    const audit = await readFile(path.join(dataDir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"action":"link-emailed"');
    expect(audit).not.toContain('jane@example.org');
    expect(audit).not.toContain('alert(1)');
  });
});
