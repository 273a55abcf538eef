/**
 * `cairn copy [SNAPSHOT...] --from-repo SOURCE`: copy snapshots from another repository into the
 * repository of `-r/--repo` (restic 0.14's `copy`; the library's copySnapshots does the work).
 */
import { copySnapshots, shortId, type SnapshotEntry } from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { openFromRepo, resolveFromPassword, resolveFromRepository, type FromRepoFlags } from '../from-repo.js';
import { printJson, printLockWarning, printText, printWarning } from '../output.js';
import { withRepo } from '../repository.js';
import { formatBytes, unreadableSnapshots } from '../restic-format.js';
import { filterFrom } from './snapshots.js';

export interface CopyFlags extends FromRepoFlags {
  host: string[];
  tag: string[];
  path: string[];
}

/** restic prints a snapshot's paths with Go's %v: `[/a /b]`. */
function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

function describeSource(e: SnapshotEntry): string {
  return `snapshot ${shortId(e.id)} of ${goList(e.snapshot.paths)} at ${tableTime(e.snapshot.time)}`;
}

/** The action of `cairn copy` (its options: ../commands/copy.ts). */
export async function copyAction(ctx: CommandContext, refs: string[], opts: CopyFlags): Promise<void> {
  const g = ctx.globals();
  // The source first, as restic: a missing --from-repo fails before any password is asked for.
  resolveFromRepository(opts, ctx.io);
  const fromPassword = await resolveFromPassword(opts, ctx.io);
  await withRepo(ctx, async (target) => {
    const source = await openFromRepo(ctx, opts, fromPassword);
    try {
      const unreadable = unreadableSnapshots(ctx, 'copy');
      let first = true;
      const result = await copySnapshots(source, target, {
        ...(refs.length > 0 ? { snapshots: refs } : {}),
        filter: filterFrom(opts),
        onUnreadable: unreadable.onUnreadable,
        onTargetUnreadable: (w) => printWarning(ctx, { message: `destination repository: ${w.message}; it cannot count as a copy`, code: w.code, during: 'copy', item: w.file }),
        signal: ctx.io.signal,
        onLockWarning: (w) => printLockWarning(ctx, { code: w.code, message: `${w.repository === 'source' ? 'source' : 'destination'} repository: ${w.message}` }),
        onSnapshot: (e) => {
          if (e.kind === 'start') {
            if (!g.json) printText(ctx, `${first ? '' : '\n'}${describeSource(e.source)}`);
            first = false;
          } else if (e.kind === 'skipped') {
            if (g.json) printJson(ctx, { message_type: 'copy', source: e.source.id, target: e.existing, skipped: true, blobs_copied: 0, bytes_copied: 0, bytes_stored: 0 });
            else printText(ctx, `skipping source snapshot ${shortId(e.source.id)}, was already copied to snapshot ${shortId(e.existing)}`);
          } else if (e.kind === 'copying') {
            if (!g.json) printText(ctx, '  copy started, this may take a while...');
          } else if (g.json) {
            printJson(ctx, { message_type: 'copy', source: e.source.id, target: e.target, skipped: false, blobs_copied: e.blobsCopied, bytes_copied: e.bytesCopied, bytes_stored: e.bytesStored });
          } else {
            printText(ctx, `snapshot ${shortId(e.target)} saved (${e.blobsCopied} blob${e.blobsCopied === 1 ? '' : 's'}, ${formatBytes(e.bytesCopied)} copied)`);
          }
        },
      });
      ctx.recordMetrics({ bytesProcessed: result.bytesCopied, bytesAdded: result.bytesCopied, bytesStored: result.bytesStored });
      const n = result.copied.length;
      const k = result.skipped.length;
      if (g.json) {
        printJson(ctx, {
          message_type: 'summary', snapshots_considered: result.considered, snapshots_copied: n, snapshots_skipped: k,
          blobs_copied: result.blobsCopied, bytes_copied: result.bytesCopied, bytes_stored: result.bytesStored,
        });
      } else if (result.considered === 0) {
        printText(ctx, 'no snapshots to copy');
      } else {
        printText(ctx, `\ncopied ${n} snapshot${n === 1 ? '' : 's'} (${result.blobsCopied} blob${result.blobsCopied === 1 ? '' : 's'}, ${formatBytes(result.bytesCopied)}), skipped ${k} already copied`);
      }
      unreadable.finish();
    } finally {
      await source.close();
    }
  });
}
