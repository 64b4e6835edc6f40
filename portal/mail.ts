/**
 * Link e-mails. With `--smtp smtp://[user:pass@]host[:port]` (or smtps://) each message is sent over
 * SMTP; without it, and whenever sending fails, the same RFC 5322 message is written as an .eml file
 * to <data>/outbox/, where staff (or a mail relay watching the folder) pick it up. No link is lost.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

export interface MailMessage {
  readonly to: { readonly name: string; readonly email: string };
  readonly subject: string;
  readonly text: string;
}

export interface MailReceipt {
  readonly via: 'outbox' | 'smtp';
  /** The .eml file, for the outbox. */
  readonly file?: string;
  /** Why SMTP delivery failed, when the message went to the outbox instead (for staff, not the audit log). */
  readonly smtpError?: string;
}

export interface Mailer {
  /** For logs and the staff pages: "SMTP via host:port" or "outbox folder". */
  readonly description: string;
  send(message: MailMessage): Promise<MailReceipt>;
  close(): Promise<void>;
}

export const DEFAULT_FROM = 'DICOM Ferry portal <no-reply@ferry-portal.invalid>';

export interface MailerOptions {
  readonly dataDir: string;
  /** smtp://[user:pass@]host[:port] (STARTTLS) or smtps://… (TLS from the start). */
  readonly smtp?: string | undefined;
  readonly from?: string | undefined;
  /** Connection, greeting and idle timeouts for SMTP; default 15 s. */
  readonly smtpTimeoutMs?: number;
  /** Where a failed SMTP delivery is reported (no addresses or names, only the error code). */
  readonly log?: (line: string) => void;
}

export function createMailer(options: MailerOptions): Mailer {
  const outbox = new OutboxMailer(
    path.join(options.dataDir, 'outbox'),
    options.from ?? DEFAULT_FROM,
  );
  if (options.smtp === undefined || options.smtp === '') return outbox;
  const smtp = parseSmtpUrl(options.smtp, options.smtpTimeoutMs ?? 15_000);
  const from =
    options.from ??
    (smtp.auth?.user?.includes('@') ? `DICOM Ferry portal <${smtp.auth.user}>` : DEFAULT_FROM);
  return new SmtpMailer(smtp, from, new OutboxMailer(outbox.dir, from), options.log);
}

/**
 * `smtp://[user:pass@]host[:port]` (default port 587; STARTTLS when offered, and required when a
 * password would otherwise cross the network in clear) or `smtps://…` (TLS from the start, default
 * port 465). User and password are percent-decoded.
 */
export function parseSmtpUrl(value: string, timeoutMs = 15_000): SMTPTransport.Options {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('--smtp must be a URL: smtp://[user:pass@]host[:port] or smtps://…');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`--smtp must start with smtp:// or smtps://, got ${url.protocol}//`);
  }
  if (url.hostname === '') throw new Error('--smtp needs a host: smtp://host:port');
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|::1)$/i.test(host);
  return {
    host,
    port: url.port !== '' ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user !== '' ? { auth: { user, pass } } : {}),
    // A password is never sent in clear text to another machine.
    requireTLS: !secure && user !== '' && !loopback,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    name: 'ferry-portal',
  };
}

class OutboxMailer implements Mailer {
  readonly description = 'outbox folder';

  constructor(
    readonly dir: string,
    readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<MailReceipt> {
    return { via: 'outbox', file: this.write(formatMessage(this.from, message)) };
  }

  /** Writes the message atomically (temp file, then rename); returns the .eml path. */
  write(raw: string): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(this.dir, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
    writeFileSync(`${file}.tmp`, raw, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    return file;
  }

  async close(): Promise<void> {}
}

/** Sends the very message the outbox would hold; on any failure writes it to the outbox instead. */
class SmtpMailer implements Mailer {
  readonly description: string;
  readonly #transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(
    options: SMTPTransport.Options,
    readonly from: string,
    readonly outbox: OutboxMailer,
    readonly log: ((line: string) => void) | undefined,
  ) {
    this.description = `SMTP via ${options.host ?? ''}:${options.port ?? ''}`;
    this.#transport = nodemailer.createTransport(options);
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const raw = formatMessage(this.from, message);
    try {
      const info = await this.#transport.sendMail({
        envelope: { from: addressOf(this.from), to: [addressOf(message.to.email)] },
        raw,
      });
      if (info.rejected.length > 0 || info.accepted.length === 0) {
        throw Object.assign(new Error(`the server refused the recipient: ${info.response}`), {
          code: 'EENVELOPE',
        });
      }
      return { via: 'smtp' };
    } catch (err) {
      const { code, originalCode, responseCode } = err as {
        code?: unknown;
        originalCode?: unknown;
        responseCode?: unknown;
      };
      // Codes only: a server's answer may quote the recipient's address.
      const codes = [code, originalCode, responseCode].filter(
        (c) => typeof c === 'string' || typeof c === 'number',
      );
      this.log?.(
        `portal: SMTP delivery failed (${codes.join(' ') || 'error'}); the e-mail was written to the outbox instead`,
      );
      return {
        via: 'outbox',
        file: this.outbox.write(raw),
        smtpError: err instanceof Error ? oneLine(err.message).slice(0, 300) : String(err),
      };
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}

/** The bare address of "Name <addr>" or "addr". */
function addressOf(value: string): string {
  return (/<([^<>]+)>\s*$/.exec(value)?.[1] ?? value).replace(/[\r\n<>"\s]/g, '');
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
  const name = displayName(input.recipientName);
  return {
    to: { name, email: input.email },
    subject: `Your link to send imaging studies to ${org}`,
    text: [
      `Hello ${name},`,
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

/** A DICOM PN value (FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX) as written in a letter; other text unchanged. */
export function displayName(name: string): string {
  if (!name.includes('^')) return name.trim();
  const [family, given, middle, prefix, suffix] = (name.split('=')[0] ?? '')
    .split('^')
    .map((part) => part.trim());
  return [prefix, given, middle, family, suffix].filter(Boolean).join(' ') || name.trim();
}
