/**
 * `cairn copy [SNAPSHOT...] --from-repo SOURCE`: copy snapshots from another repository into the
 * repository of `-r/--repo` (restic 0.14's `copy`; the library's copySnapshots does the work).
 */
import type { Command } from 'commander';
import { copySnapshots, shortId, type SnapshotEntry } from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { openFromRepo, resolveFromPassword, resolveFromRepository, type FromRepoFlags } from '../from-repo.js';
import { printJson, printLockWarning, printText, printWarning } from '../output.js';
import { withRepo } from '../repository.js';
import { formatBytes, unreadableSnapshots } from '../restic-format.js';
import { addFilterOptions, filterFrom } from './snapshots.js';

interface CopyFlags extends FromRepoFlags {
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

export function registerCopy(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('copy').description('copy snapshots from another repository into this one'))
    .argument('[snapshot...]', 'source snapshot IDs, unique prefixes or "latest" (default: all passing --host/--tag/--path)')
    .option('--from-repo <location>', 'the source repository (env: CAIRN_FROM_REPOSITORY, then RESTIC_FROM_REPOSITORY)')
    .option('--from-password-file <file>', 'read the source repository password from <file> (env: CAIRN_FROM_PASSWORD_FILE or RESTIC_FROM_PASSWORD_FILE)')
    .option('--from-password-command <command>', 'run <command> (no shell) for the source repository password (env: CAIRN_FROM_PASSWORD_COMMAND or RESTIC_FROM_PASSWORD_COMMAND)')
    .addHelpText('after', `
Copies snapshots from the source repository (--from-repo) into the repository
of -r/--repo: every tree and data blob the destination lacks is read from the
source, verified, and stored again encrypted with the destination's key
(compressed when the destination's format is version 2). A source snapshot
that already has a copy in the destination (same original ID, time, tree,
host, user, paths, tags) is skipped, so running copy again copies only what
is new. Files are not chunked again: data the destination stored by its own
backups deduplicates with the copy only when both were cut the same way.
Both repositories are locked shared. The source password comes from
--from-password-command, --from-password-file, CAIRN_FROM_PASSWORD_COMMAND,
_FILE, CAIRN_FROM_PASSWORD (or the RESTIC_FROM_ ones), or a prompt.

Examples:
  cairn -r /mnt/offsite copy --from-repo /srv/backup --from-password-file ~/.pw
  CAIRN_FROM_PASSWORD=... cairn -r s3:s3.amazonaws.com/bucket copy --from-repo /srv/backup --host web1`)
    .action(async (refs: string[], opts: CopyFlags) => {
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
    });
}
