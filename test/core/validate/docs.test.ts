import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

import { findingCatalog } from '../../../main/core/findings.ts';
import { toleratedDciodvfyErrors } from './dciodvfy-tolerances.ts';

/** Table rows as trimmed cells (Prettier pads the columns). */
async function tableRows(): Promise<string[][]> {
  const doc = await readFile(new URL('../../../docs/validation.md', import.meta.url), 'utf8');
  return doc
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/u)
        .map((cell) => cell.trim()),
    );
}

describe('docs/validation.md', () => {
  it('documents every code validation reports, with its message word for word', async () => {
    const rows = await tableRows();
    for (const [code, entry] of Object.entries(findingCatalog)) {
      if (code.startsWith('deid-')) continue;
      expect(rows, code).toContainEqual([`\`${code}\``, entry.severity, entry.message]);
    }
  });

  it('lists every tolerated dciodvfy error with its reason', async () => {
    const rows = await tableRows();
    for (const tolerance of toleratedDciodvfyErrors) {
      const row = rows.find((cells) => cells[0] === `\`${tolerance.id}\``);
      expect(row?.[2], tolerance.id).toBe(tolerance.reason);
    }
  });
});
