/**
 * RFC 3339 properties (seeded): over Go's whole year range and every whole-minute offset up to
 * ±24:59, parseTime inverts formatTime, the text has Go's shape, and the UTC clock agrees with
 * JavaScript's own Date.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareTime, formatTime, parseTime } from '../../src/tree/index.js';
import { timeArb } from './arbitraries.js';

const SEED = 20261124;

describe('RFC3339Nano', () => {
  it('parseTime(formatTime(t)) = t', () => {
    fc.assert(
      fc.property(timeArb, (t) => {
        const text = formatTime(t);
        expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?(Z|[+-]\d\d:[0-5]\d)$/);
        expect(parseTime(text)).toEqual(t);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('writes the same UTC clock as Date, and orders like the instants', () => {
    fc.assert(
      fc.property(timeArb, timeArb, (a, b) => {
        const utc = formatTime({ ...a, offset: 0 });
        expect(utc.slice(0, 19)).toBe(new Date(a.sec * 1000).toISOString().slice(0, 19));
        expect(Math.sign(compareTime(a, b))).toBe(Math.sign(a.sec - b.sec || a.nsec - b.nsec));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
