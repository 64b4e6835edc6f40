/**
 * Staff pages (image library): sign in, create a temporary upload account and its link, copy or
 * e-mail the link, list accounts and transfers with live status, revoke, issue a new link.
 *
 * Sessions live in memory (a restart signs staff out): an HttpOnly, SameSite=Strict cookie holding a
 * random id. Every form carries the session's CSRF token; the sign-in form a double-submit token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PortalError } from './errors.ts';
import { readSmallBody } from './request-body.ts';
import { html, sendHtml, type RawHtml } from './html.ts';
import { linkMessage, type Mailer } from './mail.ts';
import { BASIC_PROFILE_OPTIONS, type LinkPolicy, type UploadAccount } from './model.ts';
import { FailureLimiter } from './rate-limit.ts';
import { parseDuration, parsePolicy, type IssuedLink, type PortalService } from './service.ts';
import { transferStatus } from './status.ts';
import { hashToken, verifyPassword } from './tokens.ts';

const SESSION_COOKIE = 'ferry_session';
const LOGIN_COOKIE = 'ferry_login';
const SESSION_IDLE_MS = 8 * 3_600_000;
const MAX_FORM_BYTES = 64 * 1024;

/** What the staff page says about an e-mail: sent, or where it went instead and why. */
interface MailOutcome {
  readonly ok: boolean;
  readonly text: string;
}

interface Session {
  readonly username: string;
  readonly csrf: string;
  lastSeen: number;
}

export class StaffPages {
  readonly #sessions = new Map<string, Session>();
  /** Per IP and user name, and per IP over all names. */
  readonly #signInFailures = new FailureLimiter(5, 15 * 60_000);
  readonly #signInFailuresByIp = new FailureLimiter(20, 15 * 60_000);

  constructor(
    readonly service: PortalService,
    readonly mailer: Mailer,
  ) {}

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string[],
    method: string,
    ip: string,
  ): Promise<void> {
    const [first, id, action, ...extra] = path;
    if (extra.length > 0) throw new PortalError('not-found');
    if (method === 'POST') this.#checkOrigin(req);

    if (first === 'sign-in') {
      if (method === 'GET') return this.#signInPage(res);
      if (method === 'POST') return this.#signIn(req, res, ip);
      throw new PortalError('method-not-allowed');
    }
    const session = this.#session(req);
    if (session === undefined) {
      if (method === 'GET') return redirect(res, '/staff/sign-in');
      throw new PortalError('bad-request', 'Your session has ended. Sign in again.');
    }
    const actor = `staff:${session.username}`;
    const form = method === 'POST' ? await this.#readForm(req, session) : undefined;

    if (first === undefined && method === 'GET') return this.#dashboard(res, session);
    if (first === 'sign-out' && method === 'POST') {
      this.#sessions.delete(cookie(req, SESSION_COOKIE) ?? '');
      this.service.audit.record({ action: 'staff-sign-out', actor, ip }, this.service.now());
      res.setHeader('set-cookie', this.#cookie(SESSION_COOKIE, '', 0));
      return redirect(res, '/staff/sign-in');
    }
    if (first === 'accounts') {
      if (id === 'new' && method === 'GET') return this.#newAccountPage(res, session);
      if (id === undefined && form !== undefined)
        return this.#createAccount(res, session, form, actor);
      if (id === undefined) throw new PortalError('method-not-allowed');
      const account = this.service.store.accounts.get(id);
      if (account === undefined) throw new PortalError('not-found');
      if (action === undefined && method === 'GET') return this.#accountPage(res, session, account);
      if (form !== undefined && action === 'revoke') {
        this.service.revokeAccount(account.id, form.get('reason') ?? undefined, actor);
        return redirect(res, `/staff/accounts/${encodeURIComponent(account.id)}`);
      }
      if (form !== undefined && action === 'links') {
        const issued = this.service.issueLink(
          account.id,
          parseDuration(form.get('expires') || '7d'),
          actor,
        );
        return this.#linkIssuedPage(res, session, account, issued, undefined);
      }
      if (form !== undefined && action === 'email') {
        const link = form.get('link') ?? '';
        const token = /\/u\/([A-Za-z0-9_-]{43})$/.exec(link)?.[1];
        const known = token && this.service.store.linkByTokenHash(hashToken(token));
        if (!known || known.accountId !== account.id)
          throw new PortalError('bad-request', 'That link does not belong to this account.');
        const sent = await this.#email(account, link, known.expiresAt, actor, known.id);
        return this.#linkIssuedPage(
          res,
          session,
          account,
          { link, token, accountId: account.id, linkId: known.id, expiresAt: known.expiresAt },
          sent,
        );
      }
    }
    throw new PortalError('not-found');
  }

  #checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined || origin === 'null') return; // SameSite=Strict and CSRF tokens still hold
    if (new URL(origin).host !== req.headers.host)
      throw new PortalError('bad-request', 'Forms must be sent from the portal itself.');
  }

  #cookie(name: string, value: string, maxAgeSeconds: number): string {
    const secure = this.service.baseUrl.startsWith('https:') ? '; Secure' : '';
    return `${name}=${value}; Path=/staff; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
  }

  #session(req: IncomingMessage): Session | undefined {
    const id = cookie(req, SESSION_COOKIE);
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (session === undefined || id === undefined) return undefined;
    const now = this.service.now().getTime();
    if (now - session.lastSeen > SESSION_IDLE_MS) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  async #readForm(req: IncomingMessage, session: Session | undefined): Promise<URLSearchParams> {
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      throw new PortalError(
        'unsupported-media-type',
        'Forms must be sent as application/x-www-form-urlencoded.',
      );
    }
    const form = new URLSearchParams((await readSmallBody(req, MAX_FORM_BYTES)).toString('utf8'));
    const expected = session?.csrf ?? cookie(req, LOGIN_COOKIE);
    const given = form.get('csrf') ?? '';
    if (expected === undefined || !sameText(expected, given)) {
      throw new PortalError(
        'bad-request',
        'This form has expired. Go back, reload the page and try again.',
      );
    }
    return form;
  }

  #signInPage(res: ServerResponse, problem?: string, status = 200): void {
    const csrf = randomBytes(24).toString('base64url');
    res.setHeader('set-cookie', this.#cookie(LOGIN_COOKIE, csrf, 3600));
    sendHtml(
      res,
      status,
      'Staff sign-in',
      html`<h1>Staff sign-in</h1>
        ${problem ? html`<p class="error">${problem}</p>` : ''}
        <form method="post" action="/staff/sign-in">
          <input type="hidden" name="csrf" value="${csrf}" />
          <label for="username">User name</label
          ><input id="username" name="username" type="text" autocomplete="username" required />
          <label for="password">Password</label
          ><input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
          <button type="submit">Sign in</button>
        </form>`,
    );
  }

  async #signIn(req: IncomingMessage, res: ServerResponse, ip: string): Promise<void> {
    const form = await this.#readForm(req, undefined);
    const username = (form.get('username') ?? '').trim();
    const key = `${ip} ${username.toLowerCase()}`;
    const now = this.service.now();
    const wait = Math.max(
      this.#signInFailures.retryAfter(key, now.getTime()),
      this.#signInFailuresByIp.retryAfter(ip, now.getTime()),
    );
    if (wait > 0) {
      this.service.audit.record(
        { action: 'rate-limited', actor: 'anonymous', ip, code: 'sign-in' },
        now,
      );
      return this.#signInPage(
        res,
        'Too many failed attempts. Wait a few minutes and try again.',
        429,
      );
    }
    this.service.store.sync();
    const user = this.service.store.users.get(username);
    const ok =
      user !== undefined && (await verifyPassword(form.get('password') ?? '', user.passwordHash));
    if (!ok) {
      this.#signInFailures.fail(key, now.getTime());
      this.#signInFailuresByIp.fail(ip, now.getTime());
      this.service.audit.record({ action: 'staff-sign-in-failed', actor: 'anonymous', ip }, now);
      return this.#signInPage(res, 'The user name or password is not right.', 401);
    }
    this.#signInFailures.reset(key);
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, {
      username,
      csrf: randomBytes(24).toString('base64url'),
      lastSeen: now.getTime(),
    });
    this.service.audit.record({ action: 'staff-sign-in', actor: `staff:${username}`, ip }, now);
    res.setHeader('set-cookie', [
      this.#cookie(SESSION_COOKIE, id, SESSION_IDLE_MS / 1000),
      this.#cookie(LOGIN_COOKIE, '', 0),
    ]);
    redirect(res, '/staff');
  }

  #nav(session: Session): RawHtml {
    return html`<nav>
      <a href="/staff">Upload accounts</a><a href="/staff/accounts/new">New upload account</a>
      <form class="inline" method="post" action="/staff/sign-out">
        <input type="hidden" name="csrf" value="${session.csrf}" /><span class="muted"
          >${session.username}</span
        >
        <button type="submit">Sign out</button>
      </form>
    </nav>`;
  }

  #dashboard(res: ServerResponse, session: Session): void {
    const { store } = this.service;
    this.service.expireDue();
    const accounts = [...store.accounts.values()].sort((a, b) =>
      b.createdAt.localeCompare(a.createdAt),
    );
    const rows = accounts.map((account) => {
      const links = store.linksOf(account.id);
      const active = links.filter((l) => this.service.linkState(l) === 'active');
      const latest = store
        .transfersOf(account.id)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
      const status =
        latest && transferStatus(latest, account, store.instancesFor(latest), this.service.baseUrl);
      return html`<tr>
        <td>
          <a href="/staff/accounts/${encodeURIComponent(account.id)}">${account.patient.name}</a
          ><br /><span class="muted">${account.patient.birthDate}</span>
        </td>
        <td>
          ${account.provider.name}<br /><span class="muted">${account.provider.department}</span>
        </td>
        <td>
          ${active.length > 0 ? `active until ${new Date(active[0]?.expiresAt ?? '').toUTCString()}` : links.some((l) => l.revokedAt) ? 'revoked' : 'expired'}
        </td>
        <td>${status ? status.message : html`<span class="muted">nothing sent yet</span>`}</td>
      </tr>`;
    });
    sendHtml(
      res,
      200,
      'Upload accounts',
      html`${this.#nav(session)}
        <h1>Upload accounts</h1>
        <p class="muted">
          Archive: ${this.service.archive.description}. Link e-mails: ${this.mailer.description}.
          This page refreshes every 10 seconds.
        </p>
        ${
          rows.length === 0
            ? html`<p>No upload accounts yet. <a href="/staff/accounts/new">Create one</a>.</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>Patient</th>
                    <th>Expecting provider</th>
                    <th>Link</th>
                    <th>Latest transfer</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>`
        }`,
      { refreshSeconds: 10 },
    );
  }

  #newAccountPage(res: ServerResponse, session: Session, problem?: string, status = 200): void {
    sendHtml(
      res,
      status,
      'New upload account',
      html`${this.#nav(session)}
        <h1>New temporary upload account</h1>
        ${problem ? html`<p class="error">${problem}</p>` : ''}
        <form method="post" action="/staff/accounts">
          <input type="hidden" name="csrf" value="${session.csrf}" />
          <label for="patientName">Patient name (as in the hospital's records, e.g. DOE^JANE)</label
          ><input id="patientName" name="patientName" type="text" required />
          <label for="birthDate">Birth date</label
          ><input id="birthDate" name="birthDate" type="date" required />
          <label for="email">E-mail address to send the link to</label
          ><input id="email" name="email" type="email" required />
          <label for="recipientName">Recipient name, if not the patient (a parent, a carer)</label
          ><input id="recipientName" name="recipientName" type="text" />
          <label for="provider">Expecting provider</label
          ><input id="provider" name="provider" type="text" required />
          <label for="department">Department</label
          ><input id="department" name="department" type="text" />
          <label for="organization">Hospital</label
          ><input id="organization" name="organization" type="text" />
          <label for="expires">Link expires after</label
          ><select id="expires" name="expires">
            <option value="1d">1 day</option>
            <option value="3d">3 days</option>
            <option value="7d" selected>7 days</option>
            <option value="14d">14 days</option>
            <option value="30d">30 days</option>
          </select>
          <label for="policy">De-identification before sending</label
          ><select id="policy" name="policy">
            <option value="none">None: send as on the disc</option>
            <option value="basic">Basic profile (PS3.15 E.1-1)</option>
            <option value="reconcile">Reconcile to our MRN</option>
          </select>
          <label for="mrn">MRN (for "Reconcile to our MRN")</label
          ><input id="mrn" name="mrn" type="text" />
          <fieldset>
            <legend>Basic profile options</legend>
            ${BASIC_PROFILE_OPTIONS.map((o) => html`<label><input type="checkbox" name="option" value="${o}" /> ${o}</label>`)}
          </fieldset>
          <label
            ><input type="checkbox" name="sendEmail" value="yes" checked /> E-mail the link
            now</label
          >
          <button type="submit">Create account and link</button>
        </form>`,
    );
  }

  async #createAccount(
    res: ServerResponse,
    session: Session,
    form: URLSearchParams,
    actor: string,
  ): Promise<void> {
    let issued: IssuedLink;
    try {
      const policyKind = form.get('policy') ?? 'none';
      let policy: LinkPolicy;
      if (policyKind === 'reconcile')
        policy = parsePolicy(`reconcile:${(form.get('mrn') ?? '').trim()}`);
      else if (policyKind === 'basic')
        policy = parsePolicy(['basic', form.getAll('option').join(',')].filter(Boolean).join(':'));
      else policy = parsePolicy('none');
      issued = this.service.createLink(
        {
          patientName: form.get('patientName') ?? '',
          birthDate: (form.get('birthDate') ?? '').replace(/-/g, ''),
          email: form.get('email') ?? '',
          recipientName: form.get('recipientName') ?? '',
          provider: form.get('provider') ?? '',
          department: form.get('department') ?? '',
          organization: form.get('organization') ?? '',
          expiresInMs: parseDuration(form.get('expires') || '7d'),
          policy,
        },
        actor,
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return this.#newAccountPage(res, session, message, 400);
    }
    const account = this.service.store.accounts.get(issued.accountId) as UploadAccount;
    const sent =
      form.get('sendEmail') === 'yes'
        ? await this.#email(account, issued.link, issued.expiresAt, actor, issued.linkId)
        : undefined;
    this.#linkIssuedPage(res, session, account, issued, sent, 201);
  }

  async #email(
    account: UploadAccount,
    link: string,
    expiresAt: string,
    actor: string,
    linkId: string,
  ): Promise<MailOutcome> {
    const receipt = await this.mailer.send(
      linkMessage({
        recipientName: account.recipient.name,
        email: account.recipient.email,
        link,
        expiresAt,
        provider: account.provider.name,
        department: account.provider.department,
        organization: account.provider.organization,
      }),
    );
    this.service.audit.record(
      {
        action: 'link-emailed',
        actor,
        accountId: account.id,
        linkId,
        code: receipt.smtpError !== undefined ? 'outbox-after-smtp-failure' : receipt.via,
      },
      this.service.now(),
    );
    if (receipt.via === 'smtp')
      return { ok: true, text: `The link was e-mailed to ${account.recipient.email}.` };
    if (receipt.smtpError !== undefined) {
      return {
        ok: false,
        text: `The e-mail to ${account.recipient.email} could not be sent (${receipt.smtpError}). It was written to the outbox folder instead (${receipt.file ?? ''}): send it from there, or copy the link above and send it yourself.`,
      };
    }
    return {
      ok: true,
      text: `The e-mail to ${account.recipient.email} was written to the outbox folder (${receipt.file ?? ''}).`,
    };
  }

  #linkIssuedPage(
    res: ServerResponse,
    session: Session,
    account: UploadAccount,
    issued: IssuedLink,
    sent: MailOutcome | undefined,
    status = 200,
  ): void {
    sendHtml(
      res,
      status,
      'Upload link',
      html`${this.#nav(session)}
        <h1>Upload link for ${account.patient.name}</h1>
        <p class="notice">
          Copy this link now: the portal keeps only a fingerprint of it and cannot show it again.
        </p>
        <label for="link"
          >Upload link (valid until ${new Date(issued.expiresAt).toUTCString()})</label
        >
        <input id="link" class="link" type="text" readonly value="${issued.link}" />
        ${sent ? html`<p class="${sent.ok ? 'notice' : 'error'}">${sent.text}</p>` : ''}
        <form method="post" action="/staff/accounts/${encodeURIComponent(account.id)}/email">
          <input type="hidden" name="csrf" value="${session.csrf}" /><input
            type="hidden"
            name="link"
            value="${issued.link}"
          />
          <button type="submit">E-mail the link to ${account.recipient.email}</button>
        </form>
        <p><a href="/staff/accounts/${encodeURIComponent(account.id)}">Account details</a></p>`,
    );
  }

  #accountPage(res: ServerResponse, session: Session, account: UploadAccount): void {
    const { store } = this.service;
    this.service.expireDue();
    const links = store.linksOf(account.id).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const transfers = store
      .transfersOf(account.id)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map((t) => transferStatus(t, account, store.instancesFor(t), this.service.baseUrl));
    sendHtml(
      res,
      200,
      'Upload account',
      html`${this.#nav(session)}
        <h1>${account.patient.name}</h1>
        <table>
          <tbody>
            <tr>
              <th>Birth date</th>
              <td>${account.patient.birthDate}</td>
            </tr>
            <tr>
              <th>Link sent to</th>
              <td>${account.recipient.name} &lt;${account.recipient.email}&gt;</td>
            </tr>
            <tr>
              <th>Expecting provider</th>
              <td>
                ${account.provider.name}${account.provider.department ? `, ${account.provider.department}` : ''}${account.provider.organization ? `, ${account.provider.organization}` : ''}
              </td>
            </tr>
            <tr>
              <th>De-identification</th>
              <td>${describePolicy(account.policy)}</td>
            </tr>
            <tr>
              <th>Limits</th>
              <td>${account.limits.maxInstances} images, ${account.limits.maxBytes} bytes</td>
            </tr>
            <tr>
              <th>Account</th>
              <td class="muted">
                ${account.id}, created ${account.createdAt} by ${account.createdBy}
              </td>
            </tr>
          </tbody>
        </table>
        <h2>Links</h2>
        <ul>
          ${links.map((l) => html`<li>${this.service.linkState(l)} · created ${l.createdAt} · expires ${l.expiresAt}${l.revokedAt ? ` · revoked ${l.revokedAt}${l.revokedReason ? `: ${l.revokedReason}` : ''}` : ''}</li>`)}
        </ul>
        <form method="post" action="/staff/accounts/${encodeURIComponent(account.id)}/links">
          <input type="hidden" name="csrf" value="${session.csrf}" />
          <label for="expires">Issue a new link, valid for</label
          ><select id="expires" name="expires">
            <option value="1d">1 day</option>
            <option value="7d" selected>7 days</option>
            <option value="30d">30 days</option>
          </select>
          <button type="submit">Issue new link</button>
        </form>
        <form method="post" action="/staff/accounts/${encodeURIComponent(account.id)}/revoke">
          <input type="hidden" name="csrf" value="${session.csrf}" />
          <label for="reason">Reason shown to the patient (optional)</label
          ><input id="reason" name="reason" type="text" />
          <button class="danger" type="submit">Revoke all links of this account</button>
        </form>
        <h2>Transfers</h2>
        ${
          transfers.length === 0
            ? html`<p>Nothing sent yet.</p>`
            : transfers.map(
                (t) =>
                  html`<h3>${t.transferId}</h3>
                    <p>
                      ${t.received.instances} images
                      received${t.expected ? ` of ${t.expected.instances} announced` : ''}.
                    </p>
                    <ol class="timeline">
                      ${t.timeline.map((e) => html`<li><span class="muted">${e.at}</span> — ${e.message}</li>`)}
                    </ol>`,
              )
        }`,
      { refreshSeconds: 10 },
    );
  }
}

function describePolicy(policy: LinkPolicy): string {
  if (policy.kind === 'none') return 'none';
  if (policy.kind === 'basic')
    return `basic profile${policy.options.length > 0 ? ` with ${policy.options.join(', ')}` : ''}`;
  return `reconcile to MRN ${policy.mrn}${policy.issuer ? ` (${policy.issuer})` : ''}`;
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location });
  res.end();
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
