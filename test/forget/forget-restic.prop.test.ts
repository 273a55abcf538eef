/**
 * restic 0.14 as the oracle for `cairn forget` (seeded fast-check): generated snapshot histories
 * and policies, written as snapshot files into one repository, then
 * `restic forget --dry-run --json --no-lock` and `cairn forget --dry-run --json` with the same
 * flags must print the same groups: the same keep and remove lists (in order), the same reasons
 * (matches and counters) and the same snapshot objects; when there is one group, the very same
 * bytes (restic orders several groups at random, so then the groups are compared by key).
 *
 * Histories: 2–16 snapshots stepping back from a start time by minutes to years, each with an
 * offset from a small per-history palette (−12:00…+14:00, half and quarter hours); some start
 * around a new year (ISO week 53), some on the 29th–31st of a month stepping back by days (where
 * Go's AddDate overflows a month), some lie wholly or partly in the future (year 2099+, which
 * moves `latest`). The test also requires every kind of reason to have been seen. Each history has its own hosts and paths, so with grouping by host or paths it
 * is its own group (or two); grouping by tags or nothing merges the batch. Instants are distinct
 * within a batch: restic orders equal times by load order, which is not deterministic.
 *
 * Batches: each batch has one policy, grouping and filter, and HISTORIES histories; its snapshots
 * are written, both tools run once (in parallel), and the snapshots are removed again. restic runs
 * with TZ=UTC: Go reads a time whose offset matches the local zone in that zone, where AddDate
 * around a DST change would differ from fixed-offset arithmetic (spec/forget.md).
 */
import { rm } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository, type Repository } from '../../src/index.js';
import { formatDuration, type Duration } from '../../src/forget/index.js';
import { hashId, type SnapshotId, type TreeId } from '../../src/model/index.js';
import type { Snapshot } from '../../src/snapshot/index.js';
import { runRestic } from '../helpers/restic.js';
import { cairn, scratchRepository } from '../cli/helpers.js';

const SEED = 0x0f0e6e7;
const BATCHES = 26;
const HISTORIES = 9;
const PASSWORD = 'forget-oracle';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
const DAY = 86400;
const OFFSETS = [0, 3600, -3600, 7200, -18000, -14400, 19800, 20700, -34200, 34200, 50400, -43200, 46800, 39600, -36000, 36000];
const TAGS = ['a', 'b', 'c'];
const GROUP_BYS = ['host,paths', 'host,paths', 'host', 'paths', 'host,tags', 'paths,tags', 'host,paths,tags', 'tags', ''];

interface Step {
  readonly scale: 'min' | 'hour' | 'day' | 'week' | 'month' | 'year';
  readonly n: number;
  readonly jitter: number;
  readonly offset: number;
  readonly nsec: number;
  readonly host: number;
  readonly paths: number;
  readonly tags: readonly string[];
}

interface History {
  readonly era: 'past' | 'newyear' | 'monthend' | 'future' | 'mixed';
  readonly year: number;
  readonly dayOfYear: number;
  readonly palette: readonly number[];
  readonly oddHost: boolean;
  readonly steps: readonly Step[];
}

interface Batch {
  readonly histories: readonly History[];
  readonly counts: readonly (number | undefined)[];
  readonly withins: readonly (Duration | undefined)[];
  readonly keepTags: readonly (readonly string[])[];
  readonly groupBy: string;
  readonly hostFilter: readonly [number, number][] | undefined;
  readonly tagFilter: readonly (readonly string[])[] | undefined;
  readonly pathFilter: number | undefined;
}

/** One of the values, with the given weights. */
function weighted(...choices: [number, number][]): fc.Arbitrary<number> {
  return fc.oneof(...choices.map(([v, weight]) => ({ arbitrary: fc.constant(v), weight })));
}

/** `arb` in `percent`% of the cases, else undefined. */
function sometimes<T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 100 - percent }, { arbitrary: arb, weight: percent });
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  scale: fc.constantFrom('min', 'hour', 'hour', 'day', 'day', 'day', 'week', 'month', 'year'),
  n: fc.integer({ min: 1, max: 4 }),
  jitter: fc.integer({ min: 0, max: 7199 }),
  offset: fc.nat(),
  nsec: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 999_999_999 }), weight: 1 }),
  host: weighted([0, 8], [1, 2], [3, 1]),
  paths: weighted([0, 8], [1, 2], [2, 1]),
  tags: fc.subarray(TAGS).chain((t) => fc.shuffledSubarray(t, { minLength: t.length, maxLength: t.length })),
});

const historyArb: fc.Arbitrary<History> = fc.record({
  era: fc.constantFrom('past', 'past', 'newyear', 'newyear', 'monthend', 'monthend', 'future', 'mixed'),
  year: fc.integer({ min: 2012, max: 2023 }),
  dayOfYear: fc.integer({ min: 0, max: 364 }),
  palette: fc.uniqueArray(fc.constantFrom(...OFFSETS), { minLength: 1, maxLength: 3 }),
  oddHost: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 2, maxLength: 16 }),
});

const count = sometimes(fc.integer({ min: 0, max: 4 }), 30);
const duration: fc.Arbitrary<Duration | undefined> = sometimes(
  fc.record({
    years: fc.constantFrom(0, 0, 0, 0, 1),
    months: fc.constantFrom(0, 0, 1, 1, 2, 13),
    days: fc.constantFrom(0, 0, 1, 3, 10, 31),
    hours: fc.constantFrom(0, 0, 1, 5, 36),
  }),
  20,
);
const tagList = fc.uniqueArray(fc.constantFrom(...TAGS, ''), { minLength: 1, maxLength: 2 });

const batchArb: fc.Arbitrary<Batch> = fc.record({
  histories: fc.array(historyArb, { minLength: HISTORIES, maxLength: HISTORIES }),
  counts: fc.array(count, { minLength: 6, maxLength: 6 }),
  withins: fc.array(duration, { minLength: 6, maxLength: 6 }),
  keepTags: fc.oneof({ arbitrary: fc.constant([]), weight: 4 }, { arbitrary: fc.array(tagList, { minLength: 1, maxLength: 2 }), weight: 1 }),
  groupBy: fc.constantFrom(...GROUP_BYS),
  hostFilter: sometimes(fc.array(fc.tuple(fc.integer({ min: 0, max: HISTORIES - 1 }), weighted([0, 3], [1, 1], [3, 1])), { minLength: 1, maxLength: 6 }), 15),
  tagFilter: sometimes(fc.array(tagList, { minLength: 1, maxLength: 2 }), 15),
  pathFilter: sometimes(fc.integer({ min: 0, max: HISTORIES - 1 }), 10),
});

function hostName(h: number, variant: number, odd: boolean): string {
  return `h${h}${variant % 2 === 1 ? '-b' : ''}${odd && variant >= 3 ? '<&>' : ''}`;
}

function pathsOf(h: number, variant: number): string[] {
  switch (variant % 3) {
    case 0:
      return [`/h${h}/data`];
    case 1:
      return [`/h${h}/z`, `/h${h}/data`]; // unsorted on purpose: restic shows them sorted
    default:
      return [`/h${h}/data`, '/etc'];
  }
}

function gap(s: Step): number {
  switch (s.scale) {
    case 'min':
      return s.n * 7 * 60 + (s.jitter % 600);
    case 'hour':
      return s.n * 3600 + (s.jitter % 3600);
    case 'day':
      return s.n * DAY + s.jitter * 5;
    case 'week':
      return s.n * 7 * DAY + s.jitter * 11;
    case 'month':
      return s.n * 30 * DAY + s.jitter * 13;
    case 'year':
      return s.n * 365 * DAY + s.jitter * 17;
  }
}

const EMPTY_TREE_BYTES = new TextEncoder().encode('{"nodes":[]}\n');
const EMPTY_TREE = hashId(EMPTY_TREE_BYTES) as TreeId;

/** The snapshots of one batch, each instant used once. */
function snapshotsOf(batch: Batch): Snapshot[] {
  const used = new Set<number>();
  const out: Snapshot[] = [];
  batch.histories.forEach((h, k) => {
    // newyear: early January; monthend: the 29th–31st of a month (Go's AddDate overflows there).
    const startDay = h.era === 'newyear'
      ? Date.UTC(h.year, 0, 1 + (h.dayOfYear % 12)) / 1000
      : h.era === 'monthend'
        ? Date.UTC(h.year, [2, 4, 6, 9, 11, 2, 0, 7][h.dayOfYear % 8]!, 29 + (h.dayOfYear % 3)) / 1000
        : Date.UTC(h.era === 'future' ? 2099 + (h.year % 5) : h.year, 0, 1) / 1000 + h.dayOfYear * DAY;
    let t = startDay + (h.steps[0]!.jitter * 12);
    h.steps.forEach((s, i) => {
      if (i > 0) t -= h.era === 'monthend' ? gap({ ...s, scale: 'day' }) : h.era === 'newyear' && (s.scale === 'year' || s.scale === 'month' || s.scale === 'week') ? gap({ ...s, scale: 'day' }) : gap(s);
      let sec = h.era === 'mixed' && i < 2 && s.n % 2 === 1 ? t + 80 * 365 * DAY : t;
      while (used.has(sec)) sec++;
      used.add(sec);
      const offset = h.palette[s.offset % h.palette.length]!;
      out.push({
        time: { sec, nsec: s.nsec, offset },
        tree: EMPTY_TREE,
        paths: pathsOf(k, s.paths),
        hostname: hostName(k, s.host, h.oddHost),
        username: 'tester',
        ...(s.tags.length > 0 ? { tags: s.tags } : {}),
      });
    });
  });
  return out;
}

const COUNT_FLAGS = ['--keep-last', '--keep-hourly', '--keep-daily', '--keep-weekly', '--keep-monthly', '--keep-yearly'];
const WITHIN_FLAGS = ['--keep-within', '--keep-within-hourly', '--keep-within-daily', '--keep-within-weekly', '--keep-within-monthly', '--keep-within-yearly'];

function flagsOf(batch: Batch): string[] {
  const f: string[] = [];
  batch.counts.forEach((n, i) => {
    if (n !== undefined) f.push(COUNT_FLAGS[i]!, String(n));
  });
  batch.withins.forEach((d, i) => {
    if (d !== undefined && formatDuration(d) !== '') f.push(WITHIN_FLAGS[i]!, formatDuration(d));
  });
  for (const l of batch.keepTags) f.push('--keep-tag', l.join(','));
  f.push('--group-by', batch.groupBy);
  for (const [h, v] of batch.hostFilter ?? []) f.push('--host', hostName(h, v, batch.histories[h]!.oddHost));
  for (const l of batch.tagFilter ?? []) f.push('--tag', l.join(','));
  if (batch.pathFilter !== undefined) f.push('--path', `/h${batch.pathFilter}/data`);
  return f;
}

interface JsonGroup {
  readonly tags: unknown;
  readonly host: unknown;
  readonly paths: unknown;
  readonly [k: string]: unknown;
}

/** The groups, ordered by their key (restic prints them in Go map order). */
function byKey(text: string): JsonGroup[] {
  const groups = JSON.parse(text) as JsonGroup[];
  const key = (g: JsonGroup): string => JSON.stringify([g.host, g.paths, g.tags]);
  return groups.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('cairn forget against restic 0.14 (generated histories)', () => {
  let root: string;
  let location: string;
  let repo: Repository;

  beforeAll(async () => {
    ({ root, repo: location } = await scratchRepository('cairn-forget-oracle-', ENV));
    repo = await openRepository(location, { password: PASSWORD });
    await repo.saveBlob('tree', EMPTY_TREE, EMPTY_TREE_BYTES);
    await repo.flush();
  });

  afterAll(async () => {
    await repo?.close();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it(`decides as restic does for ${BATCHES * HISTORIES} histories in ${BATCHES} batches`, async () => {
    const batches = fc.sample(batchArb, { seed: SEED, numRuns: BATCHES });
    let compared = 0;
    let groupsCompared = 0;
    let removals = 0;
    const seen = new Set<string>();
    for (const [b, batch] of batches.entries()) {
      const snaps = snapshotsOf(batch);
      const ids: SnapshotId[] = [];
      for (const s of snaps) ids.push(await repo.saveSnapshot(s));
      const flags = flagsOf(batch);
      const [restic, ours] = await Promise.all([
        runRestic(['--repo', location, '--no-cache', '--no-lock', 'forget', '--dry-run', '--json', ...flags], PASSWORD, { env: { TZ: 'UTC' } }),
        cairn(['-r', location, '--json', 'forget', '--dry-run', ...flags], { env: ENV }),
      ]);
      const context = `batch ${b}: forget ${flags.map((x) => JSON.stringify(x)).join(' ')}`;
      expect(ours.code, `${context}\n${ours.err}`).toBe(0);
      const theirs = restic.text();
      if (theirs.trim() === '') {
        expect(ours.out, context).toBe('');
      } else {
        const want = byKey(theirs);
        const got = byKey(ours.out);
        expect(got, context).toEqual(want);
        if (want.length === 1) expect(ours.out, context).toBe(theirs);
        groupsCompared += want.length;
        for (const g of want) {
          for (const r of (g['reasons'] as { matches: string[] }[] | null) ?? []) for (const m of r.matches) seen.add(m.replace(/ [0-9ymdh]+$/, '').replace(/\[.*\]/, '[…]'));
        }
        removals += want.reduce((n, g) => n + ((g['remove'] as unknown[] | null)?.length ?? 0), 0);
      }
      compared += batch.histories.length;
      for (const id of ids) await repo.backend.remove({ type: 'snapshot', name: id });
    }
    expect(compared).toBeGreaterThanOrEqual(200);
    // The generator must exercise removal and every rule, not only keep everything.
    expect([...seen].sort()).toEqual([
      'daily snapshot', 'daily within', 'has tags […]', 'hourly snapshot', 'hourly within', 'last snapshot', 'monthly snapshot',
      'monthly within', 'weekly snapshot', 'weekly within', 'within', 'yearly snapshot', 'yearly within',
    ]);
    expect(groupsCompared).toBeGreaterThan(BATCHES * 2);
    expect(removals).toBeGreaterThan(100);
  });
});
