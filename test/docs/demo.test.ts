import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..', '..');

describe("README's main job (npm run demo)", () => {
  it('starts the portal, makes a link and a disc, and serves Ferry with the link', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'scripts', 'demo.ts'), '--once'],
      { cwd: root, encoding: 'utf8', timeout: 180_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /Upload link for Jane Doe[^\n]*\n\s+http:\/\/127\.0\.0\.1:\d+\/u\/\S{40,}/u,
    );
    expect(result.stdout).toContain('1 patient, 2 studies, 6 series, 48 images');
    expect(result.stdout).toContain('Demo smoke check: the app and the portal answer.');
  }, 200_000);
});
