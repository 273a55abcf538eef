/**
 * restic's calendar durations for `--keep-within*`: `1y5m7d2h` = 1 year, 5 months, 7 days and
 * 2 hours. Each part is a decimal number followed by its unit (`y`, `m` for months, `d`, `h`);
 * parts may come in any order and a repeated unit replaces the earlier value (as restic reads
 * it); surrounding white space is ignored, and the empty string is the zero duration, which
 * switches the rule off. Written back (`formatDuration`) as restic prints it: the non-zero parts
 * in the order y, m, d, h.
 *
 * Unlike restic 0.14, which accepts a minus sign (`-1d`, meaning a point after the newest
 * snapshot) and overflows on huge numbers, cairn refuses negative parts and parts above
 * MAX_DURATION_PART with ERR_INVALID_ARGUMENT.
 */
import { CairnError } from '../errors.js';

export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

export const ZERO_DURATION: Duration = Object.freeze({ years: 0, months: 0, days: 0, hours: 0 });

/** The largest number one part of a duration may have (a million hours is 114 years). */
export const MAX_DURATION_PART = 1_000_000;

const UNITS = { y: 'years', m: 'months', d: 'days', h: 'hours' } as const;

/**
 * Parses `1y5m7d2h`. Throws ERR_INVALID_ARGUMENT naming `what` (e.g. `--keep-within`) when the
 * text is not such a duration.
 */
export function parseDuration(text: string, what = 'duration'): Duration {
  const s = text.trim();
  const d: { -readonly [K in keyof Duration]: number } = { years: 0, months: 0, days: 0, hours: 0 };
  const bad = (why: string): CairnError =>
    new CairnError('ERR_INVALID_ARGUMENT', `${what}: "${text}" is not a duration (${why}); write it like 1y5m7d2h (years, months, days, hours)`, {
      data: { what, value: text },
    });
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    if (i === start) {
      throw bad(s[i] === '-' ? 'negative values are not allowed' : `expected a number at "${s.slice(start)}"`);
    }
    const digits = s.slice(start, i);
    const unit = s[i];
    if (unit === undefined) throw bad(`no unit after ${digits}`);
    const field = (UNITS as Record<string, keyof Duration | undefined>)[unit];
    if (field === undefined) throw bad(`unknown unit "${unit}" after ${digits}; units are y, m, d, h`);
    const n = Number(digits);
    if (n > MAX_DURATION_PART) throw bad(`${digits}${unit} is too large (at most ${MAX_DURATION_PART})`);
    d[field] = n;
    i++;
  }
  return d;
}

/** True when every part is 0 (the rule is off). */
export function isZeroDuration(d: Duration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;
}

/** The duration as restic prints it: `1y5m7d2h`, zero parts left out (`""` for zero). */
export function formatDuration(d: Duration): string {
  let s = '';
  if (d.years !== 0) s += `${d.years}y`;
  if (d.months !== 0) s += `${d.months}m`;
  if (d.days !== 0) s += `${d.days}d`;
  if (d.hours !== 0) s += `${d.hours}h`;
  return s;
}
