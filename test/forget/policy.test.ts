/**
 * The retention policy on hand-made histories: what restic 0.14 decides, worked out from its
 * rules (the oracle test, forget-restic.prop.test.ts, checks many more against restic itself).
 * Times are written as RFC 3339 text with their own UTC offset, as snapshots store them.
 */
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import {
  addDate, applyPolicy, describePolicy, formatDuration, formatForgetJson, groupSnapshots, isEmptyPolicy, isoWeek, parseDuration, parseGroupBy,
  planForget, type ForgetPolicy,
} from '../../src/forget/index.js';
import { hashId, type SnapshotId, type TreeId } from '../../src/model/index.js';
import type { Snapshot, SnapshotEntry } from '../../src/snapshot/index.js';
import { formatTime, parseTime } from '../../src/tree/index.js';

const TREE = hashId(new TextEncoder().encode('tree')) as TreeId;
const NOW = parseTime('2030-01-01T00:00:00Z');
let counter = 0;

function snap(time: string, s: Partial<Snapshot> = {}): SnapshotEntry {
  counter++;
  return { id: hashId(new TextEncoder().encode(`${time}/${counter}`)) as SnapshotId, snapshot: { time: parseTime(time), tree: TREE, paths: ['/data'], hostname: 'h', ...s } };
}

/** Applies the policy; returns the kept snapshots' times (newest first) with their reasons. */
function kept(list: SnapshotEntry[], policy: ForgetPolicy, now = NOW): [string, string[]][] {
  const r = applyPolicy(list, policy, { now });
  return r.reasons.map((x) => [formatTime(x.entry.snapshot.time), [...x.matches]]);
}

function throwsCode(fn: () => unknown, code: string): string {
  try {
    fn();
  } catch (e) {
    expect(isCairnError(e) ? e.code : e).toBe(code);
    return (e as Error).message;
  }
  throw new Error(`expected ${code}`);
}

describe('counted buckets', () => {
  it('keeps the newest snapshot of each day, counting down, with reasons and counters', () => {
    const list = [
      snap('2022-01-01T10:00:00Z'),
      snap('2022-01-02T09:00:00Z'),
      snap('2022-01-02T21:00:00Z'),
      snap('2022-01-03T08:00:00Z'),
      snap('2022-01-04T08:00:00Z'),
    ];
    const r = applyPolicy(list, { keepLast: 1, keepDaily: 3 }, { now: NOW });
    expect(r.reasons.map((x) => [formatTime(x.entry.snapshot.time), x.matches, x.counters.last, x.counters.daily])).toEqual([
      ['2022-01-04T08:00:00Z', ['last snapshot', 'daily snapshot'], 0, 2],
      ['2022-01-03T08:00:00Z', ['daily snapshot'], 0, 1],
      ['2022-01-02T21:00:00Z', ['daily snapshot'], 0, 0],
    ]);
    expect(r.remove.map((e) => formatTime(e.snapshot.time))).toEqual(['2022-01-02T09:00:00Z', '2022-01-01T10:00:00Z']);
  });

  it('reads days on the wall clock of each snapshot\'s own offset, not UTC', () => {
    // The same instant, 05:00 UTC: 15:00 on the 15th in +10:00, 19:00 on the 14th in -10:00.
    const a = snap('2022-06-15T15:00:00+10:00');
    const b = snap('2022-06-14T19:00:00-10:00');
    expect(kept([a, b], { keepDaily: 5 })).toHaveLength(2);
    // In UTC both are June 15th, so a UTC reading would keep one.
    const c = snap('2022-06-15T05:00:00Z');
    const d = snap('2022-06-15T05:00:00Z');
    expect(kept([c, d], { keepDaily: 5 })).toHaveLength(1);
    // Two instants 2 hours apart, one calendar day in UTC, two days on their own clocks.
    const e = snap('2022-06-15T23:30:00+01:00'); // 22:30Z on the 15th
    const f = snap('2022-06-16T00:30:00+01:00'); // 23:30Z on the 15th
    expect(kept([e, f], { keepDaily: 5 }).map(([t]) => t)).toEqual(['2022-06-16T00:30:00+01:00', '2022-06-15T23:30:00+01:00']);
    expect(kept([snap('2022-06-15T22:30:00Z'), snap('2022-06-15T23:30:00Z')], { keepDaily: 5 })).toHaveLength(1);
  });

  it('hours with half-hour offsets are the local hours', () => {
    // 10:50 and 11:10 in +05:30 are two hours there, one hour (05:20, 05:40) in UTC.
    expect(kept([snap('2022-06-15T10:50:00+05:30'), snap('2022-06-15T11:10:00+05:30')], { keepHourly: 5 })).toHaveLength(2);
  });

  it('weeks are ISO weeks, with week 53 and years that start in the previous December', () => {
    expect(isoWeek(parseTime('2020-12-31T12:00:00Z'))).toEqual([2020, 53]);
    expect(isoWeek(parseTime('2021-01-03T23:59:59Z'))).toEqual([2020, 53]);
    expect(isoWeek(parseTime('2021-01-04T00:00:00Z'))).toEqual([2021, 1]);
    expect(isoWeek(parseTime('2024-12-30T00:00:00Z'))).toEqual([2025, 1]);
    expect(isoWeek(parseTime('2015-12-31T00:00:00Z'))).toEqual([2015, 53]);
    expect(isoWeek(parseTime('2016-01-01T00:00:00Z'))).toEqual([2015, 53]);
    expect(isoWeek(parseTime('2027-01-01T00:00:00Z'))).toEqual([2026, 53]);
    // Sunday 23:30 in -05:00 is Monday 04:30 UTC: still the old week on its own clock.
    expect(isoWeek(parseTime('2021-01-03T23:30:00-05:00'))).toEqual([2020, 53]);
    // Monday 28 Dec 2020 and Sunday 3 Jan 2021 share week 2020-53: one weekly snapshot for both.
    const list = [snap('2020-12-28T10:00:00Z'), snap('2021-01-03T10:00:00Z'), snap('2021-01-04T10:00:00Z'), snap('2020-12-27T10:00:00Z')];
    expect(kept(list, { keepWeekly: 10 }).map(([t]) => t)).toEqual(['2021-01-04T10:00:00Z', '2021-01-03T10:00:00Z', '2020-12-27T10:00:00Z']);
  });

  it('months and years follow the own offset across the new year', () => {
    // 2021-12-31 23:30 in -05:00 is 04:30 on 1 January 2022 in UTC (the newest of the three), but
    // 2021 on its own clock. Years, newest first, on own clocks: 2021, 2022, 2021: each differs
    // from the previous kept one, so all three are yearly snapshots (restic compares with the last
    // kept value, not with every kept value). Read in UTC (2022, 2022, 2021), the middle one would go.
    const list = [snap('2022-01-01T00:30:00Z'), snap('2021-12-31T23:30:00-05:00'), snap('2021-06-01T00:00:00Z')];
    expect(kept(list, { keepYearly: 5 }).map(([t]) => t)).toEqual(['2021-12-31T23:30:00-05:00', '2022-01-01T00:30:00Z', '2021-06-01T00:00:00Z']);
    expect(kept(list, { keepYearly: 2 }).map(([t]) => t)).toEqual(['2021-12-31T23:30:00-05:00', '2022-01-01T00:30:00Z']);
    const utc = [snap('2022-01-01T00:30:00Z'), snap('2022-01-01T04:30:00Z'), snap('2021-06-01T00:00:00Z')];
    expect(kept(utc, { keepYearly: 5 }).map(([t]) => t)).toEqual(['2022-01-01T04:30:00Z', '2021-06-01T00:00:00Z']);
  });

  it('a bucket only counts the snapshots it keeps', () => {
    // keep-daily 2 spends its counts on the two newest days, whatever else keeps snapshots.
    const list = [snap('2022-01-03T10:00:00Z', { tags: ['x'] }), snap('2022-01-03T09:00:00Z'), snap('2022-01-02T10:00:00Z'), snap('2022-01-01T10:00:00Z')];
    expect(kept(list, { keepDaily: 2, keepTags: [['x']] })).toEqual([
      ['2022-01-03T10:00:00Z', ['has tags [x]', 'daily snapshot']],
      ['2022-01-02T10:00:00Z', ['daily snapshot']],
    ]);
  });
});

describe('keep-within', () => {
  it('keeps snapshots strictly after latest minus the duration', () => {
    const list = [snap('2022-03-10T12:00:00Z'), snap('2022-03-08T12:00:00Z'), snap('2022-03-08T12:00:01Z'), snap('2022-03-07T00:00:00Z')];
    expect(kept(list, { keepWithin: parseDuration('2d') }).map(([t, m]) => `${t} ${m.join()}`)).toEqual([
      '2022-03-10T12:00:00Z within 2d',
      '2022-03-08T12:00:01Z within 2d',
    ]);
  });

  it('subtracts months as Go\'s AddDate does: 31 March minus a month is 3 March (2 March in a leap year)', () => {
    expect(formatTime(addDate(parseTime('2022-03-31T12:00:00Z'), 0, -1, 0))).toBe('2022-03-03T12:00:00Z');
    expect(formatTime(addDate(parseTime('2024-03-31T12:00:00Z'), 0, -1, 0))).toBe('2024-03-02T12:00:00Z');
    expect(formatTime(addDate(parseTime('2024-02-29T12:00:00+02:00'), -1, 0, 0))).toBe('2023-03-01T12:00:00+02:00');
    expect(formatTime(addDate(parseTime('2022-01-15T00:00:00Z'), 0, -13, -20))).toBe('2020-11-25T00:00:00Z');
    const list = [snap('2022-03-31T12:00:00Z'), snap('2022-03-03T12:00:01Z'), snap('2022-03-03T12:00:00Z'), snap('2022-03-01T00:00:00Z')];
    expect(kept(list, { keepWithin: parseDuration('1m') }).map(([t]) => t)).toEqual(['2022-03-31T12:00:00Z', '2022-03-03T12:00:01Z']);
  });

  it('does the date arithmetic on the wall clock of the newest snapshot\'s offset, then subtracts hours', () => {
    // latest 2022-04-01 01:00 +03:00 (= 03-31 22:00Z); minus 1 month on its clock: "03-01 01:00+03:00" = 02-28 22:00Z;
    // minus 2 more hours: 02-28 20:00Z.
    const list = [snap('2022-04-01T01:00:00+03:00'), snap('2022-02-28T20:00:01Z'), snap('2022-02-28T20:00:00Z')];
    expect(kept(list, { keepWithin: parseDuration('1m2h') }).map(([t]) => t)).toEqual(['2022-04-01T01:00:00+03:00', '2022-02-28T20:00:01Z']);
  });

  it('measures from the newest snapshot that is not in the future, and keeps future ones', () => {
    const now = parseTime('2022-06-01T00:00:00Z');
    const list = [snap('2023-01-01T00:00:00Z'), snap('2022-05-20T00:00:00Z'), snap('2022-05-18T00:00:00Z'), snap('2022-05-01T00:00:00Z')];
    expect(kept(list, { keepWithin: parseDuration('3d') }, now).map(([t]) => t)).toEqual(['2023-01-01T00:00:00Z', '2022-05-20T00:00:00Z', '2022-05-18T00:00:00Z']);
  });

  it('keeps everything when every snapshot is in the future (measured from the zero time)', () => {
    const now = parseTime('2022-06-01T00:00:00Z');
    const list = [snap('2023-01-01T00:00:00Z'), snap('2022-07-01T00:00:00Z')];
    expect(kept(list, { keepWithin: parseDuration('1d') }, now)).toHaveLength(2);
  });

  it('keep-within-daily keeps one per day within the duration, without a count', () => {
    const list = [
      snap('2022-01-05T10:00:00Z'),
      snap('2022-01-05T08:00:00Z'),
      snap('2022-01-04T10:00:00Z'),
      snap('2022-01-03T10:00:00Z'),
      snap('2022-01-02T10:00:00Z'),
    ];
    expect(kept(list, { keepWithinDaily: parseDuration('2d'), keepLast: 1 })).toEqual([
      ['2022-01-05T10:00:00Z', ['last snapshot', 'daily within 2d']],
      ['2022-01-04T10:00:00Z', ['daily within 2d']],
    ]);
  });
});

describe('tags and the empty policy', () => {
  it('keep-tag needs all tags of one list; the empty tag matches untagged snapshots', () => {
    const list = [snap('2022-01-03T00:00:00Z', { tags: ['a', 'b'] }), snap('2022-01-02T00:00:00Z', { tags: ['a'] }), snap('2022-01-01T00:00:00Z')];
    expect(kept(list, { keepTags: [['a', 'b'], ['']] })).toEqual([
      ['2022-01-03T00:00:00Z', ['has tags [a, b]']],
      ['2022-01-01T00:00:00Z', ['has tags []']],
    ]);
  });

  it('an empty policy keeps every snapshot', () => {
    const list = [snap('2022-01-01T00:00:00Z'), snap('2022-01-02T00:00:00Z')];
    expect(isEmptyPolicy({ keepLast: 0, keepWithin: parseDuration('0d') })).toBe(true);
    expect(kept(list, {})).toEqual([
      ['2022-01-02T00:00:00Z', ['policy is empty']],
      ['2022-01-01T00:00:00Z', ['policy is empty']],
    ]);
  });

  it('describes the policy in restic\'s words', () => {
    expect(describePolicy({ keepDaily: 1, keepTags: [['a']] })).toBe('keep 1 daily snapshots and all snapshots with tags [[a]]');
    expect(describePolicy({ keepLast: 2, keepWeekly: 4, keepWithinDaily: parseDuration('7d'), keepTags: [['a', 'b'], ['c']], keepWithin: parseDuration('1y2h') }))
      .toBe('keep 2 latest, 4 weekly snapshots, daily snapshots within 7d and all snapshots with tags [[a, b] [c]] and all snapshots within 1y2h of the newest');
  });
});

describe('invalid input', () => {
  it('refuses negative and fractional counts and bad durations with ERR_INVALID_ARGUMENT', () => {
    const list = [snap('2022-01-01T00:00:00Z')];
    expect(throwsCode(() => applyPolicy(list, { keepLast: -1 }, { now: NOW }), 'ERR_INVALID_ARGUMENT')).toMatch(/--keep-last/);
    throwsCode(() => applyPolicy(list, { keepDaily: 1.5 }, { now: NOW }), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => applyPolicy(list, { keepWithin: { years: 0, months: -1, days: 0, hours: 0 } }, { now: NOW }), 'ERR_INVALID_ARGUMENT');
    for (const bad of ['5', 'd', '-1d', '1x', '1d 2h', '1.5d', '2000000h']) {
      expect(throwsCode(() => parseDuration(bad, '--keep-within'), 'ERR_INVALID_ARGUMENT')).toMatch(/--keep-within/);
    }
  });

  it('parses durations as restic does', () => {
    expect(parseDuration('1y5m7d2h')).toEqual({ years: 1, months: 5, days: 7, hours: 2 });
    expect(parseDuration(' 2h1d ')).toEqual({ years: 0, months: 0, days: 1, hours: 2 });
    expect(parseDuration('1d3d')).toEqual({ years: 0, months: 0, days: 3, hours: 0 });
    expect(parseDuration('')).toEqual({ years: 0, months: 0, days: 0, hours: 0 });
    expect(formatDuration(parseDuration('2h1y0d'))).toBe('1y2h');
  });

  it('refuses an unknown --group-by field', () => {
    expect(throwsCode(() => parseGroupBy('host,colour'), 'ERR_INVALID_ARGUMENT')).toMatch(/colour/);
    expect(parseGroupBy('hosts,path,tag')).toEqual({ host: true, paths: true, tags: true });
    expect(parseGroupBy('')).toEqual({ host: false, paths: false, tags: false });
    expect(parseGroupBy(',')).toEqual({ host: false, paths: false, tags: false });
  });
});

describe('grouping and JSON', () => {
  const list = [
    snap('2022-01-01T00:00:00Z', { hostname: 'b', paths: ['/z', '/a'], tags: ['y', 'x'] }),
    snap('2022-01-02T00:00:00Z', { hostname: 'a', paths: ['/a', '/z'], tags: ['x', 'y'] }),
    snap('2022-01-03T00:00:00Z', { hostname: 'a', paths: ['/a'] }),
  ];

  it('groups by host and sorted paths by default, keys in restic\'s JSON', () => {
    const groups = groupSnapshots(list, parseGroupBy('host,paths'));
    expect(groups.map((g) => g.key)).toEqual([
      '{"hostname":"a","paths":["/a","/z"],"tags":null}',
      '{"hostname":"a","paths":["/a"],"tags":null}',
      '{"hostname":"b","paths":["/a","/z"],"tags":null}',
    ]);
    // Shown with sorted paths; tags as stored (sorted only when grouping by tags).
    expect(groups[2]!.entries[0]!.snapshot.paths).toEqual(['/a', '/z']);
    expect(groups[2]!.entries[0]!.snapshot.tags).toEqual(['y', 'x']);
    expect(list[0]!.snapshot.paths).toEqual(['/z', '/a']); // the input is not changed
  });

  it('groups by tags (sorted), or not at all', () => {
    const byTags = groupSnapshots(list, parseGroupBy('tags'));
    expect(byTags.map((g) => [g.key, g.entries.length])).toEqual([
      ['{"hostname":"","paths":null,"tags":["x","y"]}', 2],
      ['{"hostname":"","paths":null,"tags":null}', 1],
    ]);
    expect(byTags[0]!.entries[0]!.snapshot.tags).toEqual(['x', 'y']);
    expect(groupSnapshots(list, parseGroupBy(''))).toHaveLength(1);
  });

  it('prints restic\'s JSON: null for an empty list, snapshots without id in reasons, zero counters left out', () => {
    const plan = planForget(list, { policy: { keepLast: 1 }, groupBy: parseGroupBy('host'), now: NOW, filter: { hosts: ['a'] } });
    const text = formatForgetJson(plan);
    expect(text.endsWith(']\n')).toBe(true);
    const json = JSON.parse(text) as Record<string, unknown>[];
    expect(json).toHaveLength(1);
    const g = json[0]!;
    expect(Object.keys(g)).toEqual(['tags', 'host', 'paths', 'keep', 'remove', 'reasons']);
    expect([g['tags'], g['host'], g['paths']]).toEqual([null, 'a', null]);
    const keep = g['keep'] as Record<string, unknown>[];
    expect(keep.map((s) => s['time'])).toEqual(['2022-01-03T00:00:00Z']);
    expect(Object.keys(keep[0]!)).toEqual(['time', 'tree', 'paths', 'hostname', 'id', 'short_id']);
    expect((g['remove'] as unknown[]).length).toBe(1);
    const reasons = g['reasons'] as { snapshot: Record<string, unknown>; matches: string[]; counters: unknown }[];
    expect(Object.keys(reasons[0]!.snapshot)).toEqual(['time', 'tree', 'paths', 'hostname']);
    expect(reasons[0]!.matches).toEqual(['last snapshot']);
    expect(reasons[0]!.counters).toEqual({});
    const all = JSON.parse(formatForgetJson(planForget(list, { policy: { keepLast: 5 }, groupBy: parseGroupBy(''), now: NOW }))) as Record<string, unknown>[];
    expect(all[0]!['remove']).toBeNull();
    expect((all[0]!['reasons'] as { counters: unknown }[]).map((r) => r.counters)).toEqual([{ last: 4 }, { last: 3 }, { last: 2 }]);
  });

  it('escapes like Go', () => {
    const odd = [snap('2022-01-01T00:00:00Z', { hostname: 'a<b>&c', paths: ['/x&y'] })];
    const text = formatForgetJson(planForget(odd, { policy: { keepLast: 1 }, now: NOW }));
    expect(text).toContain('"host":"a\\u003cb\\u003e\\u0026c"');
    expect(text).not.toContain('&');
  });
});
