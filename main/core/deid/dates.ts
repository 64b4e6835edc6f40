/**
 * Retain Longitudinal Temporal Information with Modified Dates (PS3.15 E.3.6): every date of a
 * patient moves by the same number of days, so intervals between studies stay true. Times of
 * day are kept (a whole-day shift does not change them).
 */
const dayMs = 86_400_000;

function parseDate(text: string): Date | undefined {
  const match = /^(\d{4})\.?(\d{2})\.?(\d{2})$/u.exec(text);
  if (!match) return undefined;
  const [, y, m, d] = match;
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) return undefined;
  return date;
}

function formatDate(date: Date): string {
  const y = String(date.getUTCFullYear()).padStart(4, '0');
  const m = String(date.getUTCMonth() + 1).padStart(2, '0');
  const d = String(date.getUTCDate()).padStart(2, '0');
  return `${y}${m}${d}`;
}

/** Shifts one DA value (YYYYMMDD, or the old YYYY.MM.DD); undefined when it is not a date. */
export function shiftDa(value: string, days: number): string | undefined {
  const date = parseDate(value.trim());
  if (!date) return undefined;
  return formatDate(new Date(date.getTime() + days * dayMs));
}

/**
 * Shifts one DT value (YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]). A value with only a year or a
 * month is shifted from its first day and written at the same precision.
 */
export function shiftDt(value: string, days: number): string | undefined {
  const match = /^(\d{4})(\d{2})?(\d{2})?([^&+-]*)([+-]\d{4})?$/u.exec(value.trim());
  if (!match) return undefined;
  const [, y = '', m, d, rest = '', zone = ''] = match;
  const date = parseDate(`${y}${m ?? '01'}${d ?? '01'}`);
  if (!date) return undefined;
  const shifted = formatDate(new Date(date.getTime() + days * dayMs));
  const precision = 4 + (m ? 2 : 0) + (d ? 2 : 0);
  return `${shifted.slice(0, precision)}${rest}${zone}`;
}

/** Shifts a multi-valued DA or DT value; undefined when any value is not a date. */
export function shiftValue(value: string, vr: 'DA' | 'DT', days: number): string | undefined {
  const shifted: string[] = [];
  for (const part of value.split('\\')) {
    if (part.trim() === '') {
      shifted.push('');
      continue;
    }
    const one = vr === 'DA' ? shiftDa(part, days) : shiftDt(part, days);
    if (one === undefined) return undefined;
    shifted.push(one);
  }
  return shifted.join('\\');
}
