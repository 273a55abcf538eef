/**
 * Prune: remove what no snapshot needs. Plan, then execute (GUIDE 8): `planPrune` walks every
 * snapshot's trees to find the blobs in use, sorts each pack into keep, repack or delete by
 * restic 0.14's rules, and returns the plan with its statistics, writing nothing; `executePrune`
 * carries it out; `prune` does both under an exclusive lock.
 *
 * Invariants: the whole prune — planning included — runs under an exclusive lock (a snapshot
 * written meanwhile could reuse blobs the plan thinks unused); a snapshot or tree that cannot be
 * loaded stops the plan before anything changes; every blob is verified (MAC, SHA-256) before it is
 * copied into a new pack; and writes and deletes follow the order new packs → new index → old index
 * removed → packs removed, so the repository is valid at every instant (spec/prune.md).
 */
export { planPrune, isNoop, type PrunePlan, type PruneStats, type PruneRepository } from './plan.js';
export { executePrune, type ExecutePruneOptions, type PruneResult } from './execute.js';
export {
  parseMaxUnused, maxUnusedBytes, formatMaxUnused, DEFAULT_MAX_UNUSED,
  type MaxUnused, type PruneOptions, type PruneCallbacks, type PruneEvent, type PrunePhase, type PruneWarning,
} from './options.js';
export { prune, type PruneRunOptions, type PruneOutcome } from './prune.js';
