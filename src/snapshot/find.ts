/**
 * Choosing snapshots the way restic's command line does: by ID, unique ID prefix or `latest`, and
 * by host, tag and path filters.
 *
 * Filters (restic's FindFilteredSnapshots): a snapshot passes when its hostname is one of
 * `hosts` (or `hosts` is empty), when it carries every tag of at least one list in `tags` (or
 * `tags` is empty; the list `[""]` matches snapshots without tags), and when every path of
 * `paths` is one of its paths (exact string comparison).
 *
 * Lookup (restic's FindSnapshot / FindLatestSnapshot): a reference that is a prefix of exactly
 * one snapshot ID selects it (a full ID is just the longest prefix; hex digits in either case);
 * `latest` selects the newest snapshot passing the filter, with its `paths` cleaned as restic
 * cleans them (`/a/b/` and `/a//b` mean `/a/b`; relative paths must be made absolute by the
 * caller). Unlike restic, whose choice among equal times depends on listing order, the greatest
 * ID wins a tie. The filter applies to `latest` only, as in restic.
 */
import { CairnError } from '../errors.js';
import type { SnapshotId } from '../model/index.js';
import { compareTime } from '../tree/index.js';
import type { Snapshot, SnapshotEntry } from './types.js';

export interface SnapshotFilter {
  /** Keep snapshots from one of these hosts. @default [] (any host) */
  readonly hosts?: readonly string[];
  /** Keep snapshots that have all tags of at least one of these lists (OR of ANDs). @default [] (any tags) */
  readonly tags?: readonly (readonly string[])[];
  /** Keep snapshots whose paths include all of these. @default [] (any paths) */
  readonly paths?: readonly string[];
}

function hasTags(s: Snapshot, required: readonly string[]): boolean {
  const tags = s.tags ?? [];
  for (const tag of required) {
    if (tag === '' && tags.length === 0) return true;
    if (!tags.includes(tag)) return false;
  }
  return true;
}

/** Whether one snapshot passes the filter (restic's HasHostname, HasTagList and HasPaths). */
export function matchesFilter(s: Snapshot, filter: SnapshotFilter = {}): boolean {
  const hosts = filter.hosts ?? [];
  if (hosts.length > 0 && !hosts.includes(s.hostname ?? '')) return false;
  const tagLists = filter.tags ?? [];
  if (tagLists.length > 0 && !tagLists.some((l) => hasTags(s, l))) return false;
  for (const p of filter.paths ?? []) if (!s.paths.includes(p)) return false;
  return true;
}

/** The entries that pass the filter, in their given order. */
export function filterSnapshots<T extends SnapshotEntry>(list: readonly T[], filter: SnapshotFilter = {}): T[] {
  return list.filter((e) => matchesFilter(e.snapshot, filter));
}

/** Oldest first; equal times by ID. A new array. */
export function sortSnapshots<T extends SnapshotEntry>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => compareTime(a.snapshot.time, b.snapshot.time) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Go's filepath.Clean for an absolute or relative slash path. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  return abs ? '/' + joined : joined === '' ? '.' : joined;
}

/**
 * The snapshot `ref` names: `latest` (newest passing `filter`), or a unique prefix of an ID.
 * Throws ERR_INVALID_ARGUMENT for an empty ref, ERR_AMBIGUOUS_ID when the prefix matches
 * several snapshots, ERR_SNAPSHOT_NOT_FOUND when nothing matches.
 */
export function findSnapshot<T extends SnapshotEntry>(list: readonly T[], ref: string, filter: SnapshotFilter = {}): T {
  if (ref === 'latest') return findLatest(list, filter);
  const id = resolveSnapshotId(list.map((e) => e.id), ref);
  return list.find((e) => e.id === id)!;
}

/**
 * The newest entry passing `filter` (paths cleaned as restic cleans them; the greatest ID wins a
 * tie). Throws ERR_SNAPSHOT_NOT_FOUND when none passes.
 */
export function findLatest<T extends SnapshotEntry>(list: readonly T[], filter: SnapshotFilter = {}): T {
  const clean: SnapshotFilter = { ...filter, paths: (filter.paths ?? []).map(cleanPath) };
  let best: T | undefined;
  for (const e of list) {
    if (!matchesFilter(e.snapshot, clean)) continue;
    if (best === undefined) best = e;
    else {
      const c = compareTime(e.snapshot.time, best.snapshot.time);
      if (c > 0 || (c === 0 && e.id > best.id)) best = e;
    }
  }
  if (best === undefined) {
    throw new CairnError('ERR_SNAPSHOT_NOT_FOUND', 'no snapshot matches the filter for "latest"', {
      data: { ref: 'latest', hosts: filter.hosts ?? [], tags: filter.tags ?? [], paths: clean.paths },
    });
  }
  return best;
}

/**
 * The one ID of `ids` that `ref` (a full ID or a prefix, hex digits in either case) names, from
 * the IDs alone (restic's FindSnapshot resolves against the file names, so nothing is loaded).
 * Throws ERR_INVALID_ARGUMENT for an empty ref, ERR_AMBIGUOUS_ID when the prefix matches several
 * IDs, ERR_SNAPSHOT_NOT_FOUND when none matches. `latest` is not an ID: see findLatest.
 */
export function resolveSnapshotId(ids: Iterable<SnapshotId>, ref: string): SnapshotId {
  if (ref === '') throw new CairnError('ERR_INVALID_ARGUMENT', 'empty snapshot ID', { data: { ref } });
  const prefix = ref.toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(prefix)) {
    throw new CairnError('ERR_SNAPSHOT_NOT_FOUND', `no snapshot ID starts with "${ref}" (an ID is hexadecimal)`, { data: { ref } });
  }
  const matches = new Set<SnapshotId>();
  for (const id of ids) if (id.startsWith(prefix)) matches.add(id);
  if (matches.size === 0) throw new CairnError('ERR_SNAPSHOT_NOT_FOUND', `no snapshot ID starts with "${ref}"`, { data: { ref } });
  if (matches.size > 1) {
    throw new CairnError('ERR_AMBIGUOUS_ID', `"${ref}" is the prefix of ${matches.size} snapshot IDs; give more digits`, {
      data: { ref, matches: [...matches].sort() },
    });
  }
  return [...matches][0]!;
}
