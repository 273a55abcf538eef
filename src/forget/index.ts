/**
 * Forget: restic 0.14's retention policy as pure decisions. Given snapshots (with their IDs), a
 * host/tag/path filter, a grouping (`--group-by`) and a policy (`--keep-*`), it says for each
 * group which snapshots to keep, with the reasons restic gives ("daily snapshot", "within 2d",
 * "has tags [a]"), and which to remove; it also formats that as `restic forget --json` prints it,
 * and parses the policy's durations (`1y5m7d2h`) and `--group-by` the way restic reads them.
 *
 * Invariants: the decisions are restic 0.14's for the same snapshots and the same `now` (the
 * test compares with restic itself), except where spec/forget.md says otherwise; calendar
 * buckets are read on the wall clock of each snapshot's own stored UTC offset; nothing here does
 * I/O or reads the clock (the caller passes `now`) and inputs are never modified; invalid
 * policies, durations and groupings fail with ERR_INVALID_ARGUMENT. Removing the snapshots the
 * plan names is the caller's job, under an exclusive lock.
 */
export { parseDuration, formatDuration, isZeroDuration, ZERO_DURATION, MAX_DURATION_PART, type Duration } from './duration.js';
export {
  applyPolicy, validatePolicy, isEmptyPolicy, describePolicy, formatTagList,
  type ForgetPolicy, type PolicyCounters, type KeepReason, type PolicyResult, type ApplyPolicyOptions,
} from './policy.js';
export { parseGroupBy, formatGroupBy, groupSnapshots, DEFAULT_GROUP_BY, type GroupBy, type SnapshotGroup } from './group.js';
export { planForget, type ForgetPlanOptions, type ForgetGroupPlan } from './plan.js';
export { formatForgetJson } from './json.js';
export { addDate, isoWeek, wallClock, type WallClock } from './calendar.js';
