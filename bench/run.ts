/**
 * `npm run bench [-- SECTION…] [--strict] [--json] [--list]`
 *
 * Runs the benchmark sections in order (or only the named ones) and prints a report: each
 * section's figures with ratios against a baseline measured in the same run, then one table of
 * every target with PASS or MISS. Benchmarks report, they do not gate: the exit code is 0 even
 * when a target is missed, unless --strict. A section that crashes always exits 1.
 */
import { formatNumber, machineSummary, type BenchResult, type BenchSection } from './harness.ts';

/**
 * The sections, in the order they run. Adding one is one line; its module is only loaded when
 * it runs, so `npm run bench -- scan` does not pay for the others.
 */
const sections: BenchSection[] = [
  {
    name: 'scan',
    description: 'media scan: study list from the DICOMDIR, header scan vs. the plain-read floor',
    run: async () => (await import('./scan.ts')).benchScan(),
  },
  {
    name: 'deid',
    description: 'de-identification: ferry deidentify vs gdcmanon on >= 200 MB of CT media',
    run: async () => (await import('./deid.ts')).benchDeid(),
  },
  {
    name: 'validate',
    description: 'validation cost: scan + validate vs. the scan alone on the same disc',
    run: validateSection,
  },
  {
    name: 'preview',
    description: 'series thumbnails on generated CT media, from the study list, vs. plain reads',
    run: async () => (await import('./preview.ts')).benchPreview(),
  },
  {
    name: 'image-view',
    description: 'image view: preview.image first view and window changes vs. in-process render',
    run: async () => (await import('./image-view.ts')).benchImageView(),
  },
  {
    name: 'mask',
    description: 'pixel masking: native (streamed) and RLE (decoded) vs. the same without a mask',
    run: async () => (await import('./mask.ts')).benchMask(),
  },
  {
    name: 'upload',
    description:
      'STOW-RS upload engine vs. a minimal streaming sender: 1 GiB and 4 GiB, null sink and Orthanc',
    run: async () => (await import('./upload.ts')).benchUpload(),
  },
];

/** bench/validate.ts measures and prints on its own; this turns its figures into results. */
async function validateSection(): Promise<BenchResult[]> {
  const { measureValidate, validateRatioTarget } = await import('./validate.ts');
  const figures = await measureValidate();
  return [
    {
      name: 'scan + validate',
      value: figures.scanValidateMs,
      unit: 'ms',
      baseline: figures.scanMs,
      ratio: figures.ratio,
      target: `<= ${validateRatioTarget}x scan`,
      pass: figures.ratio <= validateRatioTarget,
      note: `${formatNumber(figures.instances)} instances; baseline = scanMedia alone, same disc, alternating runs, medians; warm page cache`,
    },
  ];
}

interface Outcome {
  section: string;
  results: BenchResult[];
  error?: string;
  seconds: number;
}

function usage(): string {
  return [
    'usage: npm run bench [-- [SECTION…] [--strict] [--json] [--list]]',
    '  SECTION   run only these sections (default: all, in order)',
    '  --strict  exit 1 when a target is missed (default: report only, exit 0)',
    '  --json    print the results as one JSON document on stdout (report goes to stderr)',
    '  --list    list the sections and exit',
    `sections: ${sections.map((section) => section.name).join(', ')}`,
  ].join('\n');
}

function parseArgs(argv: readonly string[]): {
  names: string[];
  strict: boolean;
  json: boolean;
  list: boolean;
} {
  const names: string[] = [];
  let strict = false;
  let json = false;
  let list = false;
  for (const arg of argv) {
    if (arg === '--strict') strict = true;
    else if (arg === '--json') json = true;
    else if (arg === '--list') list = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (arg.startsWith('-')) {
      process.stderr.write(`unknown option ${arg}\n${usage()}\n`);
      process.exit(2);
    } else names.push(arg);
  }
  return { names, strict, json, list };
}

function valueText(value: number, unit: string): string {
  return unit === 'x' ? `${formatNumber(value)}x` : `${formatNumber(value)} ${unit}`;
}

function verdict(result: BenchResult): string {
  if (result.target === undefined) return '';
  return result.pass ? 'PASS' : 'MISS';
}

/** Plain-text table: left-aligned text columns, right-aligned figures. */
function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        rightAligned.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

function sectionReport(outcome: Outcome): string[] {
  if (outcome.error !== undefined) return [`  ERROR: ${outcome.error}`];
  const rows = outcome.results.map((result) => [
    result.name,
    valueText(result.value, result.unit),
    result.baseline !== undefined ? valueText(result.baseline, result.unit) : '',
    result.ratio !== undefined ? `${result.ratio.toFixed(2)}x` : '',
    result.target ?? '',
    verdict(result),
  ]);
  const lines = table(
    ['figure', 'value', 'baseline', 'ratio', 'target', ''],
    rows,
    new Set([1, 2, 3]),
  ).map((line) => `  ${line}`);
  const notes = outcome.results.filter((result) => result.note);
  if (notes.length > 0) {
    lines.push('', '  notes:');
    for (const result of notes) lines.push(`  - ${result.name}: ${result.note}`);
  }
  lines.push(`  (${outcome.seconds.toFixed(1)} s)`);
  return lines;
}

function finalReport(outcomes: readonly Outcome[]): string[] {
  const rows: string[][] = [];
  for (const outcome of outcomes) {
    if (outcome.error !== undefined) {
      rows.push([outcome.section, '(section crashed)', '', '', 'ERROR']);
      continue;
    }
    for (const result of outcome.results) {
      if (result.target === undefined) continue;
      const measured =
        result.ratio !== undefined && result.baseline !== undefined
          ? `${valueText(result.value, result.unit)} (${result.ratio.toFixed(2)}x)`
          : valueText(result.value, result.unit);
      rows.push([outcome.section, result.name, measured, result.target, verdict(result)]);
    }
  }
  if (rows.length === 0) return ['  (no targets)'];
  return table(['section', 'target of', 'measured', 'target', 'result'], rows, new Set([2])).map(
    (line) => `  ${line}`,
  );
}

/** Fills what the runner can derive, and refuses results that cannot be judged. */
function normalize(result: BenchResult): BenchResult {
  const ratio =
    result.ratio ??
    (result.baseline !== undefined && result.baseline !== 0
      ? result.value / result.baseline
      : undefined);
  if (result.target !== undefined && result.pass === undefined) {
    throw new Error(`result "${result.name}" has a target but no pass/fail`);
  }
  return { ...result, ...(ratio !== undefined ? { ratio } : {}) };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.list) {
    for (const section of sections) {
      process.stdout.write(`${section.name.padEnd(10)} ${section.description}\n`);
    }
    return;
  }
  const unknown = options.names.filter((name) => !sections.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`no such section: ${unknown.join(', ')}\n${usage()}\n`);
    process.exit(2);
  }
  const chosen =
    options.names.length === 0
      ? sections
      : sections.filter((section) => options.names.includes(section.name));

  // With --json the human report goes to stderr and stdout carries only the document.
  const out = (line = ''): void => {
    (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  };
  out(`DICOM Ferry benchmarks — ${new Date().toISOString()}`);
  out(machineSummary());

  const outcomes: Outcome[] = [];
  for (const section of chosen) {
    out();
    out(`== ${section.name}: ${section.description}`);
    const started = performance.now();
    let outcome: Outcome;
    try {
      const results = (await section.run()).map(normalize);
      outcome = { section: section.name, results, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      outcome = {
        section: section.name,
        results: [],
        error: message,
        seconds: (performance.now() - started) / 1000,
      };
    }
    outcomes.push(outcome);
    for (const line of sectionReport(outcome)) out(line);
  }

  out();
  out('== targets');
  for (const line of finalReport(outcomes)) out(line);

  const crashed = outcomes.some((outcome) => outcome.error !== undefined);
  const missed = outcomes.some((outcome) =>
    outcome.results.some((result) => result.target !== undefined && !result.pass),
  );
  out();
  if (crashed) out('a section crashed: exit 1');
  else if (missed) {
    out(options.strict ? 'targets missed, --strict: exit 1' : 'targets missed (report only)');
  } else out('all targets met');

  if (options.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: machineSummary(),
          sections: outcomes.map(({ section, results, error, seconds }) => ({
            name: section,
            seconds,
            results,
            ...(error !== undefined ? { error } : {}),
          })),
        },
        null,
        2,
      )}\n`,
    );
  }
  process.exitCode = crashed || (missed && options.strict) ? 1 : 0;
}

await main();
