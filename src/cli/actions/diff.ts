/**
 * `cairn diff SNAPSHOT-A SNAPSHOT-B`: what changed from the first snapshot to the second, as
 * restic's `diff` prints it (text and --json).
 */
import { diffSnapshots, formatSize, type DiffChange, type DiffStat } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printLockWarning, printText, toJsonLine } from '../output.js';
import { withRepo } from '../repository.js';
import { formatBytes } from '../restic-format.js';

function statJson(s: DiffStat): Record<string, number> {
  return { files: s.files, dirs: s.dirs, others: s.others, data_blobs: s.dataBlobs, tree_blobs: s.treeBlobs, bytes: s.bytes };
}

/** restic's `change` line, plus the entry's type and, for files, its sizes before and after. */
function changeJson(c: DiffChange): Record<string, unknown> {
  const node = c.after ?? c.before!;
  return {
    message_type: 'change',
    path: c.path,
    modifier: c.modifier,
    type: node.type,
    ...(c.before?.type === 'file' ? { size_before: c.before.size ?? 0 } : {}),
    ...(c.after?.type === 'file' ? { size_after: c.after.size ?? 0 } : {}),
  };
}

/** The size note `--long` appends: "(12 B)", "(12 B → 40 B)". */
function sizeNote(c: DiffChange): string {
  const size = (n: { type: string; size?: number } | undefined): string | undefined => (n?.type === 'file' ? formatSize(n.size ?? 0) : undefined);
  const before = size(c.before);
  const after = size(c.after);
  if (before !== undefined && after !== undefined) return before === after ? ` (${after})` : ` (${before} → ${after})`;
  const one = before ?? after;
  return one === undefined ? '' : ` (${one})`;
}

/** The action of `cairn diff` (its options: ../commands/diff.ts). */
export async function diffAction(ctx: CommandContext, a: string, b: string, opts: { metadata?: boolean; long?: boolean }): Promise<void> {
  const g = ctx.globals();
  await withRepo(ctx, async (repo) => {
    const out = ctx.io.stdout;
    const summary = await diffSnapshots(repo, a, b, {
      metadata: opts.metadata === true,
      signal: ctx.io.signal,
      onLockWarning: (w) => printLockWarning(ctx, w),
      onSnapshots: (sa, sb) => {
        if (!g.json) printText(ctx, `comparing snapshot ${sa.id.slice(0, 8)} to ${sb.id.slice(0, 8)}:\n\n`);
      },
      onChange: (c) => {
        if (g.json) {
          out.write(toJsonLine(changeJson(c)) + '\n');
          return;
        }
        out.write(`${c.modifier.padEnd(5)}${c.path}${opts.long === true ? sizeNote(c) : ''}\n`);
      },
    });
    if (g.json) {
      printJson(ctx, {
        message_type: 'statistics',
        source_snapshot: a,
        target_snapshot: b,
        changed_files: summary.changedFiles,
        added: statJson(summary.added),
        removed: statJson(summary.removed),
        source_id: summary.source.id,
        target_id: summary.target.id,
      });
      return;
    }
    const n = (x: number): string => String(x).padStart(5);
    const { added, removed } = summary;
    out.write(
      `\n` +
        `Files:       ${n(added.files)} new, ${n(removed.files)} removed, ${n(summary.changedFiles)} changed\n` +
        `Dirs:        ${n(added.dirs)} new, ${n(removed.dirs)} removed\n` +
        `Others:      ${n(added.others)} new, ${n(removed.others)} removed\n` +
        `Data Blobs:  ${n(added.dataBlobs)} new, ${n(removed.dataBlobs)} removed\n` +
        `Tree Blobs:  ${n(added.treeBlobs)} new, ${n(removed.treeBlobs)} removed\n` +
        `  Added:   ${formatBytes(added.bytes)}\n` +
        `  Removed: ${formatBytes(removed.bytes)}\n`,
    );
  });
}
