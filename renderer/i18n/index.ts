/**
 * A small i18n layer: one table per language with the same keys (en.ts), `{name}` parameters,
 * and ICU-style `{count, plural, one {...} other {...}}` through Intl.PluralRules. Dates, numbers
 * and sizes are formatted in the chosen locale. Spanish and the remembered choice: issue 8.
 */
import { en, type MessageKey } from './en.ts';

export type { MessageKey } from './en.ts';
export type Messages = Record<MessageKey, string>;

const catalogs: Record<string, Messages> = { en };

export type Params = Record<string, string | number>;

let locale = 'en';
let messages: Messages = en;

export function setLocale(next: string): void {
  const base = next.split('-')[0] ?? 'en';
  messages = catalogs[base] ?? en;
  locale = catalogs[base] ? next : 'en';
  // The page's language for screen readers (no document in unit tests on Node).
  const page = (globalThis as { document?: { documentElement: { lang: string } } }).document;
  if (page) page.documentElement.lang = locale;
}

export function currentLocale(): string {
  return locale;
}

const PLURAL = /\{(\w+), plural,((?:\s*(?:=\d+|zero|one|two|few|many|other)\s*\{[^{}]*\})+)\s*\}/gu;
const PLURAL_CASE = /(=\d+|zero|one|two|few|many|other)\s*\{([^{}]*)\}/gu;

export function interpolate(template: string, params: Params = {}, lang = locale): string {
  const withPlurals = template.replace(PLURAL, (_whole, name: string, cases: string) => {
    const count = Number(params[name] ?? 0);
    const options = new Map<string, string>();
    for (const match of cases.matchAll(PLURAL_CASE)) options.set(match[1] ?? '', match[2] ?? '');
    const chosen =
      options.get(`=${count}`) ??
      options.get(new Intl.PluralRules(lang).select(count)) ??
      options.get('other') ??
      '';
    return chosen.replaceAll('#', new Intl.NumberFormat(lang).format(count));
  });
  return withPlurals.replace(/\{(\w+)\}/gu, (whole, name: string) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

export function t(key: MessageKey, params?: Params): string {
  return interpolate(messages[key] ?? en[key], params);
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(locale).format(value);
}

/** Sizes in decimal units, as disc labels and the portal's sentences give them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return t('common.bytes', { count: bytes });
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: units[unit],
    unitDisplay: 'short',
    maximumFractionDigits: value < 10 && unit > 0 ? 1 : 0,
  }).format(value);
}

export function formatDuration(seconds: number): string {
  const rounded = Math.max(1, Math.round(seconds));
  if (rounded < 60) {
    return new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: 'second',
      unitDisplay: 'long',
    }).format(rounded);
  }
  const minutes = Math.round(rounded / 60);
  if (minutes < 90) {
    return new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: 'minute',
      unitDisplay: 'long',
    }).format(minutes);
  }
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: 'hour',
    unitDisplay: 'long',
    maximumFractionDigits: 1,
  }).format(rounded / 3600);
}

/** DICOM DA (YYYYMMDD) as a date in the locale; the text as is when it is not one. */
export function formatDicomDate(da: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})$/u.exec(da.trim());
  if (!match) return da.trim() === '' ? t('common.unknownDate') : da;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short' }).format(date);
}

/** DICOM PN (PS3.5 6.2: Family^Given^Middle^Prefix^Suffix, = for other representations) for reading. */
export function formatPersonName(pn: string): string {
  const alphabetic = pn.split('=')[0] ?? '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = alphabetic.split('^');
  const text = [prefix, given, middle, family]
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' ');
  const full = suffix.trim() ? `${text}, ${suffix.trim()}` : text;
  return full === '' ? t('common.unknownName') : full;
}
