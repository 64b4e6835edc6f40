/**
 * Why de-identification will not send a file reaches a Spanish reader in Spanish: every DeidError
 * code has a phrase, and errorMessage puts it into the "not sent" sentence; English keeps the
 * core's own reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../main/core/app-service/errors.ts';
import type { DeidErrorCode } from '../../main/core/deid/engine.ts';
import { deidReasonsEs } from '../../renderer/i18n/deid.es.ts';
import { errorMessage, setLocale } from '../../renderer/i18n/index.ts';

afterEach(() => setLocale('en'));

// Keyed by the type: a new DeidErrorCode fails to compile here until it is listed.
const everyCode: Record<DeidErrorCode, true> = {
  dicomdir: true,
  'not-an-instance': true,
  unreadable: true,
  'bad-policy': true,
  'mask-compressed': true,
  'mask-unsupported': true,
  'mask-outside': true,
  'duplicate-instance': true,
};

describe('reasons a file is not sent', () => {
  it('has a Spanish phrase for every de-identification error code, and no stale ones', () => {
    expect(Object.keys(deidReasonsEs).sort()).toEqual(Object.keys(everyCode).sort());
  });

  it('shows the translated reason in Spanish and the core reason in English', () => {
    const body = new ApiError('not-sent', {
      reason: 'a mask rectangle lies outside the image',
      why: 'mask-outside',
    }).toBody();
    expect(errorMessage(body)).toBe(
      'This file is not sent: a mask rectangle lies outside the image.',
    );
    setLocale('es');
    const spanish = errorMessage(body);
    expect(spanish).toContain(deidReasonsEs['mask-outside']);
    expect(spanish).not.toContain('outside the image');
  });

  it('keeps the core reason when the code is unknown', () => {
    setLocale('es');
    const body = new ApiError('not-sent', { reason: 'something new', why: 'new-code' }).toBody();
    expect(errorMessage(body)).toContain('something new');
  });
});
