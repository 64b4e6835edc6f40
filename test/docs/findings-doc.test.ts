import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findingsDocument } from '../../main/core/findings-doc.ts';
import { findingCatalog } from '../../main/core/findings.ts';

describe('docs/findings.md', () => {
  it('is generated from the catalogue and up to date (node --import tsx scripts/gen-findings-doc.ts)', () => {
    const committed = readFileSync(
      path.join(import.meta.dirname, '..', '..', 'docs', 'findings.md'),
      'utf8',
    );
    expect(committed).toBe(findingsDocument());
    for (const code of Object.keys(findingCatalog)) expect(committed).toContain(`\`${code}\``);
  });
});
