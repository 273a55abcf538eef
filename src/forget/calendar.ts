/**
 * The calendar arithmetic restic's retention policy relies on, done the way Go's time package
 * does it for a time with a fixed UTC offset:
 *
 * - `wallClock(t)`: year, month, day and hour of `t` as read on a clock set to `t`'s own stored
 *   offset (Go's t.Date() and t.Hour() for a time parsed from RFC 3339).
 * - `isoWeek(t)`: Go's t.ISOWeek(): weeks start on Monday, week 1 is the week holding the year's
 *   first Thursday, so 29–31 December can belong to week 1 of the next year and 1–3 January to
 *   week 52 or 53 of the previous one.
 * - `addDate(t, y, m, d)`: Go's t.AddDate(y, m, d): the wall-clock date gets y years, m months
 *   and d days added, then is normalised like time.Date does (month overflow carries into the
 *   year, then the day count runs on from the first of the month, so 31 March minus one month is
 *   "31 February" = 3 March, or 2 March in a leap year); the time of day and the offset stay.
 *
 * Proleptic Gregorian calendar for every year, including year 0 and negative years (which the
 * zero time 0001-01-01 reaches when a duration is subtracted from it).
 */
import type { Timestamp } from '../tree/index.js';
import { civilFromDays, daysFromCivil } from '../util/index.js';

const DAY = 86400;

/** The wall clock of a time in its own offset. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  /** The wall-clock date as days since 1970-01-01. */
  readonly dayNumber: number;
  /** Seconds since the wall-clock midnight. */
  readonly secondOfDay: number;
}

export function wallClock(t: Timestamp): WallClock {
  const wall = t.sec + t.offset;
  const dayNumber = Math.floor(wall / DAY);
  const secondOfDay = wall - dayNumber * DAY;
  const [year, month, day] = civilFromDays(dayNumber);
  return { year, month, day, hour: Math.floor(secondOfDay / 3600), dayNumber, secondOfDay };
}

/** Go's ISOWeek of `t`'s wall-clock date: [ISO year, week 1..53]. */
export function isoWeek(t: Timestamp): [number, number] {
  const { dayNumber } = wallClock(t);
  const weekday = (((dayNumber + 3) % 7) + 7) % 7; // Monday 0 … Sunday 6 (1970-01-01 was a Thursday)
  const thursday = dayNumber - weekday + 3;
  const [year] = civilFromDays(thursday);
  const dayOfYear = thursday - daysFromCivil(year, 1, 1);
  return [year, Math.floor(dayOfYear / 7) + 1];
}

/** Go's t.AddDate(years, months, days) for a time with a fixed offset (see the file comment). */
export function addDate(t: Timestamp, years: number, months: number, days: number): Timestamp {
  const w = wallClock(t);
  let month0 = w.month - 1 + months;
  const year = w.year + years + Math.floor(month0 / 12);
  month0 = ((month0 % 12) + 12) % 12;
  const dayNumber = daysFromCivil(year, month0 + 1, 1) + (w.day - 1 + days);
  return { sec: dayNumber * DAY + w.secondOfDay - t.offset, nsec: t.nsec, offset: t.offset };
}
