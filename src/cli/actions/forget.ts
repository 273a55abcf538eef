/**
 * `cairn forget [SNAPSHOT-ID...] [--keep-* …]`: remove snapshots, either the ones named, or the
 * ones restic 0.14's retention policy does not keep (spec/forget.md). Only snapshot files are
 * removed; the data they referenced stays until a prune.
 *
 * The work is split so that more can follow the removal under the same lock (`--prune`, later):
 * `decideForget` loads the snapshots and decides, `removeSnapshots` deletes, and the action runs
 * both between taking and releasing the lock.
 */
import {
  CairnError, DEFAULT_GROUP_BY, describePolicy, findSnapshot, formatForgetJson, isCairnError, isEmptyPolicy, withLock,
  mapConcurrent, messageOf, nowTime, parseDuration, parseGroupBy, planForget, shortId,
  type Duration, type ForgetGroupPlan, type ForgetPolicy, type GroupBy, type KeepReason, type Repository, type SnapshotEntry,
  type SnapshotFilter, type SnapshotId, type Timestamp,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printText, printWarning } from '../output.js';
import { withRepo } from '../repository.js';
import { pruneOptionsFromFlags, runPrune, type PruneFlags } from './prune.js';
import { filterFrom, splitTagList } from './snapshots.js';

export interface ForgetFlags extends PruneFlags {
  prune?: boolean;
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  keepWithinHourly?: string;
  keepWithinDaily?: string;
  keepWithinWeekly?: string;
  keepWithinMonthly?: string;
  keepWithinYearly?: string;
  keepTag: string[];
  host: string[];
  tag: string[];
  path: string[];
  groupBy: string;
  compact?: boolean;
}

/** What to forget: explicit snapshots (`ids`), or the policy applied to the filtered, grouped snapshots. */
export interface ForgetRequest {
  /** Snapshot IDs, unique prefixes or `latest`; when given, the policy must be empty. */
  readonly ids: readonly string[];
  readonly policy: ForgetPolicy;
  readonly filter: SnapshotFilter;
  readonly groupBy: GroupBy;
  /** The present, for the policy's keep-within rules. */
  readonly now: Timestamp;
}

/** The decision: which snapshots go, and why the others stay. */
export interface ForgetDecision {
  /** Explicit mode: the snapshots named (each once). Undefined in policy mode. */
  readonly named?: readonly SnapshotEntry[];
  /** Policy mode: one plan per group, ordered by group key ([] in explicit mode). */
  readonly groups: readonly ForgetGroupPlan[];
  /** The snapshots to remove, sorted by ID. */
  readonly remove: readonly SnapshotId[];
}

function parseCount(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text.trim()))) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${flag} must be a whole number of snapshots, 0 or more; got "${text}"`, { data: { option: flag, value: text } });
  }
  return Number(text.trim());
}

/** The policy the --keep-* flags describe (ERR_INVALID_ARGUMENT for a bad number or duration). */
export function policyFromFlags(f: Omit<ForgetFlags, 'host' | 'tag' | 'path' | 'groupBy'>): ForgetPolicy {
  const p: { -readonly [K in keyof ForgetPolicy]: ForgetPolicy[K] } = {};
  const counts = [['keepLast', '--keep-last'], ['keepHourly', '--keep-hourly'], ['keepDaily', '--keep-daily'], ['keepWeekly', '--keep-weekly'], ['keepMonthly', '--keep-monthly'], ['keepYearly', '--keep-yearly']] as const;
  for (const [k, flag] of counts) {
    const n = parseCount(flag, f[k]);
    if (n !== undefined) p[k] = n;
  }
  const durations = [['keepWithin', '--keep-within'], ['keepWithinHourly', '--keep-within-hourly'], ['keepWithinDaily', '--keep-within-daily'], ['keepWithinWeekly', '--keep-within-weekly'], ['keepWithinMonthly', '--keep-within-monthly'], ['keepWithinYearly', '--keep-within-yearly']] as const;
  for (const [k, flag] of durations) {
    const text = f[k];
    if (text !== undefined) p[k] = parseDuration(text, flag) satisfies Duration;
  }
  if (f.keepTag.length > 0) p.keepTags = f.keepTag.map(splitTagList);
  return p;
}

/**
 * Loads the snapshots and decides what to remove. Explicit IDs: each must name exactly one
 * snapshot (`latest` honours the filter), else nothing is decided and the lookup error is thrown.
 */
export async function decideForget(repo: Repository, request: ForgetRequest): Promise<ForgetDecision> {
  const all = await repo.listSnapshots(); // oldest first, equal times by ID
  if (request.ids.length > 0) {
    const named = new Map<SnapshotId, SnapshotEntry>();
    for (const ref of request.ids) {
      const e = findSnapshot(all, ref, request.filter);
      named.set(e.id, e);
    }
    const list = [...named.values()];
    return { named: list, groups: [], remove: list.map((e) => e.id).sort() };
  }
  const groups = planForget(all, { policy: request.policy, filter: request.filter, groupBy: request.groupBy, now: request.now });
  const remove = isEmptyPolicy(request.policy) ? [] : groups.flatMap((g) => g.remove.map((e) => e.id)).sort();
  return { groups, remove };
}

/**
 * Removes the snapshot files (a few at a time) and returns the IDs removed, sorted. Stops at the
 * first failure with an error that says how many were removed before it; stops with
 * ERR_INTERRUPTED when `signal` aborts.
 */
export async function removeSnapshots(repo: Repository, ids: readonly SnapshotId[], signal?: AbortSignal): Promise<SnapshotId[]> {
  const removed: SnapshotId[] = [];
  try {
    await mapConcurrent(ids, 4, async (id) => {
      if (signal?.aborted === true) {
        throw new CairnError('ERR_INTERRUPTED', 'forget was interrupted');
      }
      await repo.backend.remove({ type: 'snapshot', name: id });
      removed.push(id);
    });
  } catch (e) {
    const code = isCairnError(e) ? e.code : 'ERR_BACKEND';
    throw new CairnError(code, `forget: ${removed.length} of ${ids.length} snapshots were removed before this failure: ${messageOf(e)}`, {
      cause: e,
      data: { removed: [...removed].sort(), failed: ids.length - removed.length },
    });
  }
  return removed.sort();
}

// ---- text output, shaped like restic's -----------------------------------------------------------

/** restic's snapshot table (PrintSnapshots): oldest first, with a Reasons column for kept ones. */
function snapshotTable(list: readonly SnapshotEntry[], reasons: readonly KeepReason[] | undefined, compact: boolean): string {
  const why = new Map(reasons?.map((r) => [r.entry.id, r.matches]) ?? []);
  const rows = [...list].sort((a, b) => a.snapshot.time.sec - b.snapshot.time.sec || a.snapshot.time.nsec - b.snapshot.time.nsec);
  const head = compact ? ['ID', 'Time', 'Host', 'Tags  '] : ['ID', 'Time', 'Host      ', 'Tags      ', ...(reasons !== undefined && reasons.length > 0 ? ['Reasons'] : []), 'Paths'];
  const withReasons = head.includes('Reasons');
  const cells = rows.map((e) => {
    const s = e.snapshot;
    const base = [e.id.slice(0, 8), tableTime(s.time), s.hostname ?? '', (s.tags ?? []).join(compact ? '\n' : ',')];
    if (compact) return base;
    return [...base, ...(withReasons ? [(why.get(e.id) ?? []).join('\n')] : []), s.paths.join('\n')];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => Math.max(...r[i]!.split('\n').map((x) => x.length)))));
  const total = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const lines = (row: readonly string[]): string[] => {
    const split = row.map((c) => c.split('\n'));
    const n = Math.max(...split.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => split.map((l, j) => (l[i] ?? '').padEnd(widths[j]!)).join('  ').trimEnd());
  };
  const multiline = !compact && rows.some((e) => e.snapshot.paths.length > 1);
  const out = [...lines(head), '-'.repeat(total)];
  cells.forEach((r, i) => {
    if (multiline && i > 0) out.push('');
    out.push(...lines(r));
  });
  out.push('-'.repeat(total), `${rows.length} snapshots`);
  return out.join('\n');
}

/** restic's group header (`snapshots for (host [h], paths [/a]):`), or undefined without grouping. */
function groupHeader(g: ForgetGroupPlan): string | undefined {
  const parts: string[] = [];
  if (g.hostname !== '') parts.push(`host [${g.hostname}]`);
  if (g.tags !== null) parts.push(`tags [${g.tags.join(', ')}]`);
  if (g.paths !== null) parts.push(`paths [${g.paths.join(', ')}]`);
  return parts.length === 0 ? undefined : `snapshots for (${parts.join(', ')}):`;
}

function idSet(ids: readonly SnapshotId[]): string {
  return '{' + ids.map(shortId).join(' ') + '}';
}

function hasFilter(f: SnapshotFilter): boolean {
  return (f.hosts ?? []).length + (f.tags ?? []).length + (f.paths ?? []).length > 0;
}

/** The action of `cairn forget` (its options: ../commands/forget.ts). */
export async function forgetAction(ctx: CommandContext, ids: string[], flags: ForgetFlags): Promise<void> {
  const g = ctx.globals();
  const policy = policyFromFlags(flags);
  const groupBy = flags.groupBy === 'host,paths' ? DEFAULT_GROUP_BY : parseGroupBy(flags.groupBy);
  const filter = filterFrom(flags);
  if (ids.length > 0 && !isEmptyPolicy(policy)) {
    throw new CairnError('ERR_USAGE', 'give either snapshot IDs or --keep-* options, not both (named snapshots are removed regardless of any policy)');
  }
  const dryRun = flags.dryRun === true;
  // Validated before the password is asked for.
  const pruneOptions = flags.prune === true ? pruneOptionsFromFlags(flags) : undefined;
  const compact = flags.compact === true;
  const text = (s: string): void => {
    if (!g.json) printText(ctx, s);
  };
  const warn = (message: string): void => printWarning(ctx, { message, during: 'forget' });
  if (ids.length > 0 && !ids.includes('latest') && hasFilter(filter)) warn('--host, --tag and --path are ignored when snapshot IDs are given');
  await withRepo(ctx, async (repo) => {
    // restic 0.14 locks exclusively even for --dry-run; a dry run changes nothing, so a shared
    // lock is enough to keep a prune from running underneath it (spec/forget.md).
    await withLock(repo, { exclusive: !dryRun, onWarning: (w) => warn(w.message) }, async (held) => {
      const lock = held!;
      const decision = await decideForget(repo, { ids, policy, filter, groupBy, now: nowTime() });
      if (ids.length === 0) {
        if (isEmptyPolicy(policy)) text('no policy was specified, no snapshots will be removed');
        else {
          text(`Applying Policy: ${describePolicy(policy)}`);
          for (const grp of decision.groups) {
            const header = groupHeader(grp);
            if (header !== undefined) text(header);
            if (grp.keep.length > 0) text(`keep ${grp.keep.length} snapshots:\n${snapshotTable(grp.keep, grp.reasons, compact)}\n\n`);
            if (grp.remove.length > 0) text(`remove ${grp.remove.length} snapshots:\n${snapshotTable(grp.remove, undefined, compact)}\n\n`);
          }
        }
      }
      let removed: SnapshotId[] = [];
      if (decision.remove.length > 0) {
        if (dryRun) text(`Would have removed the following snapshots:\n${idSet(decision.remove)}\n\n`);
        else {
          await lock.check(); // the lock must still be ours before anything is deleted
          removed = await removeSnapshots(repo, decision.remove, ctx.io.signal);
          if (g.verbose > 0) for (const id of removed) text(`removed snapshot ${id}`);
          text(`removed ${removed.length} snapshots: ${idSet(removed)}`);
        }
      }
      if (g.json && !isEmptyPolicy(policy) && decision.groups.length > 0) ctx.io.stdout.write(formatForgetJson(decision.groups));
      // --prune: the prune engine, under this same lock, when snapshots were (or, in a dry
      // run, would be) removed — as restic runs prune only then.
      if (pruneOptions !== undefined && decision.remove.length > 0) {
        text(dryRun ? `${decision.remove.length} snapshots would be removed, running prune in dry-run mode` : `${removed.length} snapshots have been removed, running prune`);
        await runPrune(ctx, repo, { ...pruneOptions, dryRun, lock, ...(dryRun ? { ignoreSnapshots: decision.remove } : {}) });
      }
    });
  });
}
