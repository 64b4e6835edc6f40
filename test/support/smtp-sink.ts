/**
 * A minimal SMTP server (RFC 5321) on a loopback port that records every message it accepts, for
 * tests that send real mail: EHLO/HELO, AUTH PLAIN and LOGIN (RFC 4954), MAIL, RCPT, DATA with
 * dot-unstuffing, RSET, NOOP, QUIT. No TLS (loopback only). Recipients can be refused with 550.
 */
import net from 'node:net';

export interface SinkMessage {
  /** The client's EHLO/HELO name. */
  readonly helo: string;
  /** The authenticated user, if the client signed in. */
  readonly user: string | undefined;
  /** MAIL FROM:<…> */
  readonly mailFrom: string;
  /** RCPT TO:<…>, the accepted ones, in order. */
  readonly rcptTo: readonly string[];
  /** The message as sent after DATA, dot-unstuffed, without the final ".". */
  readonly data: Buffer;
}

export interface SmtpSinkOptions {
  /** When set, MAIL is refused (530) until the client authenticates as one of these users. */
  readonly users?: Readonly<Record<string, string>>;
  /** Recipients for which RCPT answers 550. */
  readonly refuseRecipient?: (address: string) => boolean;
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  readonly messages: readonly SinkMessage[];
  /** Every command line the sink received, AUTH secrets masked. */
  readonly transcript: readonly string[];
  /** Resolves once `count` messages have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<readonly SinkMessage[]>;
  close(): Promise<void>;
}

const MAX_LINE = 4096;
const MAX_MESSAGE = 10 * 1024 * 1024;

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const transcript: string[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    session(socket);
  });

  function session(socket: net.Socket): void {
    let buffer = Buffer.alloc(0);
    let mode: 'command' | 'data' | 'auth-plain' | 'auth-login-user' | 'auth-login-pass' = 'command';
    let helo = '';
    let user: string | undefined;
    let loginUser = '';
    let mailFrom: string | undefined;
    let rcptTo: string[] = [];
    const reply = (line: string) => socket.write(`${line}\r\n`);
    const reset = () => {
      mailFrom = undefined;
      rcptTo = [];
    };
    const checkCredentials = (name: string, password: string) => {
      if (options.users !== undefined && options.users[name] === password) {
        user = name;
        reply('235 2.7.0 Authentication successful');
      } else reply('535 5.7.8 Authentication credentials invalid');
      mode = 'command';
    };
    const authPlain = (encoded: string) => {
      const [, name = '', password = ''] = Buffer.from(encoded, 'base64')
        .toString('utf8')
        .split('\0');
      checkCredentials(name, password);
    };

    reply('220 ferry-smtp-sink ESMTP ready');
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (mode === 'data') {
          // The DATA section ends with CRLF "." CRLF; the CRLF before "." belongs to the message.
          const withLead = Buffer.concat([Buffer.from('\r\n'), buffer]);
          const end = withLead.indexOf('\r\n.\r\n');
          if (end < 0) {
            if (buffer.length > MAX_MESSAGE) {
              reply('552 5.3.4 Message too big');
              socket.destroy();
            }
            return;
          }
          const body = withLead.subarray(2, Math.max(2, end + 2));
          buffer = withLead.subarray(end + 5);
          const data = Buffer.from(body.toString('latin1').replace(/^\./gm, ''), 'latin1');
          messages.push({ helo, user, mailFrom: mailFrom ?? '', rcptTo, data });
          reset();
          mode = 'command';
          reply('250 2.0.0 Ok: queued');
          for (const wake of waiters) wake();
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) {
          if (buffer.length > MAX_LINE) {
            reply('500 5.5.6 Line too long');
            socket.destroy();
          }
          return;
        }
        const line = buffer.subarray(0, eol).toString('utf8');
        buffer = buffer.subarray(eol + 2);
        if (mode === 'auth-plain') {
          transcript.push('<credentials>');
          authPlain(line);
          continue;
        }
        if (mode === 'auth-login-user') {
          transcript.push('<user>');
          loginUser = Buffer.from(line, 'base64').toString('utf8');
          mode = 'auth-login-pass';
          reply(`334 ${Buffer.from('Password:').toString('base64')}`);
          continue;
        }
        if (mode === 'auth-login-pass') {
          transcript.push('<password>');
          checkCredentials(loginUser, Buffer.from(line, 'base64').toString('utf8'));
          continue;
        }
        const [verb = '', ...args] = line.split(' ');
        const arg = args.join(' ');
        transcript.push(/^AUTH$/i.test(verb) ? `AUTH ${args[0] ?? ''}` : line);
        switch (verb.toUpperCase()) {
          case 'EHLO':
            helo = arg;
            reset();
            socket.write(
              `250-ferry-smtp-sink greets ${arg}\r\n250-8BITMIME\r\n250-SIZE ${MAX_MESSAGE}\r\n` +
                (options.users ? '250-AUTH PLAIN LOGIN\r\n' : '') +
                '250 SMTPUTF8\r\n',
            );
            break;
          case 'HELO':
            helo = arg;
            reset();
            reply('250 ferry-smtp-sink');
            break;
          case 'AUTH': {
            const mechanism = (args[0] ?? '').toUpperCase();
            if (options.users === undefined) reply('503 5.5.1 AUTH not available');
            else if (user !== undefined) reply('503 5.5.1 Already authenticated');
            else if (mechanism === 'PLAIN' && args[1] !== undefined) authPlain(args[1]);
            else if (mechanism === 'PLAIN') {
              mode = 'auth-plain';
              reply('334 ');
            } else if (mechanism === 'LOGIN' && args[1] !== undefined) {
              loginUser = Buffer.from(args[1], 'base64').toString('utf8');
              mode = 'auth-login-pass';
              reply(`334 ${Buffer.from('Password:').toString('base64')}`);
            } else if (mechanism === 'LOGIN') {
              mode = 'auth-login-user';
              reply(`334 ${Buffer.from('Username:').toString('base64')}`);
            } else reply('504 5.5.4 Unrecognized authentication type');
            break;
          }
          case 'MAIL': {
            const from = /^FROM:\s*<([^>]*)>/i.exec(arg)?.[1];
            if (helo === '') reply('503 5.5.1 Say EHLO first');
            else if (options.users !== undefined && user === undefined)
              reply('530 5.7.0 Authentication required');
            else if (from === undefined) reply('501 5.5.4 Syntax: MAIL FROM:<address>');
            else if (mailFrom !== undefined) reply('503 5.5.1 Nested MAIL command');
            else {
              mailFrom = from;
              reply('250 2.1.0 Ok');
            }
            break;
          }
          case 'RCPT': {
            const to = /^TO:\s*<([^>]*)>/i.exec(arg)?.[1];
            if (mailFrom === undefined) reply('503 5.5.1 Need MAIL first');
            else if (to === undefined) reply('501 5.5.4 Syntax: RCPT TO:<address>');
            else if (options.refuseRecipient?.(to))
              reply('550 5.1.1 Recipient address rejected: unknown user');
            else {
              rcptTo.push(to);
              reply('250 2.1.5 Ok');
            }
            break;
          }
          case 'DATA':
            if (rcptTo.length === 0) reply('554 5.5.1 No valid recipients');
            else {
              mode = 'data';
              reply('354 End data with <CR><LF>.<CR><LF>');
            }
            break;
          case 'RSET':
            reset();
            reply('250 2.0.0 Ok');
            break;
          case 'NOOP':
            reply('250 2.0.0 Ok');
            break;
          case 'QUIT':
            reply('221 2.0.0 Bye');
            socket.end();
            return;
          default:
            reply('502 5.5.2 Command not recognized');
        }
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    messages,
    transcript,
    waitForMessages(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the SMTP sink got ${messages.length} of ${count} messages in time`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/** Headers (lower-cased names, unfolded) and the decoded text body of a single-part message. */
export function parseMessage(data: Buffer): { headers: Record<string, string>; text: string } {
  const raw = data.toString('latin1');
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : Buffer.from(body, 'latin1');
  return { headers, text: bytes.toString('utf8') };
}
