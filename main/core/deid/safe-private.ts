/**
 * Retain Safe Private Option (PS3.15 E.3.10): private attributes known to carry no identity.
 *
 * `tableE3101` is PS3.15 Table E.3.10-1 "Safe Private Attributes", every row, as published in
 * the standard's Annex E (read from the reStructuredText conversion of PS3.15 in the public
 * repository chsasank/dicom_standard, source/part15/chapter_E.rst, commit 2c591286; that
 * source does not state its edition). The table is a sample the standard says vendors do not
 * guarantee; its Note 2 advises keeping numeric values only, CS possibly, and calls OB data
 * "particularly unsafe". Ferry therefore keeps a row only when its VR is numeric (US, SS, UL,
 * SL, FL, FD, IS, DS) or CS, and not a time stamp; it drops the rows with text (LO, SH, LT),
 * UIDs (UI: original UIDs, e.g. NQHeader's Analyzed Series UID), bulk data (OB), sequences
 * (SQ) or no VR. A kept value must also look like its VR (digits for IS/DS, code characters
 * for CS, whole binary values) — anything else is removed.
 *
 * Matching is by Private Creator value, group and the element's low byte (gggg,xxEE): the
 * block number xx is assigned per file (PS3.5 7.8.1), so the same attribute is (0019,100C) in
 * one file and (0019,110C) in another.
 */
import type { DicomDataset, DicomElement } from '../dicom/parse.ts';
import { getText } from '../dicom/values.ts';

/** One row of Table E.3.10-1: tag as "gggg,xxee", Private Creator, VR, meaning. */
type SafePrivateRow = readonly [tag: string, creator: string, vr: string, meaning: string];

export const tableE3101: readonly SafePrivateRow[] = [
  ['7053,xx00', 'Philips PET Private Group', 'DS', 'SUV Factor'],
  ['7053,xx09', 'Philips PET Private Group', 'DS', 'Activity Concentration Factor'],
  ['00E1,xx21', 'ELSCINT1', 'DS', 'DLP'],
  ['00E1,xx50', 'ELSCINT1', 'DS', 'Acquisition Duration'],
  ['01E1,xx26', 'ELSCINT1', 'CS', 'Phantom Type'],
  ['01F1,xx01', 'ELSCINT1', 'CS', 'Acquisition Type'],
  ['01F1,xx07', 'ELSCINT1', 'DS', 'Table Velocity'],
  ['01F1,xx26', 'ELSCINT1', 'DS', 'Pitch'],
  ['01F1,xx27', 'ELSCINT1', 'DS', 'Rotation Time'],
  ['0019,xx23', 'GEMS_ACQU_01', 'DS', 'Table Speed [mm/rotation]'],
  ['0019,xx24', 'GEMS_ACQU_01', 'DS', 'Mid Scan Time [sec]'],
  ['0019,xx27', 'GEMS_ACQU_01', 'DS', 'Rotation Speed (Gantry Period)'],
  ['0019,xx9E', 'GEMS_ACQU_01', 'LO', 'Internal Pulse Sequence Name'],
  ['0043,xx27', 'GEMS_PARM_01', 'SH', 'Scan Pitch Ratio'],
  ['0045,xx01', 'GEMS_HELIOS_01', 'SS', 'Number of Macro Rows in Detector'],
  ['0045,xx02', 'GEMS_HELIOS_01', 'FL', 'Macro width at ISO Center'],
  ['0903,xx10', 'GEIIS PACS', 'US', 'Reject Image Flag'],
  ['0903,xx11', 'GEIIS PACS', 'US', 'Significant Flag'],
  ['0903,xx12', 'GEIIS PACS', 'US', 'Confidential Flag'],
  ['2001,xx03', 'Philips Imaging DD 001', 'FL', 'Diffusion B-Factor'],
  ['2001,xx04', 'Philips Imaging DD 001', 'CS', 'Diffusion Direction'],
  ['0019,xx0C', 'SIEMENS MR HEADER', 'IS', 'B Value'],
  ['0019,xx0D', 'SIEMENS MR HEADER', 'CS', 'Diffusion Directionality'],
  ['0019,xx0E', 'SIEMENS MR HEADER', 'FD', 'Diffusion Gradient Direction'],
  ['0019,xx27', 'SIEMENS MR HEADER', 'FD', 'B Matrix'],
  ['0043,xx39', 'GEMS_PARM_01', 'IS', 'Slop integers, 1st value is B Value'],
  ['0043,xx6F', 'GEMS_PARM_01', 'DS', 'Scanner Table Entry + Gradient Coil Selected'],
  ['0025,xx07', 'GEMS_SERS_01', 'SL', 'Images in Series'],
  ['7E01,xx01', 'HOLOGIC, Inc.', 'LO', 'Codec Version'],
  ['7E01,xx02', 'HOLOGIC, Inc.', 'SH', 'Codec Content Type'],
  ['7E01,xx10', 'HOLOGIC, Inc.', 'SQ', 'High Resolution Data Sequence'],
  ['7E01,xx11', 'HOLOGIC, Inc.', 'SQ', 'Low Resolution Data Sequence'],
  ['7E01,xx12', 'HOLOGIC, Inc.', 'OB', 'Codec Content'],
  ['0099,xx01', 'NQHeader', 'UI', 'Version'],
  ['0099,xx02', 'NQHeader', 'UI', 'Analyzed Series UID'],
  ['0099,xx04', 'NQHeader', 'SS', 'Return Code'],
  ['0099,xx05', 'NQHeader', 'LT', 'Return Message'],
  ['0099,xx10', 'NQHeader', 'FL', 'MI'],
  ['0099,xx20', 'NQHeader', 'SH', 'Units'],
  ['0099,xx21', 'NQHeader', 'FL', 'ICV'],
  ['0199,xx01', 'NQLeft', 'FL', 'Left Cortical White Matter'],
  ['0199,xx02', 'NQLeft', 'FL', 'Left Cortical Gray Matter'],
  ['0199,xx03', 'NQLeft', 'FL', 'Left 3rd Ventricle'],
  ['0199,xx04', 'NQLeft', 'FL', 'Left 4th Ventricle'],
  ['0199,xx05', 'NQLeft', 'FL', 'Left 5th Ventricle'],
  ['0199,xx06', 'NQLeft', 'FL', 'Left Lateral Ventricle'],
  ['0199,xx07', 'NQLeft', 'FL', 'Left Inferior Lateral Ventricle'],
  ['0199,xx08', 'NQLeft', 'FL', 'Left Inferior CSF'],
  ['0199,xx09', 'NQLeft', 'FL', 'Left Cerebellar White Matter'],
  ['0199,xx0A', 'NQLeft', 'FL', 'Left Cerebellar Gray Matter'],
  ['0199,xx0B', 'NQLeft', 'FL', 'Left Hippocampus'],
  ['0199,xx0C', 'NQLeft', 'FL', 'Left Amygdala'],
  ['0199,xx0D', 'NQLeft', 'FL', 'Left Thalamus'],
  ['0199,xx0E', 'NQLeft', 'FL', 'Left Caudate'],
  ['0199,xx0F', 'NQLeft', 'FL', 'Left Putamen'],
  ['0199,xx10', 'NQLeft', 'FL', 'Left Pallidum'],
  ['0199,xx11', 'NQLeft', 'FL', 'Left Ventral Diencephalon'],
  ['0199,xx12', 'NQLeft', 'FL', 'Left Nucleus Accumbens'],
  ['0199,xx13', 'NQLeft', 'FL', 'Left Brain Stem'],
  ['0199,xx14', 'NQLeft', 'FL', 'Left Exterior CSF'],
  ['0199,xx15', 'NQLeft', 'FL', 'Left WM Hypo'],
  ['0199,xx16', 'NQLeft', 'FL', 'Left Other'],
  ['0299,xx01', 'NQRight', 'FL', 'Right Cortical White Matter'],
  ['0299,xx02', 'NQRight', 'FL', 'Right Cortical Gray Matter'],
  ['0299,xx03', 'NQRight', 'FL', 'Right 3rd Ventricle'],
  ['0299,xx04', 'NQRight', 'FL', 'Right 4th Ventricle'],
  ['0299,xx05', 'NQRight', 'FL', 'Right 5th Ventricle'],
  ['0299,xx06', 'NQRight', 'FL', 'Right Lateral Ventricle'],
  ['0299,xx07', 'NQRight', 'FL', 'Right Inferior Lateral Ventricle'],
  ['0299,xx08', 'NQRight', 'FL', 'Right Inferior CSF'],
  ['0299,xx09', 'NQRight', 'FL', 'Right Cerebellar White Matter'],
  ['0299,xx0A', 'NQRight', 'FL', 'Right Cerebellar Gray Matter'],
  ['0299,xx0B', 'NQRight', 'FL', 'Right Hippocampus'],
  ['0299,xx0C', 'NQRight', 'FL', 'Right Amygdala'],
  ['0299,xx0D', 'NQRight', 'FL', 'Right Thalamus'],
  ['0299,xx0E', 'NQRight', 'FL', 'Right Caudate'],
  ['0299,xx0F', 'NQRight', 'FL', 'Right Putamen'],
  ['0299,xx10', 'NQRight', 'FL', 'Right Pallidum'],
  ['0299,xx11', 'NQRight', 'FL', 'Right Ventral Diencephalon'],
  ['0299,xx12', 'NQRight', 'FL', 'Right Nucleus Accumbens'],
  ['0299,xx13', 'NQRight', 'FL', 'Right Brain Stem'],
  ['0299,xx14', 'NQRight', 'FL', 'Right Exterior CSF'],
  ['0299,xx15', 'NQRight', 'FL', 'Right WM Hypo'],
  ['0299,xx16', 'NQRight', 'FL', 'Right Other'],
  ['2005,xx0D', 'Philips MR Imaging DD 001', 'FL', 'Scale Intercept'],
  ['2005,xx0E', 'Philips MR Imaging DD 001', 'FL', 'Scale Slope'],
  ['0119,xx00', 'SIEMENS Ultrasound SC2000', 'LO', 'Acoustic Meta Information Version'],
  ['0119,xx01', 'SIEMENS Ultrasound SC2000', 'OB', 'Common Acoustic Meta Information'],
  ['0119,xx02', 'SIEMENS Ultrasound SC2000', 'SQ', 'Multi Stream Sequence'],
  ['0119,xx03', 'SIEMENS Ultrasound SC2000', 'SQ', 'Acoustic Data Sequence'],
  ['0119,xx04', 'SIEMENS Ultrasound SC2000', 'OB', 'Per Transaction Acoustic Control Information'],
  ['0119,xx05', 'SIEMENS Ultrasound SC2000', 'UL', 'Acoustic Data Offset'],
  ['0119,xx06', 'SIEMENS Ultrasound SC2000', 'UL', 'Acoustic Data Length'],
  ['0119,xx07', 'SIEMENS Ultrasound SC2000', 'UL', 'Footer Offset'],
  ['0119,xx08', 'SIEMENS Ultrasound SC2000', 'UL', 'Footer Length'],
  ['0119,xx09', 'SIEMENS Ultrasound SC2000', 'SS', 'Acoustic Stream Number'],
  ['0119,xx10', 'SIEMENS Ultrasound SC2000', 'SH', 'Acoustic Stream Type'],
  ['0119,xx11', 'SIEMENS Ultrasound SC2000', '', 'Stage Timer Time'],
  ['0119,xx12', 'SIEMENS Ultrasound SC2000', '', 'Stop Watch Time'],
  ['0119,xx13', 'SIEMENS Ultrasound SC2000', 'IS', 'Volume Rate'],
  ['0119,xx21', 'SIEMENS Ultrasound SC2000', 'SH', ''],
  ['0129,xx00', 'SIEMENS Ultrasound SC2000', 'SQ', 'MPR View Sequence'],
  ['0129,xx02', 'SIEMENS Ultrasound SC2000', 'UI', 'Bookmark UID'],
  ['0129,xx03', 'SIEMENS Ultrasound SC2000', '', 'Plane Origin Vector'],
  ['0129,xx04', 'SIEMENS Ultrasound SC2000', '', 'Row Vector'],
  ['0129,xx05', 'SIEMENS Ultrasound SC2000', '', 'Column Vector'],
  ['0129,xx06', 'SIEMENS Ultrasound SC2000', 'SQ', 'Visualization Sequence'],
  ['0129,xx07', 'SIEMENS Ultrasound SC2000', 'UI', 'Bookmark UID'],
  ['0129,xx08', 'SIEMENS Ultrasound SC2000', 'OB', 'Visualization Information'],
  ['0129,xx09', 'SIEMENS Ultrasound SC2000', 'SQ', 'Application State Sequence'],
  ['0129,xx10', 'SIEMENS Ultrasound SC2000', 'OB', 'Application State Information'],
  ['0129,xx11', 'SIEMENS Ultrasound SC2000', 'SQ', 'Referenced Bookmark Sequence'],
  ['0129,xx12', 'SIEMENS Ultrasound SC2000', 'UI', 'Referenced Bookmark UID'],
  ['0129,xx20', 'SIEMENS Ultrasound SC2000', 'SQ', 'Cine Parameters Sequence'],
  ['0129,xx21', 'SIEMENS Ultrasound SC2000', 'OB', 'Cine Parameters Schema'],
  ['0129,xx22', 'SIEMENS Ultrasound SC2000', 'OB', 'Values of Cine Parameters'],
  ['0129,xx29', 'SIEMENS Ultrasound SC2000', 'OB', ''],
  ['0129,xx30', 'SIEMENS Ultrasound SC2000', 'CS', 'Raw Data Object Type'],
  ['0139,xx01', 'SIEMENS Ultrasound SC2000', 'SL', 'Physio Capture ROI'],
  ['0149,xx01', 'SIEMENS Ultrasound SC2000', 'FD', 'Vector of BROI Points'],
  ['0149,xx02', 'SIEMENS Ultrasound SC2000', 'FD', 'Start/End Timestamps of Strip Stream'],
  ['0149,xx03', 'SIEMENS Ultrasound SC2000', 'FD', 'Timestamps of Visible R-waves'],
  ['7FD1,xx01', 'SIEMENS Ultrasound SC2000', 'OB', 'Acoustic Image and Footer Data'],
  ['7FD1,xx09', 'SIEMENS Ultrasound SC2000', 'UI', 'Volume Version ID'],
  ['7FD1,xx10', 'SIEMENS Ultrasound SC2000', 'OB', 'Volume Payload'],
  ['7FD1,xx11', 'SIEMENS Ultrasound SC2000', 'OB', 'After Payload'],
  ['7FD1,xx01', 'SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING', 'OB', 'Padding'],
  ['7FD1,xx09', 'SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING', 'UI', 'Version ID'],
  ['7FD1,xx10', 'SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING', 'OB', 'Volume Payload'],
  ['7FD1,xx11', 'SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING', 'OB', 'After Payload'],
];

export interface SafePrivate {
  readonly creator: string;
  readonly group: number;
  /** The element's low byte (EE of gggg,xxEE). */
  readonly element: number;
  readonly vr: string;
  readonly meaning: string;
}

const binarySizes: Readonly<Record<string, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8 };
const retainedVrs: ReadonlySet<string> = new Set([...Object.keys(binarySizes), 'IS', 'DS', 'CS']);
/** Rows whose numbers are time stamps (dates in disguise): not kept. */
const timeStamps: ReadonlySet<string> = new Set(['0149,xx02', '0149,xx03']);

/** The rows Ferry keeps (see above), in table order. */
export const safePrivateAttributes: readonly SafePrivate[] = tableE3101
  .filter(([tag, , vr]) => retainedVrs.has(vr) && !timeStamps.has(tag))
  .map(([tag, creator, vr, meaning]) => ({
    creator,
    group: Number.parseInt(tag.slice(0, 4), 16),
    element: Number.parseInt(tag.slice(7, 9), 16),
    vr,
    meaning,
  }));

const index = new Map(
  safePrivateAttributes.map((entry) => [`${entry.creator}|${entry.group}|${entry.element}`, entry]),
);

/**
 * The kept row for the private element (gggg,xxEE) of the block whose Private Creator is
 * `creator` (leading and trailing spaces are not significant in LO), or undefined.
 */
export function safePrivateEntry(
  creator: string,
  group: number,
  element: number,
): SafePrivate | undefined {
  return index.get(`${creator.trim()}|${group}|${element & 0xff}`);
}

const textPatterns: Readonly<Record<string, RegExp>> = {
  IS: /^[ \d+-]*(\\[ \d+-]*)*$/u,
  DS: /^[ \d+\-.eE]*(\\[ \d+\-.eE]*)*$/u,
  CS: /^[ A-Z\d_]*(\\[ A-Z\d_]*)*$/u,
};

/** Whether the element's value is what its row says: the right VR and only numbers or codes. */
export function isSafePrivateValue(
  entry: SafePrivate,
  dataset: DicomDataset,
  element: DicomElement,
): boolean {
  if (element.items) return false;
  // Explicit VR must match the table; UN (implicit files) is read as the table's VR.
  if (element.vr !== entry.vr && element.vr !== 'UN') return false;
  const size = binarySizes[entry.vr];
  if (size !== undefined) return element.length % size === 0;
  const pattern = textPatterns[entry.vr];
  return pattern !== undefined && pattern.test(getText(dataset, element.tag) ?? '');
}

/** Whether (gggg,xxEE) under `creator` is on the kept list (tests, docs). */
export function isSafePrivate(creator: string, group: number, element: number): boolean {
  return safePrivateEntry(creator, group, element) !== undefined;
}
