import { describe, expect, it } from 'vitest';
import { fixTime, formatTime, localOffset, nowTime, parseTime, timestampFromNs, tryParseTime, ZERO_TIME, type Timestamp } from '../../src/tree/index.js';

const ts = (sec: number, nsec = 0, offset = 0): Timestamp => ({ sec, nsec, offset });

describe('formatTime (RFC3339Nano as Go marshals time.Time)', () => {
  it.each<[string, Timestamp, string]>([
    ['the epoch', ts(0), '1970-01-01T00:00:00Z'],
    ["Go's zero time", ZERO_TIME, '0001-01-01T00:00:00Z'],
    ["restic's documented example", ts(1420218650, 895208559, 3600), '2015-01-02T18:10:50.895208559+01:00'],
    ['trailing zeros of the fraction removed', ts(0, 500_000_000), '1970-01-01T00:00:00.5Z'],
    ['one nanosecond', ts(0, 1), '1970-01-01T00:00:00.000000001Z'],
    ['negative half-hour offset', ts(0, 0, -12600), '1969-12-31T20:30:00-03:30'],
    ['year 0', ts(-62167219200), '0000-01-01T00:00:00Z'],
    ['the last representable instant', ts(253402300799, 999_999_999), '9999-12-31T23:59:59.999999999Z'],
    ['a leap day', ts(951782400), '2000-02-29T00:00:00Z'],
    // Go drops the seconds of an offset (historic local mean times) but uses them for the clock.
    ['offset with seconds', ts(-2208988800, 0, 1172), '1900-01-01T00:19:32+00:19'],
    ['an offset under a minute is +00:00, not Z', ts(0, 0, 30), '1970-01-01T00:00:30+00:00'],
    ['a negative offset under a minute is +00:00', ts(0, 0, -30), '1969-12-31T23:59:30+00:00'],
  ])('%s', (_label, t, text) => {
    expect(formatTime(t)).toBe(text);
  });

  it('refuses years outside 0..9999 and malformed timestamps', () => {
    expect(() => formatTime(ts(253402300800))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => formatTime(ts(-62167219201))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => formatTime(ts(0, 1e9))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => formatTime(ts(0.5))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe("fixTime (restic's FixTime)", () => {
  it('moves the year into 0..9999 and leaves other times alone', () => {
    const t = ts(1420218650, 5, 3600);
    expect(fixTime(t)).toBe(t);
    // 10000-02-29T12:00:00Z (10000 is a leap year) becomes 9999-03-01 (AddDate normalizes).
    const leap = parseTime('2000-02-29T12:00:00Z');
    const y10000 = ts(leap.sec + (253402300800 - 946684800), 7);
    expect(formatTime(fixTime(y10000))).toBe('9999-03-01T12:00:00.000000007Z');
    // -0001-06-15T00:00:00+02:00 becomes 0000-06-15T00:00:00+02:00.
    const minus1 = ts(parseTime('0000-06-15T00:00:00+02:00').sec - 366 * 86400, 0, 7200);
    expect(formatTime(fixTime(minus1))).toBe('0000-06-15T00:00:00+02:00');
  });
});

describe('parseTime (Go 1.19 time.Parse with RFC3339)', () => {
  it.each<[string, Timestamp]>([
    ['2015-01-02T18:10:50.895208559+01:00', ts(1420218650, 895208559, 3600)],
    ['1970-01-01T00:00:00Z', ts(0)],
    ['1970-01-01T00:00:00+00:00', ts(0)],
    ['1970-01-01T00:00:00-00:00', ts(0)],
    ['1970-01-01T00:00:00,25Z', ts(0, 250_000_000)],
    ['1970-01-01T00:00:00.1234567891234Z', ts(0, 123_456_789)],
    ['1970-01-01T5:00:00Z', ts(5 * 3600)],
    ['1970-01-02T00:00:00+24:00', ts(0, 0, 86400)],
    ['2016-02-29T00:00:00Z', ts(1456704000)],
    ['0000-01-01T00:00:00Z', ts(-62167219200)],
  ])('%s', (text, t) => {
    expect(parseTime(text)).toEqual(t);
    expect(tryParseTime(text)).toEqual(t);
  });

  it.each([
    '',
    '2015-02-29T00:00:00Z',
    '2015-04-31T00:00:00Z',
    '2015-13-01T00:00:00Z',
    '2015-00-01T00:00:00Z',
    '2015-01-00T00:00:00Z',
    '2015-01-01T24:00:00Z',
    '2015-01-01T00:60:00Z',
    '2015-01-01T00:00:60Z',
    '2015-01-01t00:00:00Z',
    '2015-01-01T00:00:00z',
    '2015-01-01T00:00:00',
    '2015-01-01T00:00:00.Z',
    '2015-01-01T00:00:00+25:00',
    '2015-01-01T00:00:00+01:61',
    '2015-01-01T00:00:00+0100',
    '2015-01-01T00:00:00Z ',
    '+015-01-01T00:00:00Z',
    '2015-1-01T00:00:00Z',
    '2015-01-01 00:00:00Z',
  ])('refuses %j', (text) => {
    expect(tryParseTime(text)).toBeUndefined();
    expect(() => parseTime(text, 'lock time')).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT', message: expect.stringMatching(/^lock time: /) }));
  });
});

describe('clock helpers', () => {
  it('timestampFromNs splits nanoseconds (negative ones too) and uses the local offset', () => {
    expect(timestampFromNs(1_420_218_650_895_208_559n)).toEqual({ sec: 1420218650, nsec: 895208559, offset: localOffset(1420218650) });
    expect(timestampFromNs(-1n)).toMatchObject({ sec: -1, nsec: 999_999_999 });
  });

  it('nowTime is now, in the local zone', () => {
    const t = nowTime();
    expect(Math.abs(t.sec * 1000 + t.nsec / 1e6 - Date.now())).toBeLessThan(1000);
    expect(t.offset).toBe(-new Date().getTimezoneOffset() * 60 || 0);
  });

  it('localOffset follows the TZ environment (restic writes local time)', () => {
    expect(Number.isInteger(localOffset(0))).toBe(true);
  });
});
