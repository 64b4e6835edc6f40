import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Tests that need a Debian tool skip with a printed reason on a developer machine without it.
 * In CI (CI=true, or FERRY_REQUIRE_TOOLS=1) a missing tool fails instead: CI never skips them.
 */
export function toolsRequired(): boolean {
  return process.env.CI === 'true' || process.env.FERRY_REQUIRE_TOOLS === '1';
}

/**
 * Returns true when the test should skip because `reason` is set; prints why. Throws in CI,
 * where a skip would hide a missing install step.
 */
export function skipFor(reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (toolsRequired()) {
    throw new Error(`required test tool missing in CI: ${reason} (install it in .ci/run)`);
  }
  console.warn(`SKIP: ${reason}`);
  return true;
}

export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A reason when any of the commands is missing, naming its Debian package. */
export function missingCommands(commands: Record<string, string>): string | undefined {
  const missing = Object.entries(commands).filter(([command]) => !hasCommand(command));
  if (missing.length === 0) return undefined;
  return `needs ${missing.map(([command, pkg]) => `${command} (Debian ${pkg})`).join(', ')}`;
}

/** pydicom as Debian installs it (python3-pydicom), used for its real test files. */
export const debianPython = '/usr/bin/python3';

let pydicomDir: string | null | undefined;
export function pydicomDataDir(): string | undefined {
  if (pydicomDir === undefined) {
    pydicomDir = null;
    if (existsSync(debianPython)) {
      try {
        const out = execFileSync(
          debianPython,
          ['-c', 'import os, pydicom.data; print(os.path.dirname(pydicom.data.__file__))'],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
        ).trim();
        if (existsSync(path.join(out, 'test_files'))) pydicomDir = out;
      } catch {
        pydicomDir = null;
      }
    }
  }
  return pydicomDir ?? undefined;
}

export function missingPydicom(): string | undefined {
  return pydicomDataDir() ? undefined : 'needs pydicom test files (Debian python3-pydicom)';
}

export function pydicomTestFiles(): string {
  const dir = pydicomDataDir();
  if (!dir) throw new Error('pydicom data missing');
  return path.join(dir, 'test_files');
}
