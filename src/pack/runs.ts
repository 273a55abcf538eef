/**
 * Reading several blobs of one pack at once: close neighbours share one read. Copy, prune and
 * check group the blobs they need this way, each with its own bounds.
 */
import type { PackId } from '../model/index.js';

/** Where a blob lies in its pack. */
export interface PackPlace {
  readonly offset: number;
  readonly length: number;
}

/**
 * Splits one pack's blobs, sorted by offset, into runs read at once: a blob joins the run before
 * it when it starts at most `gap` bytes after the run's end and the run then spans at most `max`
 * bytes (a single larger blob is a run of its own). `at` says where an item lies.
 */
export function readRuns<T>(sorted: readonly T[], at: (item: T) => PackPlace, gap: number, max: number): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let start = 0;
  let end = 0;
  for (const item of sorted) {
    const { offset, length } = at(item);
    if (run.length > 0 && (offset - end > gap || offset + length - start > max)) {
      runs.push(run);
      run = [];
    }
    if (run.length === 0) {
      start = offset;
      end = offset + length;
    } else end = Math.max(end, offset + length);
    run.push(item);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** One read of a pack: bytes [start, end) hold `items` (in offset order). */
export interface PackRead<T> {
  readonly pack: PackId;
  readonly start: number;
  readonly end: number;
  readonly items: T[];
}

/**
 * The reads that fetch `items` from the packs they lie in: grouped by pack (packs in ID order),
 * sorted by offset, and split as readRuns splits them. `at` says where an item lies.
 */
export function packReads<T>(items: readonly T[], at: (item: T) => PackPlace & { readonly pack: PackId }, gap: number, max: number): PackRead<T>[] {
  const byPack = new Map<PackId, T[]>();
  for (const item of items) {
    const pack = at(item).pack;
    const list = byPack.get(pack);
    if (list === undefined) byPack.set(pack, [item]);
    else list.push(item);
  }
  const reads: PackRead<T>[] = [];
  for (const [pack, list] of [...byPack].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    list.sort((a, b) => at(a).offset - at(b).offset);
    for (const run of readRuns(list, at, gap, max)) {
      const start = at(run[0]!).offset;
      const end = run.reduce((e, item) => Math.max(e, at(item).offset + at(item).length), 0);
      reads.push({ pack, start, end, items: run });
    }
  }
  return reads;
}
