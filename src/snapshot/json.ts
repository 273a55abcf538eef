/**
 * What `restic snapshots --json` (0.14) prints: for each snapshot its stored fields (unknown
 * `extra` fields left out, as restic 0.14 does not know them), then `id` and `short_id` (the
 * first 8 hex digits). The whole list is one JSON array written by Go's json.Encoder: HTML
 * characters escaped, a newline at the end, `[]` when nothing matches.
 */
import { shortId, type SnapshotId } from '../model/index.js';
import { ByteWriter, decodeUtf8 } from '../util/index.js';
import { formatTime } from '../tree/index.js';
import { writeSnapshotFields } from './codec.js';
import type { Snapshot, SnapshotEntry } from './types.js';

/**
 * One element of `restic snapshots --json`: the snapshot's fields in restic's order (the time as
 * RFC 3339 text), then its ID and short ID.
 */
export type SnapshotJson = Omit<Snapshot, 'time' | 'extra'> & { readonly time: string; readonly id: string; readonly short_id: string };

/** The object restic 0.14's `snapshots --json` prints for one snapshot (keys in its order). */
export function snapshotJson(id: SnapshotId, s: Snapshot): SnapshotJson {
  const o: Record<string, unknown> = { time: formatTime(s.time) };
  if (s.parent !== undefined) o['parent'] = s.parent;
  o['tree'] = s.tree;
  o['paths'] = [...s.paths];
  if (s.hostname !== undefined && s.hostname !== '') o['hostname'] = s.hostname;
  if (s.username !== undefined && s.username !== '') o['username'] = s.username;
  if (s.uid !== undefined && s.uid !== 0) o['uid'] = s.uid;
  if (s.gid !== undefined && s.gid !== 0) o['gid'] = s.gid;
  if (s.excludes !== undefined && s.excludes.length > 0) o['excludes'] = [...s.excludes];
  if (s.tags !== undefined && s.tags.length > 0) o['tags'] = [...s.tags];
  if (s.original !== undefined) o['original'] = s.original;
  o['id'] = id;
  o['short_id'] = shortId(id);
  return o as unknown as SnapshotJson;
}

/**
 * The exact text `restic snapshots --json` prints for these snapshots, in the given order (restic
 * prints oldest first: see sortSnapshots), Go-escaped, with the final newline.
 */
export function formatSnapshotsJson(list: readonly SnapshotEntry[]): string {
  const w = new ByteWriter(256 + list.length * 512);
  w.byte(0x5b);
  list.forEach((e, i) => {
    if (i > 0) w.byte(0x2c);
    w.byte(0x7b);
    writeSnapshotFields(w, e.snapshot, false);
    w.ascii(`,"id":"${e.id}","short_id":"${shortId(e.id)}"}`);
  });
  w.ascii(']\n');
  return decodeUtf8(w.result());
}
