/**
 * `npm run portal -- create-link / revoke-link` as a staff script uses them, against the data folder
 * of a portal that is running at the same time (another process appends to its journal).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortal, type RunningPortal } from '../../portal/server.ts';
import { removeTempDirs, request, tempDir, tokenOf } from './helpers.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

function portalCli(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'portal/cli.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
}

let portal: RunningPortal;
let dataDir: string;

beforeAll(async () => {
  dataDir = await tempDir();
  portal = await startPortal({ dataDir, staffPassword: 'x' });
});

afterAll(async () => {
  await portal?.close();
  await removeTempDirs();
});

describe('portal CLI', () => {
  it('create-link --json prints { link, accountId, expiresAt } for the running portal, and revoke-link stops it', async () => {
    const { stdout } = await portalCli(
      'create-link',
      '--name',
      'DOE^JANE',
      '--email',
      'jane@example.org',
      '--birth-date',
      '19700101',
      '--provider',
      'Dr. Who',
      '--department',
      'Cardiology',
      '--expires',
      '3d',
      '--policy',
      'reconcile:MRN123',
      '--data',
      dataDir,
      '--json',
    );
    const created = JSON.parse(stdout) as { link: string; accountId: string; expiresAt: string };
    expect(Object.keys(created).sort()).toEqual(['accountId', 'expiresAt', 'link']);
    expect(created.link).toMatch(new RegExp(`^${portal.url}/u/[A-Za-z0-9_-]{43}$`));
    const days = (Date.parse(created.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(2.99);
    expect(days).toBeLessThan(3.01);

    // The running portal reads what the other process wrote.
    const resolved = await request(`${portal.url}/api/v1/links/${tokenOf(created.link)}`);
    expect(resolved.status).toBe(200);
    expect(resolved.json).toMatchObject({
      accountId: created.accountId,
      patient: { name: 'DOE^JANE', birthDate: '19700101' },
      provider: { name: 'Dr. Who', department: 'Cardiology' },
      policy: { kind: 'reconcile', mrn: 'MRN123' },
    });

    const revoked = await portalCli(
      'revoke-link',
      '--link',
      created.link,
      '--reason',
      'Test over',
      '--data',
      dataDir,
      '--json',
    );
    expect(JSON.parse(revoked.stdout)).toEqual({ accountId: created.accountId, revoked: 1 });
    const after = await request(`${portal.url}/api/v1/links/${tokenOf(created.link)}`);
    expect(after.status).toBe(403);
    expect(after.json.error.code).toBe('link-revoked');
  });

  it('refuses bad input with a message and a non-zero exit', async () => {
    const failure = await portalCli(
      'create-link',
      '--name',
      'X',
      '--email',
      'x@example.org',
      '--birth-date',
      '19701350',
      '--provider',
      'P',
      '--data',
      dataDir,
    ).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('The birth date must be a real date written YYYYMMDD.');
  });
});
