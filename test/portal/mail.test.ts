/**
 * Link e-mails over SMTP (`--smtp`): a real SMTP conversation with a loopback sink
 * (test/support/smtp-sink.ts), and the fall-back to the outbox when sending fails, so no link is lost.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSmtpUrl } from '../../portal/mail.ts';
import { startPortal, type RunningPortal } from '../../portal/server.ts';
import { freePort } from '../support/free-port.ts';
import { parseMessage, startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import {
  csrfOf,
  postForm,
  removeTempDirs,
  request,
  staffSignIn,
  tempDir,
  tokenOf,
} from './helpers.ts';

const PASSWORD = 'staff password for mail tests';
const SMTP_USER = 'ferry@hospital.example';
const SMTP_PASS = 'p@ss:word/1';

/** A patient whose link goes to a carer: the e-mail needs the carer's name and address only. */
const ACCOUNT = {
  patientName: 'DOE^JANE^Q',
  birthDate: '1970-01-01',
  email: 'carer@example.org',
  recipientName: 'John Roe',
  provider: 'Dr. Ada Lovelace',
  department: 'Neurology',
  organization: 'St. Example Hospital',
  expires: '7d',
  policy: 'reconcile',
  mrn: 'MRN-493-211',
  sendEmail: 'yes',
};

let sink: SmtpSink;
const portals: RunningPortal[] = [];
const logs: string[] = [];

beforeAll(async () => {
  sink = await startSmtpSink({ users: { [SMTP_USER]: SMTP_PASS } });
});

afterEach(async () => {
  await Promise.all(portals.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await sink?.close();
  await removeTempDirs();
});

async function portalWith(smtp: string | undefined, mailFrom?: string) {
  const dataDir = await tempDir();
  const portal = await startPortal({
    dataDir,
    staffPassword: PASSWORD,
    ...(smtp !== undefined ? { smtp } : {}),
    ...(mailFrom !== undefined ? { mailFrom } : {}),
    smtpTimeoutMs: 5000,
    log: (line) => logs.push(line),
  });
  portals.push(portal);
  return { portal, dataDir };
}

/** Creates an account through the staff pages with "E-mail the link now"; returns the page and link. */
async function createAccount(portal: RunningPortal) {
  const { answer, cookies } = await staffSignIn(portal.url, PASSWORD);
  expect(answer.status).toBe(303);
  const form = await request(`${portal.url}/staff/accounts/new`, {
    headers: { cookie: cookies.join('; ') },
  });
  const created = await postForm(`${portal.url}/staff/accounts`, cookies, {
    csrf: csrfOf(form.text),
    ...ACCOUNT,
  });
  expect(created.status, created.text).toBe(201);
  const link = /value="(http:\/\/[^"]+\/u\/[A-Za-z0-9_-]{43})"/.exec(created.text)?.[1];
  expect(link).toBeDefined();
  return { page: created.text, link: link!, cookies, csrf: csrfOf(created.text) };
}

async function outboxFiles(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(path.join(dataDir, 'outbox'))).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
}

/** Patient values the link e-mail must not carry (the recipient is someone else here). */
const PATIENT_VALUES = [
  'DOE',
  'JANE',
  '19700101',
  '1970-01-01',
  '01 Jan 1970',
  'MRN-493-211',
  'reconcile',
];

describe('link e-mails over SMTP', () => {
  it('sends the link to the recipient through a real SMTP conversation, with nothing else about the patient', async () => {
    const before = sink.messages.length;
    const smtp = `smtp://${encodeURIComponent(SMTP_USER)}:${encodeURIComponent(SMTP_PASS)}@127.0.0.1:${sink.port}`;
    const { portal, dataDir } = await portalWith(
      smtp,
      'St. Example Image Library <images@hospital.example>',
    );
    expect(portal.mailer.description).toBe(`SMTP via 127.0.0.1:${sink.port}`);
    const { page, link } = await createAccount(portal);
    expect(page).toContain('The link was e-mailed to carer@example.org.');

    const [message] = (await sink.waitForMessages(before + 1)).slice(before);
    expect(message!.user).toBe(SMTP_USER);
    expect(message!.mailFrom).toBe('images@hospital.example');
    expect(message!.rcptTo).toEqual(['carer@example.org']);
    expect(sink.transcript).toContain('AUTH PLAIN');
    expect(sink.transcript.join('\n')).not.toContain(SMTP_PASS);

    const { headers, text } = parseMessage(message!.data);
    expect(headers.to).toBe('"John Roe" <carer@example.org>');
    expect(headers.from).toBe('St. Example Image Library <images@hospital.example>');
    expect(headers.subject).toBe('"Your link to send imaging studies to St. Example Hospital"');
    expect(text).toContain(`\r\n${link}\r\n`);
    expect(text).toContain('Hello John Roe,');
    expect(text).toContain('Dr. Ada Lovelace (Neurology) at St. Example Hospital');
    // Headers and decoded text; the link's random token is left out (it could spell anything).
    const head = message!.data.toString('latin1').split('\r\n\r\n')[0]!;
    const whole = `${head}\n${text.replace(link, '<link>')}`;
    for (const value of PATIENT_VALUES) expect(whole, value).not.toContain(value);
    const resolved = await request(`${portal.url}/api/v1/links/${tokenOf(link)}`);
    expect(whole).not.toContain(resolved.json.accountId as string);

    // Sent: nothing waits in the outbox; the audit says how it went, without the address.
    expect(await outboxFiles(dataDir)).toEqual([]);
    const audit = await readFile(path.join(dataDir, 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"link-emailed".*"code":"smtp"/);
    expect(audit).not.toContain('carer@example.org');
  });

  it('falls back to the outbox with a clear message when the SMTP server refuses the connection', async () => {
    const closedPort = await freePort();
    const { portal, dataDir } = await portalWith(`smtp://127.0.0.1:${closedPort}`);
    const logged = logs.length;
    const { page, link } = await createAccount(portal);
    expect(page).toContain('The e-mail to carer@example.org could not be sent (');
    expect(page).toContain('ECONNREFUSED');
    expect(page).toContain('It was written to the outbox folder instead');
    expect(page).toMatch(/<p class="error">[^<]*could not be sent/);

    const [eml] = await outboxFiles(dataDir);
    expect(eml).toBeDefined();
    const { headers, text } = parseMessage(await readFile(path.join(dataDir, 'outbox', eml!)));
    expect(headers.to).toBe('"John Roe" <carer@example.org>');
    expect(text).toContain(link);

    expect(logs.slice(logged).join('\n')).toMatch(/SMTP delivery failed \(ESOCKET ECONNREFUSED\)/);
    expect(logs.join('\n')).not.toContain('carer@example.org');
    const audit = await readFile(path.join(dataDir, 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"link-emailed".*"code":"outbox-after-smtp-failure"/);
  });

  it('falls back to the outbox when the server refuses the recipient or the credentials', async () => {
    const refusing = await startSmtpSink({ refuseRecipient: (to) => to.startsWith('carer@') });
    try {
      const { portal, dataDir } = await portalWith(`smtp://127.0.0.1:${refusing.port}`);
      const { page, link } = await createAccount(portal);
      expect(page).toContain('could not be sent');
      expect(page).toContain('550 5.1.1');
      expect(refusing.messages).toEqual([]);
      const [eml] = await outboxFiles(dataDir);
      expect(await readFile(path.join(dataDir, 'outbox', eml!), 'utf8')).toMatch(/^To: .*carer/m);
      expect(parseMessage(await readFile(path.join(dataDir, 'outbox', eml!))).text).toContain(link);
    } finally {
      await refusing.close();
    }

    const before = sink.messages.length;
    const { portal, dataDir } = await portalWith(
      `smtp://${SMTP_USER}:wrong@127.0.0.1:${sink.port}`,
    );
    const { page } = await createAccount(portal);
    expect(page).toContain('could not be sent');
    expect(sink.messages.length).toBe(before);
    expect(await outboxFiles(dataDir)).toHaveLength(1);
  });

  it('keeps the outbox when SMTP is not configured', async () => {
    const before = sink.messages.length;
    const { portal, dataDir } = await portalWith(undefined);
    expect(portal.mailer.description).toBe('outbox folder');
    const { page } = await createAccount(portal);
    expect(page).toMatch(
      /<p class="notice">The e-mail to carer@example.org was written to the outbox folder/,
    );
    expect(await outboxFiles(dataDir)).toHaveLength(1);
    expect(sink.messages.length).toBe(before);
  });

  it('reads smtp:// and smtps:// URLs, and refuses anything else at start', async () => {
    expect(parseSmtpUrl('smtps://u%40x.org:p%3Aw@mail.example.org')).toMatchObject({
      host: 'mail.example.org',
      port: 465,
      secure: true,
      auth: { user: 'u@x.org', pass: 'p:w' },
    });
    // A password never crosses the network in clear: STARTTLS is required unless on loopback.
    expect(parseSmtpUrl('smtp://u:p@mail.example.org:2525')).toMatchObject({
      port: 2525,
      secure: false,
      requireTLS: true,
    });
    expect(parseSmtpUrl('smtp://mail.example.org')).toMatchObject({ port: 587, requireTLS: false });
    expect(parseSmtpUrl('smtp://u:p@127.0.0.1:25').requireTLS).toBe(false);
    expect(() => parseSmtpUrl('http://mail.example.org')).toThrow(/smtp:\/\/ or smtps:\/\//);
    await expect(
      startPortal({ dataDir: await tempDir(), staffPassword: 'x', smtp: 'mail.example.org' }),
    ).rejects.toThrow(/--smtp/);
  });
});
