/**
 * Copying snapshots between repositories (restic's `copy`): offsite copies, re-encrypted for the
 * target, deduplicated against what the target holds.
 *
 * Invariants: a source snapshot that already has a similar copy in the target (restic's
 * similarSnapshots, by persistent ID) is skipped; every blob is verified when read from the source
 * and stored at most once per target; blobs are durable, then indexed, before the snapshot naming
 * them is saved; both repositories are locked shared for the run.
 */
export {
  copySnapshots, isSimilarSnapshot, findCopy, indexCopies, copiedSnapshot,
  type CopySnapshotsOptions, type CopyEvent, type CopyCounts, type CopyResult, type CopyRepository,
} from './copy.js';
