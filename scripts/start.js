#!/usr/bin/env node
// `npm start`: builds and runs DICOM Ferry in Electron where the Electron runtime is installed.
// Where it is not (these build machines cannot download it), says so plainly and how to use the
// browser host instead. Never triggers a download: node_modules/electron's index.js would.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');

/** The Electron executable as electron's own index.js finds it, or undefined when absent. */
export function findElectron(env = process.env, dir = electronDir) {
  const pathFile = path.join(dir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const candidate = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(candidate) ? candidate : undefined;
  }
  if (!relative) return undefined;
  const candidate = path.join(dir, 'dist', relative);
  return existsSync(candidate) ? candidate : undefined;
}

const NOT_AVAILABLE = `The Electron runtime is not installed on this machine, so the DICOM Ferry window cannot open here.

Use the browser host instead: the same app, with the same core, in a browser on this computer:

  npm run host                # prints an address to open in a browser
  npm run host -- --link URL  # opens an upload link right away

On a computer that can download Electron, \`npm install\` fetches the runtime and \`npm start\` opens the app.
`;

function main() {
  const electron = findElectron();
  if (!electron) {
    process.stdout.write(NOT_AVAILABLE);
    return 0;
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return build.status ?? 1;
  const child = spawn(electron, [root, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
  return undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = main();
  if (code !== undefined) process.exitCode = code;
}
