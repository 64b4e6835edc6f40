import { describe, expect, it } from 'vitest';
import {
  classifyFailureReason,
  contentLength,
  parseStowAnswer,
} from '../../../main/core/upload/stow.ts';

describe('STOW-RS answers (PS3.18 10.5.3)', () => {
  it('reads ReferencedSOPSequence and FailedSOPSequence per instance', () => {
    const answer = parseStowAnswer({
      '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3'] } }] },
      '00081198': {
        vr: 'SQ',
        Value: [
          { '00081155': { vr: 'UI', Value: ['1.2.4'] }, '00081197': { vr: 'US', Value: [0xa900] } },
          { '00081197': { vr: 'US', Value: [0xc000] } },
        ],
      },
    });
    expect([...answer!.referenced]).toEqual(['1.2.3']);
    expect([...answer!.failed]).toEqual([['1.2.4', 0xa900]]);
    expect(answer!.failedWithoutUid).toBe(1);
  });

  it('is not fooled by an error body or an empty 200', () => {
    expect(parseStowAnswer({ error: { code: 'transfer-closed' } })).toBeUndefined();
    expect(parseStowAnswer('ok')).toBeUndefined();
    const empty = parseStowAnswer({});
    expect(empty?.referenced.size).toBe(0); // nothing confirmed: every instance goes again
  });

  it('classifies failure reasons', () => {
    expect(classifyFailureReason(0x0110)).toEqual({ retry: true, code: 'instance-refused' });
    expect(classifyFailureReason(0x0111).code).toBe('instance-conflict');
    expect(classifyFailureReason(0x0124).code).toBe('instance-not-authorized');
    expect(classifyFailureReason(0xa700).code).toBe('over-limit');
    expect(classifyFailureReason(0xc000)).toEqual({ retry: false, code: 'instance-refused' });
  });

  it('computes the exact body length', () => {
    const items = [
      { path: 'a', sopInstanceUid: '1', studyInstanceUid: '2', bytes: 100 },
      { path: 'b', sopInstanceUid: '3', studyInstanceUid: '2', bytes: 5 },
    ];
    const head = '--b\r\nContent-Type: application/dicom\r\n\r\n'.length;
    expect(contentLength(items, 'b')).toBe(2 * head + 105 + 4 + '--b--\r\n'.length);
  });
});
