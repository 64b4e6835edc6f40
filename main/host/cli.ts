/**
 * `npm run host -- [--link URL] [--port N] [--data DIR] [--kiosk [--kiosk-idle SECONDS]]`: serves the built renderer with the
 * real core on loopback and prints the address to open in a browser.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseIdleSeconds } from '../core/app-service/kiosk.ts';
import { startHost } from './server.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      link: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      renderer: { type: 'string' },
      kiosk: { type: 'boolean' },
      'kiosk-idle': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run host -- [--link URL] [--port N] [--data DIR] [--kiosk [--kiosk-idle SECONDS]]\n\nServes DICOM Ferry to a browser on this computer only (127.0.0.1) and prints the address to open.\n--kiosk: front-desk mode; no history, nothing of one person kept for the next, and the app returns to the start after each transfer.\n--kiosk-idle: seconds without input before the app offers to return to the start (default 180).\n',
    );
    return 0;
  }
  let kioskIdleSeconds: number | undefined;
  if (values['kiosk-idle'] !== undefined) {
    if (!values.kiosk) {
      process.stderr.write('--kiosk-idle only applies with --kiosk.\n');
      return 2;
    }
    try {
      kioskIdleSeconds = parseIdleSeconds(values['kiosk-idle']);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 2;
    }
  }
  const rendererDir = path.resolve(values.renderer ?? path.join(root, 'dist', 'renderer'));
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    process.stderr.write(
      `The app's pages are not built yet. Run \`npm run build:renderer\` first (looked in ${rendererDir}).\n`,
    );
    return 1;
  }
  const host = await startHost({
    rendererDir,
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
    ...(values.data !== undefined ? { dataDir: path.resolve(values.data) } : {}),
    ...(values.link !== undefined ? { link: values.link } : {}),
    ...(values.kiosk ? { kiosk: true } : {}),
    ...(kioskIdleSeconds !== undefined ? { kioskIdleSeconds } : {}),
  });
  process.stdout.write(
    `DICOM Ferry is running for this computer only. Open this address in a browser:\n\n  ${host.url}\n\nThe address contains a one-time key; do not share it. Press Ctrl+C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await host.close();
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`ferry host: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
