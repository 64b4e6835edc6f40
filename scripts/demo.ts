/**
 * The main job on an embedded default: builds a sample disc in a temporary folder and shows
 * what Ferry finds on it. Grows with the product: portal, upload link and the app come next.
 *   npm run demo [-- --keep]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatScanText } from '../main/core/media/report.ts';
import { scanMedia } from '../main/core/media/scan.ts';
import { makeMedia, missingDicomTools } from '../test/support/make-media.ts';

const keep = process.argv.includes('--keep');
const root = mkdtempSync(path.join(tmpdir(), 'ferry-demo-'));
try {
  const noDicomdir = missingDicomTools(['dcmmkdir']);
  if (noDicomdir) {
    console.error(`Note: the sample disc has no DICOMDIR (${noDicomdir}); Ferry reads every file.`);
  }
  const disc = path.join(root, 'disc');
  await makeMedia({
    outDir: disc,
    patients: 2,
    studiesPerPatient: 2,
    seriesPerStudy: 3,
    instancesPerSeries: 10,
    rows: 128,
    columns: 128,
    withDicomdir: !noDicomdir,
    patientNames: ['Müller^Jürgen', 'Doe^Jane'],
    specificCharacterSet: 'ISO_IR 100',
  });
  console.error(`Sample disc: ${disc}\n`);
  const result = await scanMedia(disc);
  process.stdout.write(formatScanText(result));
} finally {
  if (keep) console.error(`\nKept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
