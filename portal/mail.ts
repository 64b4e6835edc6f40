/**
 * Link e-mails. Without SMTP configured every message is written as an RFC 5322 .eml file to
 * <data>/outbox/, where staff (or a mail relay watching the folder) pick it up.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface MailMessage {
  readonly to: { readonly name: string; readonly email: string };
  readonly subject: string;
  readonly text: string;
}

export interface MailReceipt {
  readonly via: 'outbox' | 'smtp';
  /** The .eml file, for the outbox. */
  readonly file?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<MailReceipt>;
  close(): Promise<void>;
}

export function createMailer(options: {
  dataDir: string;
  smtp?: string | undefined;
  from?: string | undefined;
}): Mailer {
  if (options.smtp !== undefined) {
    throw new Error(
      '--smtp is not supported yet: leave it out and link e-mails go to <data>/outbox/ as .eml files',
    );
  }
  return new OutboxMailer(
    path.join(options.dataDir, 'outbox'),
    options.from ?? 'DICOM Ferry portal <no-reply@ferry-portal.invalid>',
  );
}

class OutboxMailer implements Mailer {
  constructor(
    readonly dir: string,
    readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<MailReceipt> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(this.dir, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
    writeFileSync(`${file}.tmp`, formatMessage(this.from, message), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    return { via: 'outbox', file };
  }

  async close(): Promise<void> {}
}

/** RFC 5322 message, text/plain UTF-8 in base64; header values RFC 2047-encoded when not ASCII. */
export function formatMessage(from: string, message: MailMessage, date = new Date()): string {
  const address = message.to.email.replace(/[\r\n<>"]/g, '');
  const headers = [
    `From: ${oneLine(from)}`,
    `To: ${encodeWord(message.to.name)} <${address}>`,
    `Subject: ${encodeWord(message.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@ferry-portal>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ];
  const body = Buffer.from(message.text.replace(/\r?\n/g, '\r\n'), 'utf8')
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n');
  return `${headers.join('\r\n')}\r\n\r\n${body}\r\n`;
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

function encodeWord(value: string): string {
  const clean = oneLine(value);
  if (/^[\x20-\x7e]*$/.test(clean) && !/[=?"]/.test(clean)) return `"${clean.replace(/\\/g, '')}"`;
  return `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

export function linkMessage(input: {
  recipientName: string;
  email: string;
  link: string;
  expiresAt: string;
  provider: string;
  department: string;
  organization: string;
}): MailMessage {
  const who = input.department ? `${input.provider} (${input.department})` : input.provider;
  const org = input.organization || 'the hospital';
  return {
    to: { name: input.recipientName, email: input.email },
    subject: `Your link to send imaging studies to ${org}`,
    text: [
      `Hello ${input.recipientName},`,
      '',
      `${who} at ${org} is expecting imaging studies (for example from a CD you were given).`,
      'Open this link to send them securely with DICOM Ferry:',
      '',
      input.link,
      '',
      `The link works until ${new Date(input.expiresAt).toUTCString()}. Do not share it: anyone with the link can send images to your record.`,
      'If you did not expect this message, ignore it or call the hospital.',
    ].join('\n'),
  };
}
