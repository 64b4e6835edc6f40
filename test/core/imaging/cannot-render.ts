/**
 * pydicom test files that carry a Pixel Data element yet cannot be rendered, with why. The
 * pydicom rendering test fails when a file not listed here cannot render, or when a listed
 * one renders (then it leaves the list). Keep it short: each entry is a known limit.
 */
import type { UnrenderableCode } from '../../../main/core/imaging/types.ts';

export const cannotRender: Readonly<Record<string, { code: UnrenderableCode; why: string }>> = {
  'JPEG-lossy.dcm': {
    code: 'unsupported-transfer-syntax',
    why: '12-bit lossy JPEG (Process 4): the maintained WASM JPEG codec is 8-bit only (dcmtk decodes it)',
  },
  'JPGExtended.dcm': {
    code: 'unsupported-transfer-syntax',
    why: '12-bit lossy JPEG (Process 4), as above',
  },
  'JPEG2000-embedded-sequence-delimiter.dcm': {
    code: 'codec-failed',
    why: 'the J2K SIZ marker holds delimiter bytes (a parser test): OpenJPEG and GDCM both reject it',
  },
  'MR_truncated.dcm': {
    code: 'truncated',
    why: 'the file ends inside Pixel Data',
  },
  'meta_missing_tsyntax.dcm': {
    code: 'unsupported-image',
    why: 'a Pixel Data element without Rows, Columns or Bits Allocated: not an image',
  },
  'nested_priv_SQ.dcm': {
    code: 'unsupported-image',
    why: 'a Pixel Data element without Rows, Columns or Bits Allocated: not an image',
  },
};
