/**
 * The dciodvfy errors Ferry deliberately tolerates, each with its reason: data for
 * dciodvfy.test.ts, and the same list, entry by entry, in docs/validation.md
 * ("Differences from dciodvfy"), which docs.test.ts keeps in step.
 */
/** A fact about the file that a tolerance may depend on. */
export type FileCondition = 'deflated' | 'ybr-422';

export interface Tolerance {
  readonly id: string;
  readonly pattern: RegExp;
  readonly reason: string;
  /** Tolerated only for files with this property. */
  readonly when?: FileCondition;
}

/** dciodvfy errors Ferry deliberately does not report (docs/validation.md lists the same). */
export const toleratedDciodvfyErrors: readonly Tolerance[] = [
  {
    id: 'laterality',
    pattern:
      /^Error - Missing attribute Type 2C Conditional Element=<Laterality> Module=<GeneralSeries>/u,
    reason:
      'Laterality (0020,0060) is required only when the body part examined is a paired structure (PS3.3 C.7.3.1); dciodvfy cannot tell and reports it for any body part, WHOLE BODY included. Ferry checks the conditions a header settles (docs/validation.md, Conditional attributes).',
  },
  {
    id: 'condition-unsatisfied',
    pattern: /^Error - Attribute present when condition unsatisfied/u,
    reason: 'An extra conditional attribute harms nobody: archives store it and viewers ignore it.',
  },
  {
    id: 'enumerated-values',
    pattern:
      /^Error - Unrecognized enumerated value <(YBR_FULL|YBR_FULL_422|0x2)> for value 1 of attribute <(Photometric Interpretation|Number of Frames)>/u,
    reason:
      "dciodvfy's enumerations lag behind the standard and the encodings: YBR_FULL for JPEG-compressed and YBR_FULL_422 for native secondary capture (PS3.3 C.7.6.3.1.2, PS3.5 8.2.1), Number of Frames in multi-frame secondary capture. Ferry checks enumerated values against the current standard (enumerated-value-invalid).",
  },
  {
    id: 'uid-root',
    pattern: /^Error - Illegal root for UID/u,
    reason:
      'Whether a UID root is registered cannot be checked offline; a UID that is well formed (PS3.5 9.1) is stored by every archive.',
  },
  {
    id: 'ybr-422-pixel-length',
    pattern: /^Error - PixelData has incorrect value length/u,
    when: 'ybr-422',
    reason:
      'dciodvfy expects 3 samples per pixel for native YBR_FULL_422; the standard stores 4:2:2 subsampled data, 2 samples per pixel (PS3.3 C.7.6.3.1.2), which is the length Ferry checks.',
  },
  {
    id: 'deflated-dataset',
    pattern: /^Error - /u,
    when: 'deflated',
    reason:
      'dciodvfy cannot read the Deflated Explicit VR Little Endian transfer syntax and reports its dataset missing; Ferry inflates it and validates what is inside.',
  },
];
