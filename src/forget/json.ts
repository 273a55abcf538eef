/**
 * `forget --json` as restic 0.14 prints it (json.Encoder: Go escaping, one line, a final
 * newline): an array with one object per group,
 * `{"tags","host","paths","keep","remove","reasons"}`.
 *
 * - `tags`, `paths`: the group's key fields, `null` when not grouped by them (and `tags` null
 *   for untagged snapshots); `host`: `""` when not grouped by host.
 * - `keep`, `remove`: snapshots newest first, each as `snapshots --json` shows it (stored fields,
 *   then `id` and `short_id`); `null` (not `[]`) when empty.
 * - `reasons`: one per kept snapshot, `{"snapshot","matches","counters"}`, where `snapshot` has
 *   the stored fields only (no `id`: restic marshals its internal struct there) and `counters`
 *   leaves out zero counts (`{}` when all are zero).
 * Fields of newer restic versions kept in a snapshot's `extra` are not shown (restic 0.14 does not
 * know them).
 */
import { encodeSnapshot, formatSnapshotsJson, type Snapshot, type SnapshotEntry } from '../snapshot/index.js';
import { decodeUtf8, goJsonString } from '../util/index.js';
import type { ForgetGroupPlan } from './plan.js';
import type { PolicyCounters } from './policy.js';

function strings(list: readonly string[] | null): string {
  return list === null ? 'null' : '[' + list.map(goJsonString).join(',') + ']';
}

function snapshots(list: readonly SnapshotEntry[]): string {
  return list.length === 0 ? 'null' : formatSnapshotsJson(list).replace(/\n$/, '');
}

function withoutExtra(s: Snapshot): Snapshot {
  const { extra: _extra, ...rest } = s;
  return rest;
}

function counters(c: PolicyCounters): string {
  const parts: string[] = [];
  for (const k of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) if (c[k] !== 0) parts.push(`"${k}":${c[k]}`);
  return '{' + parts.join(',') + '}';
}

/** The exact text of `restic forget --json` for these groups (see the file comment). */
export function formatForgetJson(groups: readonly ForgetGroupPlan[]): string {
  const out = groups.map((g) => {
    const reasons = g.reasons.length === 0
      ? 'null'
      : '[' + g.reasons.map((r) => `{"snapshot":${decodeUtf8(encodeSnapshot(withoutExtra(r.entry.snapshot)))},"matches":${strings(r.matches)},"counters":${counters(r.counters)}}`).join(',') + ']';
    return `{"tags":${strings(g.tags)},"host":${goJsonString(g.hostname)},"paths":${strings(g.paths)},"keep":${snapshots(g.keep)},"remove":${snapshots(g.remove)},"reasons":${reasons}}`;
  });
  return '[' + out.join(',') + ']\n';
}
