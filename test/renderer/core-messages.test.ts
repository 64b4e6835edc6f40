/**
 * The core's sentences in the user's language: every finding code and every error code or id
 * that can reach a screen has a Spanish sentence (the English one is the core's own), with the
 * same parameters; and what the core really sends is shown translated.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../main/core/api.ts';
import { apiErrorCatalog, ApiError, toErrorBody } from '../../main/core/app-service/errors.ts';
import { groupFindings } from '../../main/core/app-service/views.ts';
import { errorCatalog, FerryError } from '../../main/core/errors.ts';
import { findingCatalog, makeFinding } from '../../main/core/findings.ts';
import { errorsEs } from '../../renderer/i18n/errors.es.ts';
import { findingsEs } from '../../renderer/i18n/findings.es.ts';
import {
  errorMessage,
  findingMessage,
  historyStatus,
  portalState,
  setLocale,
} from '../../renderer/i18n/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Sentences the renderer makes itself (renderer/transport/ws-bridge.ts). */
const RENDERER_CODES = ['network'];

const PLACEHOLDER = /\{(\w+)[,}]/gu;
const placeholders = (text: string): string[] =>
  [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').sort();

afterEach(() => setLocale('en'));

describe('every finding code has a Spanish sentence', () => {
  const codes = Object.keys(findingCatalog) as (keyof typeof findingCatalog)[];

  it('one per code in main/core/findings.ts, and none for codes that are gone', () => {
    const missing = codes.filter((code) => !Object.hasOwn(findingsEs, code));
    expect(missing, 'add these codes to renderer/i18n/findings.es.ts').toEqual([]);
    const stale = Object.keys(findingsEs).filter((code) => !Object.hasOwn(findingCatalog, code));
    expect(stale, 'codes no longer in findings.ts').toEqual([]);
  });

  it('English (the core) and Spanish are both non-empty, with the same parameters', () => {
    for (const code of codes) {
      const english = findingCatalog[code].message;
      expect(english.trim(), code).not.toBe('');
      expect(findingsEs[code]?.trim(), code).toBeTruthy();
      expect(placeholders(findingsEs[code] ?? ''), code).toEqual(placeholders(english));
    }
  });
});

describe('every error sentence that reaches a screen has a Spanish sentence', () => {
  const english = new Map<string, string>([
    ...Object.entries(errorCatalog).map(([code, e]) => [code, e.message] as [string, string]),
    ...Object.entries(apiErrorCatalog).map(([id, e]) => [id, e.message] as [string, string]),
  ]);

  it("the app service's ids never reuse an upload error's code for another sentence", () => {
    const shared = Object.keys(apiErrorCatalog).filter((id) => Object.hasOwn(errorCatalog, id));
    expect(shared).toEqual([]);
  });

  it('one per code (main/core/errors.ts) and id (app-service/errors.ts), none stale', () => {
    const missing = [...english.keys()].filter((key) => !Object.hasOwn(errorsEs, key));
    expect(missing, 'add these to renderer/i18n/errors.es.ts').toEqual([]);
    const stale = Object.keys(errorsEs).filter(
      (key) => !english.has(key) && !RENDERER_CODES.includes(key),
    );
    expect(stale, 'codes and ids no longer in the core').toEqual([]);
  });

  it('English and Spanish are both non-empty, with the same parameters', () => {
    for (const [key, sentence] of english) {
      expect(sentence.trim(), key).not.toBe('');
      expect(errorsEs[key]?.trim(), key).toBeTruthy();
      expect(placeholders(errorsEs[key] ?? ''), key).toEqual(placeholders(sentence));
    }
  });

  it('no ApiError in main/ carries a sentence outside the catalogue', () => {
    // `new ApiError(code, 'sentence')` compiles (so work in progress builds) but is English only.
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts')) {
          const text = readFileSync(full, 'utf8');
          for (const match of text.matchAll(/new ApiError\(\s*'[^']*',\s*[`'"]/gu)) {
            const line = text.slice(0, match.index).split('\n').length;
            offenders.push(`${path.relative(ROOT, full)}:${line}`);
          }
        }
      }
    };
    walk(path.join(ROOT, 'main'));
    expect(offenders, 'use an id from apiErrorCatalog (app-service/errors.ts)').toEqual([]);
  });
});

describe('what the core sends, shown in the chosen language', () => {
  it("a finding from the core's catalogue, grouped as the scan view carries it", () => {
    const [view] = groupFindings([
      makeFinding('truncated-file', ['IMG/1']),
      makeFinding('truncated-file', ['IMG/2']),
    ]);
    setLocale('en');
    expect(findingMessage(view!)).toBe(findingCatalog['truncated-file'].message);
    setLocale('es');
    expect(findingMessage(view!)).toBe(findingsEs['truncated-file']);
    expect(findingMessage(view!)).toMatch(/^Este archivo de imagen está incompleto/u);
  });

  it("the app service's error with a count, in the locale's digits", () => {
    const body = toErrorBody(new ApiError('burned-in-unconfirmed', { count: 12_345 }));
    expect(body).toMatchObject({
      code: 'burned-in-unconfirmed',
      messageId: 'burned-in-unconfirmed',
      params: { count: 12_345 },
    });
    setLocale('en-US');
    expect(errorMessage(body)).toBe(body.message);
    expect(body.message).toContain('(12345)');
    setLocale('es');
    expect(errorMessage(body)).toMatch(
      /^Algunas de las imágenes elegidas \(12\.345\) pueden mostrar un nombre/u,
    );
  });

  it('ids that share a code keep their own sentence', () => {
    const drive = toErrorBody(new ApiError('drive-gone'));
    const folder = toErrorBody(new ApiError('path-not-found'));
    expect(drive.code).toBe('not-found');
    expect(folder.code).toBe('not-found');
    setLocale('es');
    expect(errorMessage(drive)).toBe('Esta unidad ya no está.');
    expect(errorMessage(folder)).toBe('No hay ninguna carpeta ni unidad en esta ruta.');
  });

  it("the upload path's errors by their code, the portal's own words included", () => {
    const expired = toErrorBody(new FerryError('link-expired'));
    expect(expired.messageId).toBeUndefined();
    setLocale('es');
    expect(errorMessage(expired)).toMatch(/^Este enlace de envío ha caducado\./u);
    // The portal's sentence for over-limit is shown as it is in English, translated by its code.
    const overLimit = toErrorBody(
      new FerryError('over-limit', { message: 'At most 10 images and 5.0 MB in all.' }),
    );
    expect(errorMessage(overLimit)).toBe(errorsEs['over-limit']);
    setLocale('en');
    expect(errorMessage(overLimit)).toBe('At most 10 images and 5.0 MB in all.');
  });

  it('unexpected failures and stops are catalogue sentences too', () => {
    setLocale('es');
    expect(errorMessage(toErrorBody(new Error('ENOENT /media/cdrom/PATIENT')))).toBe(
      errorsEs.unexpected,
    );
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(errorMessage(toErrorBody(abort))).toBe('Detenido.');
  });

  it('a sentence outside every catalogue stays word for word', () => {
    setLocale('es');
    expect(errorMessage({ code: 'bad-request', message: 'request.path must be a string' })).toBe(
      'request.path must be a string',
    );
    expect(findingMessage({ code: 'a-code-from-a-newer-core', message: 'As the core says.' })).toBe(
      'As the core says.',
    );
  });

  it("history's last status: why the upload stopped, until the portal has a newer word", () => {
    const error = toErrorBody(new FerryError('retries-exhausted'));
    const failed: HistoryEntry = {
      transferId: 'tr_1',
      portal: 'https://portal.example',
      provider: { name: 'Dr. Rivera', organization: 'Example Hospital' },
      startedAt: '2026-01-01T00:00:00Z',
      studies: 1,
      instances: 2,
      bytes: 10,
      state: 'failed',
      message: error.message,
      error,
      checkedAt: '2026-01-01T00:00:00Z',
    };
    setLocale('es');
    expect(historyStatus(failed)).toBe(errorsEs['retries-exhausted']);
    // transfer.status later keeps the entry (error included) with the portal's sentence.
    const checked = { ...failed, state: 'receiving', message: 'Receiving images: 1 of 2.' };
    expect(historyStatus(checked)).toBe('Recibiendo imágenes: 1 de 2.');
    setLocale('en');
    expect(historyStatus(failed)).toBe(error.message);
  });

  it("history's upload states are words in the chosen language", () => {
    setLocale('es');
    expect(portalState('done')).toBe('Se enviaron todas las imágenes.');
    expect(portalState('expired')).toBe('enlace caducado');
    expect(portalState('something-new')).toBe('something-new');
  });
});
