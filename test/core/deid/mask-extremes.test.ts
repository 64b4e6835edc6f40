/**
 * A masked rectangle puts a value outside the file's stated pixel range, so Smallest/Largest
 * Image Pixel Value (Type 3) are removed from masked output, and the removal is reported; an
 * unmasked instance keeps them.
 */
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseDicom } from '../../../main/core/dicom/parse.ts';
import { previewInstance } from '../../../main/core/deid/instance.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const SMALLEST = 0x00280106;
const LARGEST = 0x00280107;

describe('pixel value range after masking', () => {
  for (const name of ['MR_small.dcm', 'MR_small_RLE.dcm']) {
    it(`${name}: removed when masked, kept when not`, async (context) => {
      if (skipFor(missingPydicom())) return context.skip();
      const file = path.join(pydicomTestFiles(), name);
      const plain = await previewInstance({ kind: 'file', path: file }, undefined, {});
      const plainSet = parseDicom(plain.bytes).dataset.elements;
      expect(plainSet.has(SMALLEST) && plainSet.has(LARGEST)).toBe(true);

      const masked = await previewInstance({ kind: 'file', path: file }, undefined, {
        masks: [{ x: 2, y: 2, width: 10, height: 5 }],
      });
      expect(masked.masked).toBe(true);
      const out = parseDicom(masked.bytes).dataset.elements;
      expect(out.has(SMALLEST)).toBe(false);
      expect(out.has(LARGEST)).toBe(false);
      const removed = masked.changes.filter((c) => c.action === 'removed').map((c) => c.tag);
      expect(removed).toEqual(expect.arrayContaining(['(0028,0106)', '(0028,0107)']));
    });
  }
});
