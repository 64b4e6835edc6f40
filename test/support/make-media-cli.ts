/**
 * `npm run gen:media -- --out DIR --patients N --studies-per-patient N --series-per-study N
 *  --instances-per-series N [--no-dicomdir] [--rows 64 --cols 64] [--charset 'ISO_IR 100'] [--zip]`
 *
 * Writes a patient disc for tests, demos and benchmarks (see make-media.ts). A one-line summary
 * goes to stdout, or with --json the whole GeneratedMedia document.
 */
import { parseArgs } from 'node:util';

import { makeMedia, type MediaSpec } from './make-media.ts';

const usage = `usage: npm run gen:media -- --out DIR [options]

  --out DIR                    empty or new folder that becomes the media root (required)
  --patients N                 default 1
  --studies-per-patient N      default 1
  --series-per-study N         default 3
  --instances-per-series N     default 20
  --rows N --cols N            image size, default 64 x 64
  --charset TERM               Specific Character Set, e.g. 'ISO_IR 100' or 'ISO_IR 192'
  --patient-name PN            repeatable, one per patient, e.g. 'Müller^Jürgen'
  --modalities LIST            comma-separated, cycled per series, default CT,MR,CR
  --seed N                     reproducible UIDs, names and dates (random otherwise)
  --no-dicomdir                do not run dcmmkdir
  --no-extras                  no AUTORUN.INF, README.TXT, VIEWER.EXE, REPORT.PDF
  --zip                        also pack the last patient into STUDIES.ZIP
  --json                       print the generated media as JSON
`;

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new Error(`--${name} must be an integer, got ${text}`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      out: { type: 'string' },
      patients: { type: 'string' },
      'studies-per-patient': { type: 'string' },
      'series-per-study': { type: 'string' },
      'instances-per-series': { type: 'string' },
      rows: { type: 'string' },
      cols: { type: 'string' },
      charset: { type: 'string' },
      'patient-name': { type: 'string', multiple: true },
      modalities: { type: 'string' },
      seed: { type: 'string' },
      'no-dicomdir': { type: 'boolean', default: false },
      'no-extras': { type: 'boolean', default: false },
      zip: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  if (!values.out) throw new Error('--out DIR is required');

  const spec: MediaSpec = {
    outDir: values.out,
    patients: integer('patients', values.patients, 1),
    studiesPerPatient: integer('studies-per-patient', values['studies-per-patient'], 1),
    seriesPerStudy: integer('series-per-study', values['series-per-study'], 3),
    instancesPerSeries: integer('instances-per-series', values['instances-per-series'], 20),
    rows: integer('rows', values.rows, 64),
    columns: integer('cols', values.cols, 64),
    withDicomdir: !values['no-dicomdir'],
    extras: !values['no-extras'],
    zip: values.zip,
  };
  if (values.charset !== undefined) spec.specificCharacterSet = values.charset;
  if (values['patient-name']) spec.patientNames = values['patient-name'];
  if (values.modalities !== undefined) {
    spec.modalities = values.modalities.split(',').map((modality) => modality.trim());
  }
  if (values.seed !== undefined) spec.seed = integer('seed', values.seed, 0);

  const started = performance.now();
  const media = await makeMedia(spec);
  const seconds = (performance.now() - started) / 1000;
  if (values.json) {
    process.stdout.write(`${JSON.stringify(media, null, 2)}\n`);
    return;
  }
  const { writeMs, dicomdirMs, zipMs } = media.timings;
  process.stdout.write(
    `${media.root}: ${media.patients.length} patients, ${media.totalInstances} instances, ` +
      `${(media.totalBytes / 1_048_576).toFixed(1)} MiB, seed ${media.seed}` +
      `${media.dicomdirPath ? ', DICOMDIR' : ''}${media.zip ? `, ${media.zip.path}` : ''} ` +
      `in ${seconds.toFixed(2)} s (files ${(writeMs / 1000).toFixed(2)} s, ` +
      `DICOMDIR ${(dicomdirMs / 1000).toFixed(2)} s, zip ${(zipMs / 1000).toFixed(2)} s)\n`,
  );
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`gen:media: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
