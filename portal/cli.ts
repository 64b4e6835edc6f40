/**
 * `npm run portal -- …`: run the reference upload portal, or manage its links from scripts.
 * See docs/portal.md.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EmbeddedArchive } from './archive.ts';
import { PortalError } from './errors.ts';
import type { LinkPolicy } from './model.ts';
import { hashToken } from './tokens.ts';
import { startPortal } from './server.ts';
import { parseDuration, parsePolicy, PortalService, recordedBaseUrl } from './service.ts';

export const DEFAULT_PORT = 8470;

const USAGE = `usage:
  portal [serve] [--port N] [--host H] [--data DIR] [--archive embedded|dicomweb:URL]
         [--public-url URL] [--staff-password P]
         [--smtp smtp://[user:pass@]host:port|smtps://…] [--smtp-from ADDRESS]
  portal create-link --name NAME --email E --birth-date YYYYMMDD --provider P
         [--department D] [--organization O] [--recipient-name R] [--expires 7d]
         [--policy none|basic[:OPTION,…]|reconcile:MRN[@ISSUER]] [--subject-id ID]
         [--max-bytes N] [--max-instances N]
         [--data DIR] [--public-url URL] [--json]
  portal issue-link --account ID [--expires 7d] [--data DIR] [--json]
  portal revoke-link (--link URL|TOKEN | --account ID) [--reason TEXT] [--data DIR] [--json]

--data defaults to $FERRY_PORTAL_DATA or ./.ferry-portal; --smtp to $FERRY_PORTAL_SMTP (without it,
link e-mails are written to <data>/outbox/)`;

/** --subject-id: the pseudonym a basic-profile link asks the app to write as Patient ID. */
function withSubject(policy: LinkPolicy, subjectId: string | undefined): LinkPolicy {
  if (subjectId === undefined) return policy;
  if (policy.kind !== 'basic')
    throw new UsageError('--subject-id goes with --policy basic[:OPTION,…]');
  return { ...policy, subjectId };
}

function defaultDataDir(): string {
  return path.resolve(process.env.FERRY_PORTAL_DATA ?? '.ferry-portal');
}

export async function main(argv: string[]): Promise<number> {
  const command = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : 'serve';
  const args = command === argv[0] ? argv.slice(1) : argv;
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      archive: { type: 'string' },
      'public-url': { type: 'string' },
      'staff-password': { type: 'string' },
      smtp: { type: 'string' },
      'smtp-from': { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      'birth-date': { type: 'string' },
      provider: { type: 'string' },
      department: { type: 'string' },
      organization: { type: 'string' },
      'recipient-name': { type: 'string' },
      expires: { type: 'string' },
      policy: { type: 'string' },
      'subject-id': { type: 'string' },
      'max-bytes': { type: 'string' },
      'max-instances': { type: 'string' },
      account: { type: 'string' },
      link: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const dataDir = values.data !== undefined ? path.resolve(values.data) : defaultDataDir();
  const json = values.json === true;

  if (command === 'serve') {
    const portal = await startPortal({
      port: values.port !== undefined ? Number(values.port) : DEFAULT_PORT,
      host: values.host ?? '127.0.0.1',
      dataDir,
      ...(values.archive !== undefined ? { archive: values.archive } : {}),
      ...(values['public-url'] !== undefined ? { publicUrl: values['public-url'] } : {}),
      ...(values['staff-password'] !== undefined
        ? { staffPassword: values['staff-password'] }
        : {}),
      // $FERRY_PORTAL_SMTP keeps a password off the command line (and out of `ps`).
      ...((values.smtp ?? process.env.FERRY_PORTAL_SMTP)
        ? { smtp: values.smtp ?? process.env.FERRY_PORTAL_SMTP }
        : {}),
      ...(values['smtp-from'] !== undefined ? { mailFrom: values['smtp-from'] } : {}),
    });
    process.stderr.write(
      `portal: listening on ${portal.url} (data ${dataDir}, ${portal.service.archive.description}, link e-mails: ${portal.mailer.description}); staff pages at ${portal.url}/staff\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await portal.close();
    return 0;
  }

  // Link management works on the data folder directly, whether or not a portal is running on it.
  const service = new PortalService({
    dataDir,
    archive: new EmbeddedArchive(path.join(dataDir, 'images')),
    baseUrl: (
      values['public-url'] ??
      recordedBaseUrl(dataDir) ??
      `http://127.0.0.1:${DEFAULT_PORT}`
    ).replace(/\/$/, ''),
  });
  try {
    switch (command) {
      case 'create-link': {
        const limits = {
          ...(values['max-bytes'] !== undefined ? { maxBytes: Number(values['max-bytes']) } : {}),
          ...(values['max-instances'] !== undefined
            ? { maxInstances: Number(values['max-instances']) }
            : {}),
        };
        const issued = service.createLink(
          {
            patientName: values.name ?? '',
            birthDate: values['birth-date'] ?? '',
            email: values.email ?? '',
            provider: values.provider ?? '',
            ...(values.department !== undefined ? { department: values.department } : {}),
            ...(values.organization !== undefined ? { organization: values.organization } : {}),
            ...(values['recipient-name'] !== undefined
              ? { recipientName: values['recipient-name'] }
              : {}),
            expiresInMs: parseDuration(values.expires ?? '7d'),
            policy: withSubject(parsePolicy(values.policy ?? 'none'), values['subject-id']),
            limits,
          },
          'cli',
        );
        print(
          json,
          { link: issued.link, accountId: issued.accountId, expiresAt: issued.expiresAt },
          issued.link,
        );
        return 0;
      }
      case 'issue-link': {
        if (values.account === undefined) throw new UsageError('issue-link needs --account ID');
        const issued = service.issueLink(
          values.account,
          parseDuration(values.expires ?? '7d'),
          'cli',
        );
        print(
          json,
          { link: issued.link, accountId: issued.accountId, expiresAt: issued.expiresAt },
          issued.link,
        );
        return 0;
      }
      case 'revoke-link': {
        let revoked: number;
        let accountId: string;
        if (values.link !== undefined) {
          const token = /([A-Za-z0-9_-]{43})\/?$/.exec(values.link)?.[1];
          const link =
            token === undefined ? undefined : service.store.linkByTokenHash(hashToken(token));
          if (link === undefined)
            throw new PortalError('link-unknown', 'No link of this portal matches --link.');
          service.revokeLink(link.id, values.reason, 'cli');
          revoked = 1;
          accountId = link.accountId;
        } else if (values.account !== undefined) {
          if (!service.store.accounts.has(values.account))
            throw new PortalError('not-found', 'No such upload account.');
          revoked = service.revokeAccount(values.account, values.reason, 'cli');
          accountId = values.account;
        } else {
          throw new UsageError('revoke-link needs --link URL or --account ID');
        }
        print(json, { accountId, revoked }, `revoked ${revoked} link(s) of account ${accountId}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } finally {
    service.close();
  }
}

class UsageError extends Error {}

function print(json: boolean, value: unknown, human: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : human + '\n');
}

const invokedDirectly =
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === path.resolve(import.meta.filename);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`portal: ${message}\n`);
      if (err instanceof UsageError || (err instanceof TypeError && 'code' in err))
        process.stderr.write(USAGE + '\n');
      process.exit(err instanceof UsageError ? 64 : 1);
    },
  );
}
