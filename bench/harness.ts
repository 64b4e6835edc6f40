/**
 * What every benchmark section shares: the result shape the report prints, and small
 * measuring helpers (medians, RSS sampling, a GC between runs, number formatting).
 *
 * A section is `{ name, run }`; `run` measures, may print progress with `log`, and returns its
 * figures. Register it with one line in bench/run.ts.
 */
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';

export interface BenchResult {
  /** What was measured, e.g. 'time to study list (DICOMDIR)'. */
  name: string;
  value: number;
  /** 'ms', 's', 'files/s', 'MiB', 'x', …: printed after the value. */
  unit: string;
  /** The same quantity for the baseline measured in the same run (e.g. the I/O floor). */
  baseline?: number;
  /** value / baseline unless the section says otherwise; filled in by the runner when absent. */
  ratio?: number;
  /** In words, e.g. '< 1 s' or '>= 0.7x floor'. A result without a target is informational. */
  target?: string;
  /** Whether the target was met; required when there is a target. */
  pass?: boolean;
  /** One short remark printed under the figure (how it was measured, caveats). */
  note?: string;
}

export interface BenchSection {
  readonly name: string;
  /** One line for `--list`. */
  readonly description: string;
  readonly run: () => Promise<BenchResult[]>;
}

/** Progress and context lines from a section: stderr, so stdout stays the report. */
export function log(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

/** Repetitions per measurement: FERRY_BENCH_RUNS when set (a positive integer), else `fallback`. */
export function runsFromEnv(fallback: number): number {
  const raw = process.env.FERRY_BENCH_RUNS;
  if (raw === undefined || raw === '') return fallback;
  const runs = Number(raw);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`FERRY_BENCH_RUNS=${raw}: want a positive integer`);
  return runs;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Samples process RSS on a timer and on demand (call `sample()` from hot callbacks). */
export class RssSampler {
  peak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 5): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.peak;
  }
}

let gcFunction: (() => void) | undefined | null = null;

/**
 * A full garbage collection between measured runs, so one run's garbage does not land in the
 * next one's time or RSS. `npm run bench` has no --expose-gc, so it is switched on here.
 */
export function collectGarbage(): void {
  if (gcFunction === null) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFunction = vm.runInNewContext('gc') as () => void;
    } catch {
      gcFunction = undefined;
    }
  }
  gcFunction?.();
}

export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** 1234.5 -> '1,235'; small numbers keep a few significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function machineSummary(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `node ${process.version}, ${os.platform()} ${os.release()}, ${cpus.length} x ${model}, ${formatNumber(mib(os.totalmem()) / 1024)} GiB RAM`;
}
