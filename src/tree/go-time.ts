/**
 * Go's time.Time in restic's JSON: RFC3339Nano (`2006-01-02T15:04:05.999999999Z07:00`).
 *
 * Formatting writes the wall clock of the stored offset, the fraction without trailing zeros (no
 * fraction when it is zero), and `Z` for offset 0, otherwise `±hh:mm` (the seconds of an offset
 * are dropped, as Go drops them). Years must be 0..9999: Go refuses to marshal others, and restic
 * moves a node's out-of-range year into range first (`fixTime`).
 *
 * Parsing follows Go 1.19's time.Parse with the RFC3339 layout (what restic 0.14 runs): four-digit
 * year, two-digit month, day, minute and second, a one- or two-digit hour, an optional fraction
 * after `.` or `,` of any length (digits past the ninth are dropped), then `Z` or `±hh:mm`
 * (hh <= 24, mm <= 60). Calendar dates are checked (no February 30th; second 60 is refused).
 * `parseTime` throws ERR_CORRUPT, `tryParseTime` returns undefined.
 *
 * Clock helpers: `nowTime` and `timestampFromNs` give times in the local zone's offset, as
 * restic's time.Now() and time.Unix() do (restic writes local time).
 */
import { CairnError } from '../errors.js';
import type { Timestamp } from './types.js';
import { civilFromDays, daysFromCivil, describeValue } from '../util/index.js';

/** Go's zero time.Time, 0001-01-01T00:00:00Z: what restic writes for a time it does not know. */
export const ZERO_TIME: Timestamp = Object.freeze({ sec: -62135596800, nsec: 0, offset: 0 });

const DAY = 86400;

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysIn(m: number, y: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function pad(v: number, width: number): string {
  const s = String(v);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/** Checks the shape of a Timestamp (integers, nsec in range); throws ERR_INVALID_ARGUMENT. */
export function checkTimestamp(t: Timestamp, what = 'timestamp'): void {
  if (
    !Number.isSafeInteger(t.sec) ||
    !Number.isInteger(t.nsec) ||
    t.nsec < 0 ||
    t.nsec > 999_999_999 ||
    !Number.isInteger(t.offset) ||
    Math.abs(t.offset) >= 100 * 3600
  ) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${what} is not a valid time: ${JSON.stringify(t)}`, { data: { what } });
  }
}

/** The local calendar year of `t` (in its own offset). */
export function yearOf(t: Timestamp): number {
  return civilFromDays(Math.floor((t.sec + t.offset) / DAY))[0];
}

/**
 * RFC3339Nano as Go's time.Time.MarshalJSON writes it (without the JSON quotes). Throws
 * ERR_INVALID_ARGUMENT for a year outside 0..9999 or a malformed Timestamp.
 */
export function formatTime(t: Timestamp): string {
  checkTimestamp(t);
  const wall = t.sec + t.offset;
  const days = Math.floor(wall / DAY);
  const sod = wall - days * DAY;
  const [y, m, d] = civilFromDays(days);
  if (y < 0 || y > 9999) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `year ${y} is outside 0..9999 and cannot be written as RFC 3339`, {
      data: { year: y },
    });
  }
  let s = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(Math.floor(sod / 3600), 2)}:${pad(Math.floor(sod / 60) % 60, 2)}:${pad(sod % 60, 2)}`;
  if (t.nsec !== 0) s += '.' + pad(t.nsec, 9).replace(/0+$/, '');
  if (t.offset === 0) return s + 'Z';
  // Go truncates the offset to whole minutes toward zero, then prints the sign of that.
  let zone = Math.trunc(t.offset / 60);
  let sign = '+';
  if (zone < 0) {
    sign = '-';
    zone = -zone;
  }
  return s + sign + pad(Math.floor(zone / 60), 2) + ':' + pad(zone % 60, 2);
}

/**
 * restic's FixTime: a time whose local year is below 0 or above 9999 gets year 0 or 9999 (via
 * Go's AddDate, so February 29th of a year that is not leap becomes March 1st); other times are
 * returned unchanged.
 */
export function fixTime(t: Timestamp): Timestamp {
  const wall = t.sec + t.offset;
  const days = Math.floor(wall / DAY);
  const sod = wall - days * DAY;
  const [y, m, d] = civilFromDays(days);
  if (y >= 0 && y <= 9999) return t;
  const target = y < 0 ? 0 : 9999;
  // Date(target, m, d, ...) normalizes day overflow into the next month.
  const newDays = daysFromCivil(target, m, 1) + (d - 1);
  return { sec: newDays * DAY + sod - t.offset, nsec: t.nsec, offset: t.offset };
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(at + i) - 0x30;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses RFC 3339 text as Go 1.19's time.Parse(time.RFC3339, …) does (see the file comment).
 * Throws ERR_CORRUPT (naming `what`) when Go would refuse it.
 */
export function parseTime(s: string, what = 'time'): Timestamp {
  const t = tryParseTime(s);
  if (t === undefined) {
    throw new CairnError('ERR_CORRUPT', `${what}: ${describeValue(s)} is not an RFC 3339 time`, { data: { what, value: s.slice(0, 60) } });
  }
  return t;
}

/** parseTime, returning undefined instead of throwing. */
export function tryParseTime(s: string): Timestamp | undefined {
  // yyyy-mm-ddTh[h]:mm:ss
  const year = digits(s, 0, 4);
  if (year < 0 || s.charCodeAt(4) !== 0x2d) return undefined;
  const month = digits(s, 5, 2);
  if (month < 1 || month > 12 || s.charCodeAt(7) !== 0x2d) return undefined;
  const day = digits(s, 8, 2);
  if (day < 1 || s.charCodeAt(10) !== 0x54) return undefined;
  let p = 11;
  let hour = digits(s, p, 2);
  if (hour >= 0) p += 2;
  else {
    hour = digits(s, p, 1);
    if (hour < 0) return undefined;
    p += 1;
  }
  if (hour > 23 || s.charCodeAt(p) !== 0x3a) return undefined;
  const minute = digits(s, p + 1, 2);
  if (minute < 0 || minute > 59 || s.charCodeAt(p + 3) !== 0x3a) return undefined;
  const second = digits(s, p + 4, 2);
  if (second < 0 || second > 59) return undefined;
  p += 6;
  let nsec = 0;
  const sep = s.charCodeAt(p);
  if ((sep === 0x2e || sep === 0x2c) && isDigitAt(s, p + 1)) {
    let q = p + 1;
    while (isDigitAt(s, q)) q++;
    const frac = s.slice(p + 1, Math.min(q, p + 10));
    nsec = Number(frac) * 10 ** (9 - frac.length);
    p = q;
  }
  let offset: number;
  if (s.charCodeAt(p) === 0x5a) {
    offset = 0;
    p += 1;
  } else {
    const sign = s.charCodeAt(p);
    if (sign !== 0x2b && sign !== 0x2d) return undefined;
    const oh = digits(s, p + 1, 2);
    const om = digits(s, p + 4, 2);
    if (oh < 0 || om < 0 || s.charCodeAt(p + 3) !== 0x3a || oh > 24 || om > 60) return undefined;
    offset = (oh * 60 + om) * 60;
    if (sign === 0x2d && offset !== 0) offset = -offset;
    p += 6;
  }
  if (p !== s.length) return undefined;
  if (day > daysIn(month, year)) return undefined;
  const sec = daysFromCivil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset;
  return { sec, nsec, offset };
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** Orders two times by instant (offset ignored): negative, zero or positive. */
export function compareTime(a: Timestamp, b: Timestamp): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}

/** The UTC offset (seconds east) of the local time zone at Unix second `sec`. */
export function localOffset(sec: number): number {
  const minutes = new Date(sec * 1000).getTimezoneOffset();
  return Number.isFinite(minutes) ? -Math.round(minutes * 60) || 0 : 0;
}

/**
 * A Timestamp for `ns` nanoseconds since the epoch (as fs.Stats gives with `bigint: true`), in
 * the local time zone's offset at that instant, as Go's time.Unix gives it to restic.
 */
export function timestampFromNs(ns: bigint): Timestamp {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  const s = Number(sec);
  return { sec: s, nsec: Number(nsec), offset: localOffset(s) };
}

/** Now, to the microsecond, with the local offset (restic's time.Now()). */
export function nowTime(): Timestamp {
  const us = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  return timestampFromNs(us * 1000n);
}
