/**
 * A whole `forget` decision, as restic 0.14 takes it without explicit snapshot IDs: keep the
 * snapshots passing the host/tag/path filter, split them into groups, apply the policy to each
 * group. Pure: the caller lists the snapshots and passes `now`.
 */
import { filterSnapshots, type SnapshotEntry, type SnapshotFilter } from '../snapshot/index.js';
import type { Timestamp } from '../tree/index.js';
import { DEFAULT_GROUP_BY, groupSnapshots, type GroupBy, type SnapshotGroup } from './group.js';
import { applyPolicy, validatePolicy, type ForgetPolicy, type PolicyResult } from './policy.js';

export interface ForgetPlanOptions {
  readonly policy: ForgetPolicy;
  /** Only snapshots passing this filter are considered (the others are kept, untouched). @default {} */
  readonly filter?: SnapshotFilter;
  /** @default host and paths */
  readonly groupBy?: GroupBy;
  /** The present (see applyPolicy). */
  readonly now: Timestamp;
}

/** One group with the policy's decisions for it. */
export interface ForgetGroupPlan<T extends SnapshotEntry = SnapshotEntry> extends SnapshotGroup<T>, PolicyResult<T> {}

/**
 * Filters, groups (ordered by key) and applies the policy to each group. Snapshots not passing
 * the filter appear in no group. Throws ERR_INVALID_ARGUMENT for an invalid policy.
 */
export function planForget<T extends SnapshotEntry>(entries: readonly T[], options: ForgetPlanOptions): ForgetGroupPlan<T>[] {
  validatePolicy(options.policy);
  const groups = groupSnapshots(filterSnapshots(entries, options.filter ?? {}), options.groupBy ?? DEFAULT_GROUP_BY);
  return groups.map((g) => ({ ...g, ...applyPolicy(g.entries, options.policy, { now: options.now }) }));
}
