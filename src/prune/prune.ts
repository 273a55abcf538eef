/**
 * `prune`: plan and execute under one exclusive lock (taken here unless the caller holds one, as
 * `forget --prune` does), released on every path out.
 */
import { messageOf } from '../errors.js';
import { lockRepository, type LockWarning, type RepoLock, type Repository } from '../repository/index.js';
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
}

export async function prune(repo: Repository, options: PruneRunOptions = {}): Promise<PruneOutcome> {
  const own = options.lock === undefined;
  const lock = options.lock ?? (await lockRepository(repo, { exclusive: true, ...(options.onLockWarning ? { onWarning: options.onLockWarning } : {}) }));
  let outcome: PruneOutcome;
  try {
    const plan = await planPrune(repo, options);
    options.onPlan?.(plan);
    outcome = options.dryRun === true ? { plan } : { plan, result: await executePrune(repo, plan, { ...options, lock }) };
  } catch (e) {
    if (own) {
      // The prune's failure is the error to report; a failure to remove the lock on top of it is
      // reported as a warning (the lock is then stale: `cairn unlock` removes it).
      await lock.release().catch((r: unknown) => {
        const w: LockWarning = { code: 'LOCK_RELEASE_FAILED', message: `could not remove the lock ${lock.id.slice(0, 8)} after the prune failed: ${messageOf(r)}; remove it with \`cairn unlock\``, cause: r };
        if (options.onLockWarning) options.onLockWarning(w);
        else process.emitWarning(w.message, { code: `CAIRN_${w.code}` });
      });
    }
    throw e;
  }
  if (own) await lock.release();
  return outcome;
}
