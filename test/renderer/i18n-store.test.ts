/** Renderer logic that needs no DOM: the i18n layer and the store's transitions. */
import { describe, expect, it } from 'vitest';
import type { ScanView, UploadProgress, ValidationView } from '../../main/core/api.ts';
import { en } from '../../renderer/i18n/en.ts';
import {
  formatBytes,
  formatDicomDate,
  formatPersonName,
  interpolate,
  setLocale,
  t,
} from '../../renderer/i18n/index.ts';
import {
  applyEvent,
  defaultSelection,
  flaggedSelection,
  initialState,
  reachableSteps,
  type FlowState,
} from '../../renderer/store.ts';

describe('i18n', () => {
  it('fills parameters and plurals', () => {
    setLocale('en-US');
    expect(t('common.images', { count: 1 })).toBe('1 image');
    expect(t('common.images', { count: 1200 })).toBe('1,200 images');
    expect(interpolate('{n} of {total}', { n: 3, total: 6 })).toBe('3 of 6');
    expect(interpolate('{missing} stays', {})).toBe('{missing} stays');
  });

  it('has no empty string and every plural has an other case', () => {
    for (const [key, value] of Object.entries(en)) {
      expect(value.trim(), key).not.toBe('');
      if (value.includes('plural,')) expect(value, key).toContain('other {');
    }
  });

  it('formats DICOM dates and person names for reading', () => {
    setLocale('en-US');
    expect(formatDicomDate('19700101')).toBe('January 1, 1970');
    expect(formatDicomDate('')).toBe('date unknown');
    expect(formatDicomDate('1970')).toBe('1970');
    expect(formatPersonName('DOE^JANE^Q^Dr.^PhD')).toBe('Dr. JANE Q DOE, PhD');
    expect(formatPersonName('Yamada^Tarou=山田^太郎')).toBe('Tarou Yamada');
    expect(formatPersonName('')).toBe('name not given');
    expect(formatBytes(40_000)).toBe('40 kB');
    expect(formatBytes(5)).toBe('5 bytes');
    expect(formatBytes(1)).toBe('1 byte');
  });

  it('falls back to English for a language it does not have yet', () => {
    setLocale('xx-YY');
    expect(t('link.open')).toBe('Open link');
    setLocale('en');
  });
});

const scan: ScanView = {
  scanId: 'scan_1',
  root: '/media/cd',
  source: 'dicomdir',
  complete: true,
  summary: {
    patients: 2,
    studies: 3,
    series: 3,
    instances: 3,
    bytes: 3,
    nonDicomFiles: 0,
    unreadableFiles: 0,
  },
  patients: [
    {
      key: 'p1',
      name: 'DOE^JANE',
      patientId: '1',
      birthDate: '',
      sex: '',
      studies: [study('p1s1'), study('p1s2')],
    },
    {
      key: 'p2',
      name: 'ROE^RICHARD',
      patientId: '2',
      birthDate: '',
      sex: '',
      studies: [study('p2s1')],
    },
  ],
  findings: [],
};

function study(key: string) {
  return {
    key,
    studyInstanceUid: key,
    date: '',
    time: '',
    description: '',
    accessionNumber: '',
    modalities: [],
    instances: 1,
    bytes: 1,
    series: [],
  };
}

const validation: ValidationView = {
  scanId: 'scan_1',
  findings: [],
  identity: { status: 'mismatch', mismatchedPatientKeys: ['p2'] },
};

describe('the store', () => {
  it('chooses every study of the expected patient by default', () => {
    expect(defaultSelection(scan)).toEqual(['p1s1', 'p1s2', 'p2s1']);
    expect(defaultSelection(scan, validation)).toEqual(['p1s1', 'p1s2']);
  });

  it('opens each step only when the one before it produced what it needs', () => {
    const link = {} as FlowState['link'];
    expect([...reachableSteps(initialState)].sort()).toEqual(['history', 'link']);
    expect(reachableSteps({ ...initialState, link }).has('media')).toBe(true);
    const chosen: FlowState = { ...initialState, link, scan, validation, selected: ['p1s1'] };
    expect(reachableSteps(chosen).has('preview')).toBe(true);
    const flagged: FlowState = { ...chosen, selected: ['p2s1'] };
    expect(flaggedSelection(flagged)).toEqual(['p2s1']);
    expect(reachableSteps(flagged).has('preview')).toBe(false);
    expect(reachableSteps({ ...flagged, identityConfirmed: true }).has('preview')).toBe(true);
    const sending: UploadProgress = {
      uploadId: 'u',
      state: 'sending',
      sentInstances: 0,
      totalInstances: 1,
      sentBytes: 0,
      totalBytes: 1,
      bytesPerSecond: 0,
      etaSeconds: null,
    };
    const busy = reachableSteps({ ...chosen, upload: sending });
    expect(busy.has('media')).toBe(false);
    expect(busy.has('upload')).toBe(true);
  });

  it('applies core events, ignoring those of another scan or upload', () => {
    expect(
      applyEvent(initialState, 'scan.progress', {
        scanId: 's',
        phase: 'headers',
        done: 1,
        total: 2,
      }),
    ).toEqual({});
    expect(applyEvent({ ...initialState, scanning: true }, 'scan.studyList', { scan })).toEqual({
      scan,
    });
    const mine: UploadProgress = {
      uploadId: 'u1',
      state: 'sending',
      sentInstances: 1,
      totalInstances: 2,
      sentBytes: 1,
      totalBytes: 2,
      bytesPerSecond: 1,
      etaSeconds: 1,
    };
    expect(
      applyEvent({ ...initialState, upload: mine }, 'upload.progress', { ...mine, uploadId: 'u2' }),
    ).toEqual({});
    expect(
      applyEvent({ ...initialState, upload: mine }, 'upload.progress', {
        ...mine,
        sentInstances: 2,
      }),
    ).toEqual({ upload: { ...mine, sentInstances: 2 } });
    expect(applyEvent(initialState, 'drives.changed', { drives: [] })).toEqual({ drives: [] });
  });
});
