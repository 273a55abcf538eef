/**
 * `cairn prune`: remove data no snapshot needs (spec/prune.md). `runPrune` is the routine itself,
 * exported with `addPruneOptions` and `pruneOptionsFromFlags` so that `forget --prune` runs the
 * very same code with the same flags.
 */
import {
  formatSize, isNoop, parseMaxUnused, parseSize, prune,
  type Progress, type PruneEvent, type PruneOptions, type PruneOutcome, type PrunePlan, type PruneResult, type PruneStats, type RepoLock, type Repository,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText, printWarning } from '../output.js';
import { withStatus, type StatusReporter } from '../progress.js';
import { withRepo } from '../repository.js';

/** The prune flags as commander parses them. */
export interface PruneFlags {
  maxUnused?: string;
  maxRepackSize?: string;
  repackUncompressed?: boolean;
  dryRun?: boolean;
}

/** The library options the flags ask for (throws ERR_INVALID_ARGUMENT for a bad value). */
export function pruneOptionsFromFlags(flags: PruneFlags): Pick<PruneOptions, 'maxUnused' | 'maxRepackBytes' | 'repackUncompressed'> {
  return {
    maxUnused: parseMaxUnused(flags.maxUnused ?? '5%'),
    ...(flags.maxRepackSize !== undefined ? { maxRepackBytes: parseSize(flags.maxRepackSize, '--max-repack-size') } : {}),
    repackUncompressed: flags.repackUncompressed === true,
  };
}

/**
 * The status counters from a prune event: each phase with a count starts a new total; packs
 * repacked or deleted and index files written or deleted are its items, pack bytes its bytes.
 */
function countEvent(p: Progress, e: PruneEvent): void {
  switch (e.type) {
    case 'phase':
      Object.assign(p, { phase: e.phase, itemsDone: 0, bytesDone: 0, itemsTotal: e.count ?? -1, bytesTotal: e.count === undefined ? -1 : 0 });
      return;
    case 'pack-written':
      p.bytesDone += e.size;
      return;
    case 'pack-deleted':
      p.bytesDone += e.size;
      p.itemsDone++;
      return;
    default:
      p.itemsDone++;
  }
}

/** Options of runPrune: the flags (parsed) plus the lock `forget --prune` already holds. */
export type RunPruneOptions = Pick<PruneOptions, 'maxUnused' | 'maxRepackBytes' | 'repackUncompressed' | 'ignoreSnapshots'> & {
  readonly dryRun?: boolean;
  /** An exclusive lock the caller holds (forget --prune); otherwise runPrune takes one. */
  readonly lock?: RepoLock;
  /** The status line (progress.ts) to feed from the prune's events and finish before the summary. */
  readonly status?: StatusReporter;
};

/**
 * The prune command's work on an opened repository: lock (unless held), plan, print the plan,
 * execute unless --dry-run, print what was done (text, or one JSON summary with --json). The lock
 * taken here is released on every path out.
 */
export async function runPrune(ctx: CommandContext, repo: Repository, options: RunPruneOptions): Promise<PruneOutcome> {
  const g = ctx.globals();
  const started = Date.now();
  const text = !g.json;
  const say = (line: string): void => {
    if (text) printText(ctx, line);
  };
  let warnings = 0;
  const warn = (message: string): void => {
    warnings++;
    printWarning(ctx, { message, during: 'prune' });
  };
  const progress = options.status?.progress;
  const onEvent = (e: PruneEvent): void => {
    if (progress !== undefined) countEvent(progress, e);
    if (!text) return;
    const line = eventLine(e, g.verbose);
    if (line !== undefined) say(line);
  };
  const callbacks = { signal: ctx.io.signal, onEvent, onWarning: (w: { message: string }) => warn(w.message) };

  // The library's prune: lock (unless forget --prune holds one), plan, show it, execute.
  const { status: _status, ...pruneOptions } = options;
  const { plan, result, leftovers } = await prune(repo, {
    ...pruneOptions,
    ...callbacks,
    onLockWarning: (w) => warn(w.message),
    onPlan: (p) => {
      if (!text) return;
      say('');
      say(statsText(p.stats));
      if (options.dryRun === true && g.verbose > 0) {
        for (const id of p.unreferencedPacks) say(`would delete unreferenced pack ${id}`);
        for (const id of p.removePacks) say(`would delete unused pack ${id}`);
        for (const id of p.repackPacks) say(`would repack pack ${id}`);
      }
      say('');
    },
  });

  options.status?.finish();
  const seconds = (Date.now() - started) / 1000;
  ctx.recordMetrics({ errors: warnings, repositorySize: result !== undefined ? plan.stats.remainingSize : plan.stats.totalSize });
  if (g.json) {
    printJson(ctx, { ...summaryJson(plan, result, options.dryRun === true, seconds), ...(leftovers === undefined ? {} : { temporary_files_deleted: leftovers.files, temporary_bytes_deleted: leftovers.bytes }) });
  } else if (options.dryRun === true) {
    say(isNoop(plan) ? 'dry run: nothing to prune' : 'dry run: nothing was changed');
  } else if (result !== undefined) {
    say(isNoop(plan) ? 'nothing to prune' : resultText(result));
    if (leftovers !== undefined && leftovers.files > 0) {
      say(`removed ${leftovers.files} temporary file${leftovers.files === 1 ? '' : 's'} left by interrupted saves (${formatSize(leftovers.bytes)})`);
    }
  }
  return result === undefined ? { plan } : { plan, result };
}

const PHASE_TEXT: Record<string, (n: number | undefined) => string> = {
  'load-index': () => 'loading index files',
  'load-snapshots': () => 'loading snapshots',
  'find-used': (n) => `finding the data ${n ?? 0} snapshots use`,
  classify: () => 'sorting packs into keep, repack and delete',
  'delete-unreferenced': (n) => `deleting ${n ?? 0} unreferenced packs`,
  repack: (n) => `repacking ${n ?? 0} packs`,
  'write-index': (n) => `writing the new index (${n ?? 0} packs)`,
  'delete-index': (n) => `deleting ${n ?? 0} old index files`,
  'delete-packs': (n) => `deleting ${n ?? 0} packs`,
  done: () => 'done',
};

function eventLine(e: PruneEvent, verbose: number): string | undefined {
  switch (e.type) {
    case 'phase':
      return PHASE_TEXT[e.phase]!(e.count);
    case 'pack-written':
      return verbose > 0 ? `wrote pack ${e.pack} (${e.blobs} blobs, ${formatSize(e.size)})` : undefined;
    case 'pack-repacked':
      return verbose > 0 ? `repacked pack ${e.pack} (${e.blobs} blobs copied)` : undefined;
    case 'index-written':
      return verbose > 0 ? `wrote index ${e.id}` : undefined;
    case 'index-deleted':
      return verbose > 0 ? `deleted index ${e.id}` : undefined;
    case 'pack-deleted':
      return verbose > 0 ? `deleted ${e.reason} pack ${e.pack} (${formatSize(e.size)})` : undefined;
  }
}

function percent(part: number, whole: number): string {
  return `${whole === 0 ? '0.00' : ((100 * part) / whole).toFixed(2)}%`;
}

function row(label: string, blobs: number | undefined, size: number, rest = ''): string {
  return `${label.padEnd(20)}${blobs === undefined ? ''.padStart(16) : `${String(blobs).padStart(10)} blobs`}  ${formatSize(size).padStart(11)}${rest}`;
}

/** The plan's numbers as text (counts and human sizes). */
export function statsText(s: PruneStats): string {
  const unused = s.duplicateSize + s.unusedSize;
  return [
    `snapshots:          ${s.snapshots}`,
    row('in use:', s.usedBlobs, s.usedSize),
    ...(s.duplicateBlobs > 0 ? [row('duplicate copies:', s.duplicateBlobs, s.duplicateSize)] : []),
    row('unused:', s.unusedBlobs, s.unusedSize),
    ...(s.unreferencedSize > 0 ? [row('unreferenced packs:', undefined, s.unreferencedSize, `  in ${s.packsUnreferenced} packs no index names`)] : []),
    row('total:', s.totalBlobs, s.totalSize, `  (${percent(unused, s.totalSize)} unused)`),
    '',
    row('to repack:', s.repackBlobs, s.repackSize, `  in ${s.packsRepack} packs`),
    row('  dropped by that:', s.repackRemovesBlobs, s.repackRemovesSize),
    row('to delete:', s.deleteBlobs, s.deleteSize + s.unreferencedSize, `  in ${s.packsDelete} packs${s.packsUnreferenced > 0 ? ` and ${s.packsUnreferenced} unreferenced packs` : ''}`),
    row('freed in all:', s.pruneBlobs, s.pruneSize),
    row('remaining:', s.remainingBlobs, s.remainingSize),
    `unused afterwards:  ${formatSize(s.unusedSizeAfter)} (${percent(s.unusedSizeAfter, s.remainingSize)} of what remains)`,
    '',
    `packs:              ${s.packsUsed} fully used, ${s.packsPartlyUsed} partly used, ${s.packsUnused} unused${s.packsUnreferenced > 0 ? `, ${s.packsUnreferenced} unreferenced` : ''}`,
    `plan:               keep ${s.packsKeep}, repack ${s.packsRepack}, delete ${s.packsDelete + s.packsUnreferenced} packs`,
  ].join('\n');
}

function resultText(r: PruneResult): string {
  const parts = [
    `deleted ${r.packsDeleted + r.unreferencedPacksDeleted} packs (${formatSize(r.bytesDeleted)})`,
    ...(r.packsRepacked > 0 ? [`repacked ${r.packsRepacked} packs into ${r.packsWritten} new packs (${r.blobsRepacked} blobs, ${formatSize(r.bytesWritten)})`] : []),
    ...(r.indexFilesWritten > 0 ? [`replaced ${r.indexFilesDeleted} index files by ${r.indexFilesWritten}`] : []),
  ];
  return `pruned: ${parts.join('; ')}; ${formatSize(r.bytesDeleted - r.bytesWritten)} freed`;
}

/** The `--json` summary (schema in spec/prune.md). */
export function summaryJson(plan: PrunePlan, result: PruneResult | undefined, dryRun: boolean, seconds: number): Record<string, unknown> {
  const s = plan.stats;
  return {
    message_type: 'summary',
    dry_run: dryRun,
    snapshots: s.snapshots,
    used_blobs: s.usedBlobs,
    used_size: s.usedSize,
    duplicate_blobs: s.duplicateBlobs,
    duplicate_size: s.duplicateSize,
    unused_blobs: s.unusedBlobs,
    unused_size: s.unusedSize,
    unreferenced_size: s.unreferencedSize,
    total_blobs: s.totalBlobs,
    total_size: s.totalSize,
    repack_blobs: s.repackBlobs,
    repack_size: s.repackSize,
    repack_removes_blobs: s.repackRemovesBlobs,
    repack_removes_size: s.repackRemovesSize,
    delete_blobs: s.deleteBlobs,
    delete_size: s.deleteSize,
    prune_blobs: s.pruneBlobs,
    prune_size: s.pruneSize,
    remaining_blobs: s.remainingBlobs,
    remaining_size: s.remainingSize,
    unused_size_after: s.unusedSizeAfter,
    packs_used: s.packsUsed,
    packs_partly_used: s.packsPartlyUsed,
    packs_unused: s.packsUnused,
    packs_unreferenced: s.packsUnreferenced,
    packs_keep: s.packsKeep,
    packs_repack: s.packsRepack,
    packs_delete: s.packsDelete,
    ...(result === undefined
      ? {}
      : {
          packs_deleted: result.packsDeleted + result.unreferencedPacksDeleted,
          packs_repacked: result.packsRepacked,
          blobs_repacked: result.blobsRepacked,
          packs_written: result.packsWritten,
          bytes_written: result.bytesWritten,
          bytes_deleted: result.bytesDeleted,
          index_files_written: result.indexFilesWritten,
          index_files_deleted: result.indexFilesDeleted,
        }),
    total_duration: seconds,
  };
}

/** The action of `cairn prune` (its options: ../commands/prune.ts). */
export async function pruneAction(ctx: CommandContext, flags: PruneFlags): Promise<void> {
  const options = pruneOptionsFromFlags(flags); // validate before asking for a password
  // A dry run only plans: its output is the plan, no status line.
  await withStatus(ctx, flags.dryRun === true ? 'none' : 'prune', (ctx, _progress, status) => withRepo(ctx, async (repo) => {
    await runPrune(ctx, repo, { ...options, dryRun: flags.dryRun === true, status });
  }));
}
