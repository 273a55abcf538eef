/**
 * `prune`: plan and execute under one exclusive lock (taken here unless the caller holds one, as
 * `forget --prune` does), released on every path out.
 */
import { withLock, type LockWarning, type RepoLock, type Repository } from '../repository/index.js';
import { executePrune, type PruneResult } from './execute.js';
import type { PruneOptions } from './options.js';
import { planPrune, type PrunePlan } from './plan.js';

export interface PruneRunOptions extends PruneOptions {
  /** Plan only: print what would be done, change nothing. @default false */
  readonly dryRun?: boolean;
  /** An exclusive lock the caller already holds; otherwise one is taken (ERR_REPO_LOCKED if busy). */
  readonly lock?: RepoLock;
  /** Problems with the lock while it is held (a failed refresh). @default process.emitWarning */
  readonly onLockWarning?: (w: LockWarning) => void;
  /** Called with the plan before it is executed (to show it). */
  readonly onPlan?: (plan: PrunePlan) => void;
}

export interface PruneOutcome {
  readonly plan: PrunePlan;
  /** Undefined for a dry run. */
  readonly result?: PruneResult;
  /**
   * Temporary files of interrupted saves removed (`.tmp-*`: a killed process's half-written file
   * or a blob worker's pack in progress), on backends that can list them. Undefined for a dry run.
   */
  readonly leftovers?: { readonly files: number; readonly bytes: number };
}

export async function prune(repo: Repository, options: PruneRunOptions = {}): Promise<PruneOutcome> {
  const use = { exclusive: true, held: options.lock, onWarning: options.onLockWarning };
  return withLock(repo, use, async (lock) => {
    const plan = await planPrune(repo, options);
    options.onPlan?.(plan);
    if (options.dryRun === true) return { plan };
    const result = await executePrune(repo, plan, { ...options, lock: lock! });
    // Under the exclusive lock no writer is active: every temporary file is a leftover.
    await lock!.check();
    const leftovers = (await repo.backend.removeLeftovers?.()) ?? { files: 0, bytes: 0 };
    return { plan, result, leftovers };
  });
}
