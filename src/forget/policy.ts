/**
 * The retention policy of restic 0.14 (`ApplyPolicy`), decision for decision.
 *
 * 1. The snapshots are ordered newest first by instant (a stable sort: equal instants keep the
 *    order they came in).
 * 2. An empty policy (every count 0, every duration zero, no tag list) keeps everything, with the
 *    reason "policy is empty".
 * 3. `latest` is the newest snapshot time that lies strictly between the zero time
 *    (0001-01-01T00:00:00Z) and `now`; when every snapshot is in the future it stays the zero
 *    time. The keep-within rules measure back from it.
 * 4. Each snapshot, in order, is kept when any rule matches; all matching rules are recorded, in
 *    this order:
 *    - keep-tag: for each tag list the snapshot carries all tags of ("has tags [a, b]"). Not
 *      counted. The tag "" matches a snapshot without tags.
 *    - keep-within D: the time is strictly after `latest.AddDate(-y, -m, -d) - h hours`
 *      ("within 2d").
 *    - the counted buckets last, hourly, daily, weekly, monthly, yearly (count > 0): the snapshot's
 *      bucket value (position in the list, YYYYMMDDHH, YYYYMMDD, ISO year*100+week, YYYYMM,
 *      YYYY) differs from the value of the last snapshot that bucket kept: keep it, remember the
 *      value, count down ("daily snapshot").
 *    - keep-within-{hourly…yearly} D: the time is within D of `latest` (as for keep-within) and
 *      the bucket value differs from the last one this rule kept ("daily within 2d"). Not counted.
 *    Bucket values are read on the wall clock of the snapshot's own stored UTC offset.
 * 5. A kept snapshot's reason carries the counters left after it (restic's `counters`).
 *
 * restic 0.14 exactly: 0.16 added `-1` for "unlimited" and 0.18 keeps the oldest snapshot when a
 * bucket has count left; neither applies here. Pure: the caller passes `now`.
 */
import { CairnError } from '../errors.js';
import type { SnapshotEntry } from '../snapshot/index.js';
import { compareTime, ZERO_TIME, type Timestamp } from '../tree/index.js';
import { addDate, isoWeek, wallClock } from './calendar.js';
import { formatDuration, isZeroDuration, MAX_DURATION_PART, type Duration } from './duration.js';

/** Which snapshots to keep. Every rule is off by default; a snapshot is kept if any rule keeps it. */
export interface ForgetPolicy {
  /** Keep the newest n snapshots. @default 0 */
  readonly keepLast?: number;
  /** Keep the newest snapshot of each of the newest n hours that have one. @default 0 */
  readonly keepHourly?: number;
  /** … of each of the newest n days. @default 0 */
  readonly keepDaily?: number;
  /** … of each of the newest n ISO weeks. @default 0 */
  readonly keepWeekly?: number;
  /** … of each of the newest n months. @default 0 */
  readonly keepMonthly?: number;
  /** … of each of the newest n years. @default 0 */
  readonly keepYearly?: number;
  /** Keep every snapshot newer than this, measured back from the newest one. @default zero (off) */
  readonly keepWithin?: Duration;
  /** Keep the newest snapshot of each hour within this duration of the newest one. @default off */
  readonly keepWithinHourly?: Duration;
  readonly keepWithinDaily?: Duration;
  readonly keepWithinWeekly?: Duration;
  readonly keepWithinMonthly?: Duration;
  readonly keepWithinYearly?: Duration;
  /** Keep every snapshot that has all tags of at least one of these lists. @default [] */
  readonly keepTags?: readonly (readonly string[])[];
}

/** The counts left in the counted buckets after a kept snapshot (restic's `counters`). */
export interface PolicyCounters {
  readonly last: number;
  readonly hourly: number;
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
  readonly yearly: number;
}

/** Why one snapshot is kept. */
export interface KeepReason<T extends SnapshotEntry = SnapshotEntry> {
  readonly entry: T;
  /** The rules that matched, in restic's words and order ("last snapshot", "within 2d", …). */
  readonly matches: readonly string[];
  readonly counters: PolicyCounters;
}

export interface PolicyResult<T extends SnapshotEntry = SnapshotEntry> {
  /** Newest first. */
  readonly keep: readonly T[];
  /** Newest first. */
  readonly remove: readonly T[];
  /** One per kept snapshot, in the order of `keep`. */
  readonly reasons: readonly KeepReason<T>[];
}

const COUNTS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;
const WITHINS = ['keepWithin', 'keepWithinHourly', 'keepWithinDaily', 'keepWithinWeekly', 'keepWithinMonthly', 'keepWithinYearly'] as const;

/** The CLI flag of a policy field, for messages. */
function flagOf(field: string): string {
  return '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()).replace('keep-tags', 'keep-tag');
}

/** Checks a policy: counts are whole numbers ≥ 0, duration parts too, tags are lists of strings. */
export function validatePolicy(p: ForgetPolicy): void {
  for (const f of COUNTS) {
    const v = p[f];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `${flagOf(f)} must be a whole number of snapshots, 0 or more; got ${String(v)}`, { data: { option: flagOf(f), value: v } });
    }
  }
  for (const f of WITHINS) {
    const d = p[f];
    if (d === undefined) continue;
    for (const part of ['years', 'months', 'days', 'hours'] as const) {
      const v = d[part];
      if (!(Number.isSafeInteger(v) && v >= 0 && v <= MAX_DURATION_PART)) {
        throw new CairnError('ERR_INVALID_ARGUMENT', `${flagOf(f)}: ${part} must be a whole number from 0 to ${MAX_DURATION_PART}; got ${String(v)}`, { data: { option: flagOf(f), part, value: v } });
      }
    }
  }
  const tags = p.keepTags ?? [];
  if (!Array.isArray(tags) || !tags.every((l) => Array.isArray(l) && l.every((t) => typeof t === 'string'))) {
    throw new CairnError('ERR_INVALID_ARGUMENT', '--keep-tag: every tag list must be a list of strings', { data: { option: '--keep-tag' } });
  }
}

/** True when the policy has no rule at all (restic then keeps every snapshot). */
export function isEmptyPolicy(p: ForgetPolicy): boolean {
  return (p.keepTags ?? []).length === 0 && COUNTS.every((f) => (p[f] ?? 0) === 0) && WITHINS.every((f) => isZeroDuration(p[f] ?? { years: 0, months: 0, days: 0, hours: 0 }));
}

/** A tag list as restic prints one: `[a, b]`. */
export function formatTagList(l: readonly string[]): string {
  return '[' + l.join(', ') + ']';
}

/**
 * The policy in words, as restic 0.14 prints it after "Applying Policy: ", e.g.
 * `keep 7 daily, 4 weekly snapshots and all snapshots within 2d of the newest`.
 */
export function describePolicy(p: ForgetPolicy): string {
  const counts: string[] = [];
  const named: [typeof COUNTS[number], string][] = [['keepLast', 'latest'], ['keepHourly', 'hourly'], ['keepDaily', 'daily'], ['keepWeekly', 'weekly'], ['keepMonthly', 'monthly'], ['keepYearly', 'yearly']];
  for (const [f, word] of named) if ((p[f] ?? 0) > 0) counts.push(`${p[f]} ${word}`);
  const withins: string[] = [];
  const withinNamed: [typeof WITHINS[number], string][] = [['keepWithinHourly', 'hourly'], ['keepWithinDaily', 'daily'], ['keepWithinWeekly', 'weekly'], ['keepWithinMonthly', 'monthly'], ['keepWithinYearly', 'yearly']];
  for (const [f, word] of withinNamed) {
    const d = p[f];
    if (d !== undefined && !isZeroDuration(d)) withins.push(`${word} snapshots within ${formatDuration(d)}`);
  }
  let s = counts.length > 0 ? `${counts.join(', ')} snapshots` : '';
  if (withins.length > 0) s += (s !== '' ? ', ' : '') + withins.join(', ');
  const tags = p.keepTags ?? [];
  if (tags.length > 0) s += (s !== '' ? ' and ' : '') + `all snapshots with tags [${tags.map(formatTagList).join(' ')}]`;
  if (p.keepWithin !== undefined && !isZeroDuration(p.keepWithin)) s += (s !== '' ? ' and ' : '') + `all snapshots within ${formatDuration(p.keepWithin)} of the newest`;
  return 'keep ' + s;
}

/** Whether the snapshot has every tag of `l` (restic's HasTags: "" matches an untagged snapshot). */
function hasTags(tags: readonly string[], l: readonly string[]): boolean {
  for (const t of l) {
    if (t === '' && tags.length === 0) return true;
    if (!tags.includes(t)) return false;
  }
  return true;
}

type Bucketer = (t: Timestamp, position: number) => number;

const always: Bucketer = (_t, position) => position;
const ymdh: Bucketer = (t) => {
  const w = wallClock(t);
  return w.year * 1_000_000 + w.month * 10_000 + w.day * 100 + w.hour;
};
const ymd: Bucketer = (t) => {
  const w = wallClock(t);
  return w.year * 10_000 + w.month * 100 + w.day;
};
const yw: Bucketer = (t) => {
  const [year, week] = isoWeek(t);
  return year * 100 + week;
};
const ym: Bucketer = (t) => {
  const w = wallClock(t);
  return w.year * 100 + w.month;
};
const y: Bucketer = (t) => wallClock(t).year;

/** The newest time strictly after the zero time and strictly before `now` (restic's findLatestTimestamp). */
function latestTime(list: readonly SnapshotEntry[], now: Timestamp): Timestamp {
  let latest = ZERO_TIME;
  for (const e of list) {
    const t = e.snapshot.time;
    if (compareTime(t, latest) > 0 && compareTime(t, now) < 0) latest = t;
  }
  return latest;
}

/** `latest` minus `d`: AddDate for years, months and days, then the hours (restic's arithmetic). */
function cutoff(latest: Timestamp, d: Duration): Timestamp {
  const t = addDate(latest, -d.years, -d.months, -d.days);
  return { ...t, sec: t.sec - d.hours * 3600 };
}

export interface ApplyPolicyOptions {
  /** The present: snapshots at or after it do not count as the newest for keep-within rules. */
  readonly now: Timestamp;
}

/**
 * Applies `policy` to one group of snapshots (see the file comment). Validates the policy first
 * (ERR_INVALID_ARGUMENT). The entries are not changed.
 */
export function applyPolicy<T extends SnapshotEntry>(entries: readonly T[], policy: ForgetPolicy, options: ApplyPolicyOptions): PolicyResult<T> {
  validatePolicy(policy);
  const list = [...entries].sort((a, b) => compareTime(b.snapshot.time, a.snapshot.time)); // stable
  const zero: PolicyCounters = { last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
  if (isEmptyPolicy(policy)) {
    return { keep: list, remove: [], reasons: list.map((entry) => ({ entry, matches: ['policy is empty'], counters: zero })) };
  }
  if (list.length === 0) return { keep: [], remove: [], reasons: [] };

  const buckets = [
    { count: policy.keepLast ?? 0, bucket: always, last: -1, reason: 'last snapshot' },
    { count: policy.keepHourly ?? 0, bucket: ymdh, last: -1, reason: 'hourly snapshot' },
    { count: policy.keepDaily ?? 0, bucket: ymd, last: -1, reason: 'daily snapshot' },
    { count: policy.keepWeekly ?? 0, bucket: yw, last: -1, reason: 'weekly snapshot' },
    { count: policy.keepMonthly ?? 0, bucket: ym, last: -1, reason: 'monthly snapshot' },
    { count: policy.keepYearly ?? 0, bucket: y, last: -1, reason: 'yearly snapshot' },
  ];
  const latest = latestTime(list, options.now);
  const withinRules: [Duration | undefined, Bucketer, string][] = [
    [policy.keepWithinHourly, ymdh, 'hourly within'],
    [policy.keepWithinDaily, ymd, 'daily within'],
    [policy.keepWithinWeekly, yw, 'weekly within'],
    [policy.keepWithinMonthly, ym, 'monthly within'],
    [policy.keepWithinYearly, y, 'yearly within'],
  ];
  const withinBuckets: { after: Timestamp; bucket: Bucketer; last: number; reason: string }[] = [];
  for (const [d, bucket, word] of withinRules) {
    if (d !== undefined && !isZeroDuration(d)) withinBuckets.push({ after: cutoff(latest, d), bucket, last: -1, reason: `${word} ${formatDuration(d)}` });
  }
  const within = policy.keepWithin !== undefined && !isZeroDuration(policy.keepWithin)
    ? { after: cutoff(latest, policy.keepWithin), reason: `within ${formatDuration(policy.keepWithin)}` }
    : undefined;

  const keep: T[] = [];
  const remove: T[] = [];
  const reasons: KeepReason<T>[] = [];
  list.forEach((entry, position) => {
    const t = entry.snapshot.time;
    const matches: string[] = [];
    for (const l of policy.keepTags ?? []) {
      if (hasTags(entry.snapshot.tags ?? [], l)) matches.push(`has tags ${formatTagList(l)}`);
    }
    if (within !== undefined && compareTime(t, within.after) > 0) matches.push(within.reason);
    for (const b of buckets) {
      if (b.count <= 0) continue;
      const v = b.bucket(t, position);
      if (v !== b.last) {
        b.last = v;
        b.count--;
        matches.push(b.reason);
      }
    }
    for (const b of withinBuckets) {
      if (compareTime(t, b.after) <= 0) continue;
      const v = b.bucket(t, position);
      if (v !== b.last) {
        b.last = v;
        matches.push(b.reason);
      }
    }
    if (matches.length === 0) {
      remove.push(entry);
      return;
    }
    keep.push(entry);
    const [last, hourly, daily, weekly, monthly, yearly] = buckets.map((b) => b.count) as [number, number, number, number, number, number];
    reasons.push({ entry, matches, counters: { last, hourly, daily, weekly, monthly, yearly } });
  });
  return { keep, remove, reasons };
}
