/**
 * The main job on an embedded default: starts the reference portal on its embedded store,
 * creates a temporary upload account and link, builds a sample disc, and opens Ferry with that
 * link — in Electron where its runtime is installed, otherwise in the browser host.
 *   npm run demo [-- --once] [--port N]
 * --once starts everything, prints the addresses, checks that both answer, and stops (CI smoke).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startHost } from '../main/host/server.ts';
import { formatScanText } from '../main/core/media/report.ts';
import { scanMedia } from '../main/core/media/scan.ts';
import { startPortal } from '../portal/server.ts';
import { makeMedia, missingDicomTools } from '../test/support/make-media.ts';
// @ts-expect-error -- plain JavaScript helper shared with `npm start`
import { findElectron } from './start.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { once: { type: 'boolean', default: false }, port: { type: 'string' } },
});

const work = mkdtempSync(path.join(tmpdir(), 'ferry-demo-'));
const cleanups: Array<() => Promise<void> | void> = [
  () => rmSync(work, { recursive: true, force: true }),
];
const stop = async (): Promise<void> => {
  for (const cleanup of cleanups.reverse()) await cleanup();
};

try {
  // 1. The hospital's side: the reference portal and a temporary upload account.
  const portal = await startPortal({
    dataDir: path.join(work, 'portal'),
    staffPassword: 'demo-staff-password',
    ...(values.port ? { port: Number(values.port) } : {}),
    log: () => undefined,
  });
  cleanups.push(() => portal.close());
  // 2. The patient's side: a disc as outside hospitals burn them.
  const noDicomdir = missingDicomTools(['dcmmkdir']);
  const disc = path.join(work, 'disc');
  await makeMedia({
    outDir: disc,
    patients: 1,
    studiesPerPatient: 2,
    seriesPerStudy: 3,
    instancesPerSeries: 8,
    rows: 128,
    columns: 128,
    withDicomdir: !noDicomdir,
    patientNames: ['Doe^Jane'],
    seed: 2026,
  });
  const scan = await scanMedia(disc);
  // The link is made for the patient on the disc, so the identity check passes.
  const issued = portal.service.createLink(
    {
      patientName: 'Doe^Jane',
      birthDate: scan.patients[0]?.birthDate || '19780827',
      email: 'jane.doe@example.org',
      provider: 'Dr. Rivera, Neurology',
      department: 'Neurology',
      expiresInMs: 7 * 86_400_000,
      policy: { kind: 'none' },
    },
    'demo',
  );

  console.log(`DICOM Ferry demo

Reference portal (embedded store): ${portal.listeningUrl}
  staff pages: ${portal.listeningUrl}/staff  (user admin, password demo-staff-password)
Upload link for Jane Doe, expected by Dr. Rivera:
  ${issued.link}
Sample disc: ${disc}${noDicomdir ? `\n  (no DICOMDIR: ${noDicomdir})` : ''}
`);
  process.stdout.write(formatScanText(scan));

  // 3. Ferry with that link: Electron where it can run, the browser host otherwise.
  const electron = findElectron() as string | undefined;
  if (electron && !values.once) {
    spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    const child = spawn(electron, [root, issued.link], { cwd: root, stdio: 'inherit' });
    await new Promise((resolve) => child.once('exit', resolve));
  } else {
    const rendererDir = path.join(root, 'dist', 'renderer');
    if (!existsSync(path.join(rendererDir, 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build:renderer', '--silent'], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      if (built.status !== 0) throw new Error('building the app pages failed');
    }
    const host = await startHost({
      rendererDir,
      dataDir: path.join(work, 'app'),
      link: issued.link,
      log: () => undefined,
    });
    cleanups.push(() => host.close());
    console.log(`
${electron ? '' : 'The Electron runtime is not installed here, so Ferry runs in the browser host.\n'}Open Ferry in a browser on this computer (the address carries a one-time key):
  ${host.url}
Choose the folder ${disc} on the Media step.`);
    if (values.once) {
      for (const url of [host.url, `${portal.listeningUrl}/u/${issued.token}`]) {
        const answer = await fetch(url);
        if (!answer.ok) throw new Error(`${new URL(url).pathname} answered ${answer.status}`);
      }
      console.log('\nDemo smoke check: the app and the portal answer. Stopping.');
    } else {
      console.log('\nPress Ctrl+C to stop; everything the demo made is then removed.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  }
} finally {
  await stop();
}
