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
    id: 'conditional-attributes',
    pattern: /^Error - Missing attribute Type [12]C Conditional/u,
    reason:
      'Type 1C/2C requirements depend on conditions (laterality of a paired body part, patient orientation, de-identification) most of which a header cannot settle; Ferry checks only the Patient Identity Removed condition. Receiving archives store such instances.',
  },
  {
    id: 'condition-unsatisfied',
    pattern: /^Error - Attribute present when condition unsatisfied/u,
    reason: 'An extra conditional attribute harms nobody: archives store it and viewers ignore it.',
  },
  {
    id: 'enumerated-values',
    pattern: /^Error - Unrecognized enumerated value/u,
    reason:
      "dciodvfy's enumerations lag behind the standard and the encodings (YBR_FULL for JPEG-compressed secondary capture, Number of Frames in multi-frame secondary capture); Ferry does not judge enumerated values.",
  },
  {
    id: 'uid-root',
    pattern: /^Error - Illegal root for UID/u,
    reason:
      'Whether a UID root is registered cannot be checked offline; a UID that is well formed (PS3.5 9.1) is stored by every archive.',
  },
  {
    id: 'sr-content-tree',
    pattern:
      /^Error - (Referenced SOP Instance is not listed in CurrentRequestedProcedureEvidenceSequence|Coordinates Content Item has missing or incorrect required child|Shall not be present for Referenced SOP Class that is not multi-frame)/u,
    reason:
      'Structured report content-tree and template constraints (PS3.3 C.17.3, PS3.16) are the author system’s business; the report is sent as it is and flagged for the privacy preview.',
  },
  {
    id: 'nested-macro',
    pattern:
      /^Error - Missing attribute Type 1 Required Element=<\w+> Module=<SOPInstanceReferenceMacro>/u,
    reason:
      'Type 1 attributes inside sequence items (macros) are not checked: Ferry checks the top level of the dataset.',
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
