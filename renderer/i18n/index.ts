/**
 * A small i18n layer: one table per language with the same keys (en.ts), `{name}` parameters,
 * and ICU-style `{count, plural, one {...} other {...}}` through Intl.PluralRules. Dates, numbers
 * and sizes are formatted in the chosen locale. The user's choice is remembered in localStorage.
 */
import type { ApiErrorBody, HistoryEntry, ImageRenderView } from '../types.ts';
import { en, type MessageKey } from './en.ts';
import { deidReasonsEs } from './deid.es.ts';
import { errorsEs } from './errors.es.ts';
import { es } from './es.ts';
import { findingsEs } from './findings.es.ts';
import { imagingEs } from './imaging.es.ts';

export type { MessageKey } from './en.ts';
export type Messages = Record<MessageKey, string>;

const catalogs: Record<string, Messages> = { en, es };

/** The languages the app offers, in the order the switch lists them. */
export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = 'ferry.language';

interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function storage(): KeyValueStorage | undefined {
  try {
    return (globalThis as { localStorage?: KeyValueStorage }).localStorage;
  } catch {
    return undefined; // storage blocked by the browser's settings
  }
}

export type Params = Record<string, string | number>;

let locale = 'en';
let messages: Messages = en;

export function setLocale(next: string): void {
  const base = next.split('-')[0] ?? 'en';
  messages = catalogs[base] ?? en;
  locale = catalogs[base] ? next : 'en';
  // The page's language for screen readers, and its title (no document in unit tests on Node).
  const page = (globalThis as { document?: { documentElement: { lang: string }; title: string } })
    .document;
  if (page) {
    page.documentElement.lang = locale;
    page.title = t('app.title');
  }
}

export function currentLocale(): string {
  return locale;
}

/** The language of the current locale, one of LANGUAGES. */
export function currentLanguage(): Language {
  const base = locale.split('-')[0];
  return (LANGUAGES as readonly string[]).includes(base ?? '') ? (base as Language) : 'en';
}

/** The remembered choice, else the system's language (navigator.language). */
export function initialLocale(systemLocale: string): string {
  let saved: string | null | undefined;
  try {
    saved = storage()?.getItem(STORAGE_KEY);
  } catch {
    saved = undefined;
  }
  return saved && catalogs[saved] ? saved : systemLocale || 'en';
}

/** Switches the language and remembers the choice for the next start. */
export function chooseLanguage(language: Language): void {
  setLocale(language);
  try {
    storage()?.setItem(STORAGE_KEY, language);
  } catch {
    // Not remembered when storage is blocked; the switch still applies now.
  }
}

/**
 * Front desk: the next person starts in the computer's language, and the last person's choice
 * is not remembered for the next start either.
 */
export function forgetLanguage(systemLocale: string): void {
  try {
    storage()?.removeItem(STORAGE_KEY);
  } catch {
    // Storage blocked: nothing was remembered.
  }
  setLocale(systemLocale || 'en');
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

const images = (count: string): string => t('common.images', { count: Number(count) });
const ask = (organization: string): string =>
  organization === 'the hospital'
    ? t('portal.askHospital')
    : t('portal.askOrganization', { organization });
const kept = (count: string | undefined): string =>
  count === undefined ? '' : t('portal.kept', { images: images(count) });

/** A size as the portal writes it (main/core/util/format.ts: "1.5 MB"), its number in the locale. */
function portalSize(size: string): string {
  const match = /^(\d+)(?:\.(\d+))? ([kMGT]?B)$/u.exec(size);
  if (!match) return size;
  const digits = match[2]?.length ?? 0;
  const value = Number(`${match[1]}.${match[2] ?? '0'}`);
  const number = new Intl.NumberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
  return `${number} ${match[3]}`;
}

/**
 * The portal's fixed sentences (portal/status.ts) in the chosen language; a sentence that carries
 * free text from the hospital (a reason) or is not known stays word for word as the portal wrote it.
 */
const PORTAL_SENTENCES: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/^Transfer started\.$/u, () => t('portal.started')],
  [
    /^Transfer started: (\d+) images? in (\d+) stud(?:y|ies) \(([^)]*)\) to send\.$/u,
    (m) =>
      t('portal.startedWith', {
        images: images(m[1]!),
        studies: t('common.studies', { count: Number(m[2]) }),
        size: portalSize(m[3]!),
      }),
  ],
  [
    /^Receiving images: (\d+) received so far\.$/u,
    (m) => t('portal.receivingSoFar', { received: formatNumber(Number(m[1])) }),
  ],
  [
    /^Receiving images: (\d+) of (\d+)\.$/u,
    (m) =>
      t('portal.receiving', {
        received: formatNumber(Number(m[1])),
        expected: formatNumber(Number(m[2])),
      }),
  ],
  [
    /^All (\d+) images? were received\.$/u,
    (m) => t('portal.receivedAll', { images: images(m[1]!) }),
  ],
  [
    /^(\d+) of (\d+) images were received; the sender finished without the others\.$/u,
    (m) =>
      t('portal.receivedPartial', {
        received: formatNumber(Number(m[1])),
        expected: formatNumber(Number(m[2])),
      }),
  ],
  [
    /^Checking that every image is stored in the hospital.s archive\.$/u,
    () => t('portal.verifying'),
  ],
  [/^The images are available to (.+)\.$/u, (m) => t('portal.available', { provider: m[1]! })],
  [
    /^The transfer failed: the portal could not store the images\.$/u,
    () => t('portal.failedDefault'),
  ],
  [
    /^The upload link expired before the transfer was finished\. (?:The (\d+) images? already received are kept\. )?Ask (.+) for a new link to send the rest\.$/u,
    (m) => t('portal.expired', { kept: kept(m[1]), ask: ask(m[2]!) }),
  ],
  [
    /^The upload link was revoked by the hospital\. (?:The (\d+) images? already received are kept\. )?Ask (.+) for a new link if you still need to send images\.$/u,
    (m) => t('portal.revoked', { kept: kept(m[1]), ask: ask(m[2]!) }),
  ],
];

export function portalSentence(message: string): string {
  if (currentLanguage() === 'en') return message;
  for (const [pattern, translate] of PORTAL_SENTENCES) {
    const match = pattern.exec(message);
    if (match) return translate(match);
  }
  return message;
}

/**
 * A transfer state word (history's last status when the portal gave no sentence): the portal's
 * state, else the upload's own (sending, done...) while the portal has not named one.
 */
export function portalState(state: string): string {
  for (const key of [`portal.state.${state}`, `upload.state.${state}`]) {
    if (Object.hasOwn(en, key)) return t(key as MessageKey);
  }
  return state;
}

/**
 * The core's sentences (findings, errors) in other languages, keyed by code; English is the
 * core's own sentence, so a code without a translation still shows in plain English.
 */
const findingTables: Partial<Record<Language, Readonly<Record<string, string>>>> = {
  es: findingsEs,
};
const errorTables: Partial<Record<Language, Readonly<Record<string, string>>>> = { es: errorsEs };

function coreSentence(
  tables: Partial<Record<Language, Readonly<Record<string, string>>>>,
  key: string,
  english: string,
  params: Readonly<Record<string, string | number>> = {},
): string {
  const language = currentLanguage();
  const table = language === 'en' ? undefined : tables[language];
  if (!table || !Object.hasOwn(table, key)) return english;
  const local: Params = {};
  for (const [name, value] of Object.entries(params)) {
    local[name] = typeof value === 'number' ? formatNumber(value) : value;
  }
  return interpolate(table[key]!, local);
}

/** A finding's plain sentence (main/core/findings.ts) in the chosen language. */
export function findingMessage(finding: {
  readonly code: string;
  readonly message: string;
}): string {
  return coreSentence(findingTables, finding.code, finding.message);
}

/**
 * An error's plain sentence in the chosen language: the app service's by its messageId, the
 * upload path's by its code (main/core/errors.ts), else the core's English word for word.
 */
export function errorMessage(error: ApiErrorBody): string {
  return coreSentence(
    errorTables,
    error.messageId ?? error.code,
    error.message,
    localParams(error),
  );
}

const deidReasonTables: Partial<Record<Language, Readonly<Record<string, string>>>> = {
  es: deidReasonsEs,
};

/** A "not sent" error's reason is the core's English words: put the translated reason in. */
function localParams(error: ApiErrorBody): ApiErrorBody['params'] {
  const params = error.params;
  const why = params?.['why'];
  if (error.messageId !== 'not-sent' || typeof why !== 'string') return params;
  const table = deidReasonTables[currentLanguage()];
  return table && Object.hasOwn(table, why) ? { ...params, reason: table[why]! } : params;
}

const imagingTables: Partial<Record<Language, Readonly<Record<string, string>>>> = {
  es: imagingEs,
};

/** Why the image view cannot show an image, in the chosen language (the core's words in English). */
export function unrenderableReason(
  view: Extract<ImageRenderView, { kind: 'unrenderable' }>,
): string {
  if (view.why?.kind === 'error') return errorMessage(view.why.error);
  if (view.why?.kind === 'imaging') return coreSentence(imagingTables, view.why.code, view.reason);
  return view.reason;
}

/** A past transfer's last status: the portal's word, or why the upload stopped, or its state. */
export function historyStatus(entry: HistoryEntry): string {
  if (entry.error && entry.error.message === entry.message) return errorMessage(entry.error);
  return entry.message ? portalSentence(entry.message) : portalState(entry.state);
}
