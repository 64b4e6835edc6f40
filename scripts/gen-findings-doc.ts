/**
 * Writes docs/findings.md from the findings catalogue, so the documentation lists every code
 * with the exact words users see. A test fails when the committed file is out of date.
 *   node --import tsx scripts/gen-findings-doc.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { findingsDocument } from '../main/core/findings-doc.ts';

const target = path.join(import.meta.dirname, '..', 'docs', 'findings.md');
writeFileSync(target, findingsDocument());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
