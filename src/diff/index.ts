/**
 * Differences between two snapshots (restic's `diff`): which entries were added, removed, changed
 * in content (`M`, by the list of data blobs, never by mtime), changed type (`T`) or, on request,
 * changed only in metadata (`U`); and which blobs each side alone refers to, with their sizes.
 *
 * Invariants: read-only (a shared lock file at most); identical subtrees (same tree ID) are never
 * walked for the listing, so a diff costs what differs, not what the snapshots hold; the
 * statistics are symmetric — what diff(A, B) counts as added, diff(B, A) counts as removed; a
 * diff of a snapshot with itself is empty. Changes come through a callback in path order.
 */
export {
  diffTrees, diffSnapshots,
  type DiffRepository, type DiffChange, type DiffModifier, type DiffStat, type DiffResult, type DiffOptions, type DiffSnapshotsOptions, type DiffSummary,
} from './diff.js';
/** Whether two entries' metadata is the same, as `--metadata` reports it (from tree). */
export { sameMetadata } from '../tree/index.js';
