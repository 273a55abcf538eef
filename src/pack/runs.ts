/**
 * Reading several blobs of one pack at once: close neighbours share one read. Copy, prune and
 * check group the blobs they need this way, each with its own bounds.
 */

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
