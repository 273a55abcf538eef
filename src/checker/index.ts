/**
 * Checking and repairing a repository: `checkRepository` (restic's `check`, with `--read-data`
 * and its subsets), `repairIndex` (a new index from the pack headers, restic 0.14's
 * `rebuild-index`) and `repairSnapshots` (restic 0.16's `repair snapshots`: snapshots rewritten
 * without the data they lost).
 *
 * Invariants: check never writes (but its lock file) and never stops at the first problem: every
 * problem is reported through a callback and counted. Repairs hold an exclusive lock, write new
 * files before they delete old ones (new index files before the old are removed; new trees,
 * packs and index before the snapshot that refers to them), and never delete a pack. spec/check.md
 * describes the behaviour in full.
 */
export {
  checkRepository,
  type CheckRepository, type CheckOptions, type CheckSummary, type CheckProblem, type CheckProblemKind, type CheckHint, type CheckHintKind, type CheckPhase,
} from './check.js';
export { parseReadDataSubset, selectPacks, MAX_SUBSET_GROUPS, type ReadDataSelection } from './subset.js';
export { PackTable, type Overlap } from './pack-table.js';
export { repairIndex, type RepairIndexRepository, type RepairIndexOptions, type RepairIndexEvent, type RepairIndexSummary } from './repair-index.js';
export {
  repairSnapshots, REPAIRED_TAG,
  type RepairSnapshotsRepository, type RepairSnapshotsOptions, type RepairSnapshotsEvent, type RepairSnapshotsSummary,
} from './repair-snapshots.js';
