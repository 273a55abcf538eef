/**
 * Grouping snapshots for `forget` (restic 0.14's GroupSnapshots): the policy runs separately on
 * each group. `--group-by` names any combination of `host`, `paths` and `tags` (also `hosts`,
 * `path`, `tag`), comma-separated; the empty string (or only empty items) puts every snapshot into
 * one group. The key of a snapshot's group is the Go JSON of `{"hostname","paths","tags"}` with
 * the fields not grouped by left empty (`""`, `null`, `null`), its paths sorted, and its tags
 * sorted.
 *
 * Like restic, grouping shows the snapshots with their paths sorted (restic sorts them in place
 * for every snapshot) and, when grouping by tags, their tags sorted; the entries handed back
 * carry these sorted copies, which is what `forget --json` prints.
 *
 * restic keeps groups in a Go map, so their order differs from run to run; cairn orders groups
 * by key. Within a group, entries keep the order they came in.
 */
import { CairnError } from '../errors.js';
import type { SnapshotEntry } from '../snapshot/index.js';
import { goJsonString } from '../util/index.js';

export interface GroupBy {
  readonly host: boolean;
  readonly paths: boolean;
  readonly tags: boolean;
}

/** restic's default: `host,paths`. */
export const DEFAULT_GROUP_BY: GroupBy = Object.freeze({ host: true, paths: true, tags: false });

/** Parses `--group-by` (e.g. `host,tags`, or `''` for one group). ERR_INVALID_ARGUMENT for an unknown field. */
export function parseGroupBy(text: string): GroupBy {
  let host = false;
  let paths = false;
  let tags = false;
  for (const item of text.split(',')) {
    switch (item) {
      case 'host':
      case 'hosts':
        host = true;
        break;
      case 'path':
      case 'paths':
        paths = true;
        break;
      case 'tag':
      case 'tags':
        tags = true;
        break;
      case '':
        break;
      default:
        throw new CairnError('ERR_INVALID_ARGUMENT', `--group-by: unknown field "${item}" in "${text}"; use host, paths and/or tags separated by commas, or '' for no grouping`, {
          data: { option: '--group-by', value: text, field: item },
        });
    }
  }
  return { host, paths, tags };
}

/** `host,paths`-style text of a GroupBy (the empty string for no grouping). */
export function formatGroupBy(by: GroupBy): string {
  return [by.host ? 'host' : '', by.paths ? 'paths' : '', by.tags ? 'tags' : ''].filter((s) => s !== '').join(',');
}

export interface SnapshotGroup<T extends SnapshotEntry = SnapshotEntry> {
  /** restic's group key: Go JSON of {"hostname","paths","tags"}. */
  readonly key: string;
  /** The host of the group; "" when not grouping by host. */
  readonly hostname: string;
  /** The sorted paths of the group; null when not grouping by paths. */
  readonly paths: readonly string[] | null;
  /** The sorted tags of the group; null when not grouping by tags or the snapshots have none. */
  readonly tags: readonly string[] | null;
  /** The group's snapshots, as shown by restic (paths sorted; tags sorted when grouping by tags). */
  readonly entries: readonly T[];
}

function sorted(list: readonly string[]): string[] {
  // Go's sort.Strings orders by bytes (UTF-8); for JS strings, code points give the same order.
  return [...list].sort((a, b) => {
    const x = [...a];
    const y = [...b];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
      if (d !== 0) return d;
    }
    return x.length - y.length;
  });
}

function groupKey(hostname: string, paths: readonly string[] | null, tags: readonly string[] | null): string {
  const list = (l: readonly string[] | null): string => (l === null ? 'null' : '[' + l.map(goJsonString).join(',') + ']');
  return `{"hostname":${goJsonString(hostname)},"paths":${list(paths)},"tags":${list(tags)}}`;
}

/** Splits snapshots into groups (see the file comment); groups ordered by key. */
export function groupSnapshots<T extends SnapshotEntry>(entries: readonly T[], by: GroupBy): SnapshotGroup<T>[] {
  const groups = new Map<string, { hostname: string; paths: string[] | null; tags: string[] | null; entries: T[] }>();
  for (const e of entries) {
    const s = e.snapshot;
    const paths = sorted(s.paths);
    const ownTags = s.tags ?? [];
    const tags = by.tags && ownTags.length > 0 ? sorted(ownTags) : null;
    const shown = { ...s, paths, ...(by.tags && ownTags.length > 0 ? { tags: sorted(ownTags) } : {}) };
    const entry = { ...e, snapshot: shown } as T;
    const hostname = by.host ? (s.hostname ?? '') : '';
    const groupPaths = by.paths ? paths : null;
    const key = groupKey(hostname, groupPaths, tags);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { hostname, paths: groupPaths, tags, entries: [entry] });
    else g.entries.push(entry);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, g]) => ({ key, hostname: g.hostname, paths: g.paths, tags: g.tags, entries: g.entries }));
}
