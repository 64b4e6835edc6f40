#!/usr/bin/env node
// `npm run security`: Electronegativity (doyensec) on the Electron app's own code: the main
// process wiring (main/app), the preload, the renderer and the contract. Those are staged in a
// temporary folder so the scan sees the whole app (its global checks need every part) and
// nothing else (the portal is a plain Node server, not Electron). Fails on any HIGH or MEDIUM
// finding; a justified `// eng-disable CHECK_ID` on the reported line is the only way out.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const parts = [
  'main/app',
  'main/core/api.ts',
  'main/core/api-schema.ts',
  'preload',
  'renderer',
  'package.json',
];

const stage = mkdtempSync(path.join(os.tmpdir(), 'ferry-security-'));
try {
  for (const part of parts)
    cpSync(path.join(root, part), path.join(stage, part), { recursive: true });
  const report = path.join(stage, 'electronegativity.csv');
  const bin = path.join(
    root,
    'node_modules',
    '.bin',
    process.platform === 'win32' ? 'electronegativity.cmd' : 'electronegativity',
  );
  const run = spawnSync(bin, ['-i', stage, '-r', '-v', 'false', '-o', report], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    process.stderr.write('security: electronegativity did not run\n');
    process.exit(2);
  }
  const rows = readFileSync(report, 'utf8').trim().split('\n').slice(1).filter(Boolean);
  const findings = rows.map((row) => {
    const [check, severity, confidence, file, location] = row
      .split(',')
      .map((field) => field.replaceAll('"', ''));
    return { check, severity, confidence, file, location };
  });
  for (const f of findings) {
    process.stdout.write(`${f.severity.padEnd(13)} ${f.check} ${f.file}:${f.location}\n`);
  }
  const blocking = findings.filter((f) => f.severity === 'HIGH' || f.severity === 'MEDIUM');
  process.stdout.write(
    `electronegativity: ${findings.length} finding(s), ${blocking.length} high or medium\n`,
  );
  process.exitCode = blocking.length > 0 ? 1 : 0;
} finally {
  rmSync(stage, { recursive: true, force: true });
}
