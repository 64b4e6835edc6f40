/** Spanish: the same keys as English, nothing left empty, and the portal's fixed sentences. */
import { afterEach, describe, expect, it } from 'vitest';
import { en } from '../../renderer/i18n/en.ts';
import { es } from '../../renderer/i18n/es.ts';
import {
  chooseLanguage,
  currentLanguage,
  formatBytes,
  formatDicomDate,
  initialLocale,
  portalSentence,
  portalState,
  setLocale,
  t,
} from '../../renderer/i18n/index.ts';

const PLACEHOLDER = /\{(\w+)[,}]/gu;
const placeholders = (text: string): string[] =>
  [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').sort();

afterEach(() => {
  setLocale('en');
  delete (globalThis as { localStorage?: unknown }).localStorage;
});

describe('Spanish catalogue', () => {
  it('has exactly the keys of en.ts', () => {
    expect(Object.keys(es).sort()).toEqual(Object.keys(en).sort());
  });

  it('has no empty strings', () => {
    for (const [key, value] of Object.entries(es)) {
      expect(value.trim(), key).not.toBe('');
    }
  });

  it('keeps the same parameters as English', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(es[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it('formats plurals, dates and sizes in Spanish', () => {
    setLocale('es');
    expect(t('common.images', { count: 1 })).toBe('1 imagen');
    expect(t('common.images', { count: 12000 })).toMatch(/^12.000 imágenes$/u);
    expect(formatDicomDate('20240315')).toBe('15 de marzo de 2024');
    expect(formatBytes(1_500_000)).toMatch(/^1,5\sMB$/u);
  });
});

describe('language choice', () => {
  it('is remembered in localStorage and preferred over the system language', () => {
    const items = new Map<string, string>();
    (globalThis as { localStorage?: unknown }).localStorage = {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
    };
    expect(initialLocale('en-GB')).toBe('en-GB');
    chooseLanguage('es');
    expect(currentLanguage()).toBe('es');
    expect(t('status.title')).toBe('Estado del envío');
    expect(initialLocale('en-GB')).toBe('es');
  });

  it('follows the system language when nothing was chosen', () => {
    expect(initialLocale('es-MX')).toBe('es-MX');
    setLocale('es-MX');
    expect(currentLanguage()).toBe('es');
  });
});

describe("portal's sentences", () => {
  it('stay word for word in English', () => {
    setLocale('en');
    expect(portalSentence('Receiving images: 3 of 6.')).toBe('Receiving images: 3 of 6.');
  });

  it('are translated when they are fixed phrases', () => {
    setLocale('es');
    expect(portalSentence('Transfer started.')).toBe('Envío iniciado.');
    expect(portalSentence('Transfer started: 6 images in 1 study (1.2 MB) to send.')).toBe(
      'Envío iniciado: 6 imágenes en 1 estudio (1,2 MB) por enviar.',
    );
    expect(portalSentence('Receiving images: 3 of 6.')).toBe('Recibiendo imágenes: 3 de 6.');
    expect(portalSentence('All 6 images were received.')).toBe(
      'Se recibieron todas las imágenes (6 imágenes).',
    );
    expect(portalSentence("Checking that every image is stored in the hospital's archive.")).toBe(
      'Comprobando que cada imagen está guardada en el archivo del hospital.',
    );
    expect(portalSentence('The images are available to Dr. Rivera (Radiology).')).toBe(
      'Las imágenes están disponibles para Dr. Rivera (Radiology).',
    );
    expect(
      portalSentence(
        'The upload link expired before the transfer was finished. The 2 images already received are kept. Ask the hospital for a new link to send the rest.',
      ),
    ).toBe(
      'El enlace de envío caducó antes de terminar el envío. Las imágenes ya recibidas (2 imágenes) se conservan. Pida al hospital un enlace nuevo para enviar el resto.',
    );
    expect(portalSentence('The transfer failed: disk full.')).toBe(
      'The transfer failed: disk full.',
    );
    expect(portalState('available')).toBe('disponible');
    expect(portalState('something-new')).toBe('something-new');
  });
});
