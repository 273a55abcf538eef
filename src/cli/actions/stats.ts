/**
 * `cairn stats [SNAPSHOT...] [--mode M]`: how much the snapshots hold, by restic's counting modes,
 * printed as restic prints it (restic 0.15's layout and JSON, which add the compression figures).
 */
import { CairnError, snapshotStats, STATS_MODES, type StatsMode, type StatsSummary } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printLockWarning, printText } from '../output.js';
import { withRepo } from '../repository.js';
import { formatBytes, unreadableSnapshots } from '../restic-format.js';
import { filterFrom } from './snapshots.js';

/**
 * restic's JSON object (field order of restic 0.15; `total_file_count` always present, as restic
 * 0.14 prints it; the other optional fields omitted when absent or 0, as restic omits them).
 */
export function statsJson(s: StatsSummary): Record<string, number> {
  return {
    total_size: s.totalSize,
    ...(s.totalUncompressedSize ? { total_uncompressed_size: s.totalUncompressedSize } : {}),
    ...(s.compressionRatio ? { compression_ratio: s.compressionRatio } : {}),
    ...(s.compressionProgress ? { compression_progress: s.compressionProgress } : {}),
    ...(s.compressionSpaceSaving ? { compression_space_saving: s.compressionSpaceSaving } : {}),
    total_file_count: s.totalFileCount,
    ...(s.totalBlobCount ? { total_blob_count: s.totalBlobCount } : {}),
    snapshots_count: s.snapshotsCount,
  };
}

/** restic 0.15's text. */
export function statsText(s: StatsSummary): string {
  const lines = [`Stats in ${s.mode} mode:`, `     Snapshots processed:  ${s.snapshotsCount}`];
  if (s.totalBlobCount) lines.push(`        Total Blob Count:  ${s.totalBlobCount}`);
  if (s.totalFileCount > 0) lines.push(`        Total File Count:  ${s.totalFileCount}`);
  if (s.totalUncompressedSize) lines.push(` Total Uncompressed Size:  ${formatBytes(s.totalUncompressedSize)}`);
  lines.push(`              Total Size:  ${formatBytes(s.totalSize)}`);
  if (s.compressionProgress) lines.push(`    Compression Progress:  ${s.compressionProgress.toFixed(2)}%`);
  if (s.compressionRatio) lines.push(`       Compression Ratio:  ${s.compressionRatio.toFixed(2)}x`);
  if (s.compressionSpaceSaving) lines.push(`Compression Space Saving:  ${s.compressionSpaceSaving.toFixed(2)}%`);
  return lines.join('\n') + '\n';
}

/** The action of `cairn stats` (its options: ../commands/stats.ts). */
export async function statsAction(ctx: CommandContext, refs: string[], opts: { mode: string; host: string[]; tag: string[]; path: string[] }): Promise<void> {
  const g = ctx.globals();
  if (!(STATS_MODES as readonly string[]).includes(opts.mode)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `unknown counting mode "${opts.mode}"; use one of ${STATS_MODES.join(', ')}`, { data: { mode: opts.mode } });
  }
  await withRepo(ctx, async (repo) => {
    const unreadable = unreadableSnapshots(ctx, 'stats');
    if (!g.json) printText(ctx, 'scanning...');
    const summary = await snapshotStats(repo, {
      mode: opts.mode as StatsMode,
      ...(refs.length > 0 ? { snapshots: refs } : {}),
      filter: filterFrom(opts),
      onUnreadable: unreadable.onUnreadable,
      signal: ctx.io.signal,
      onLockWarning: (w) => printLockWarning(ctx, w),
    });
    if (g.json) printJson(ctx, statsJson(summary));
    else ctx.io.stdout.write(statsText(summary));
    unreadable.finish();
  });
}
