/**
 * `cairn prune`: remove data no snapshot needs (spec/prune.md). `runPrune` is the routine itself,
 * exported with `addPruneOptions` and `pruneOptionsFromFlags` so that `forget --prune` runs the
 * very same code with the same flags.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { PruneFlags } from '../actions/prune.js';

/** Adds --max-unused, --max-repack-size and --repack-uncompressed (shared with `forget --prune`). */
export function addPruneOptions(cmd: Command): Command {
  return cmd
    .option('--max-unused <limit>', 'unused space to tolerate in partly used packs: a share of the used data (5%), a size (2G), or "unlimited"', '5%')
    .option('--max-repack-size <size>', 'repack at most this much pack data (e.g. 10G)')
    .option('--repack-uncompressed', 'also repack packs holding uncompressed blobs, compressing them (repository version 2)');
}

export function registerPrune(program: Command, ctx: CommandContext): void {
  addPruneOptions(program.command('prune').description('remove data that no snapshot needs'))
    .option('-n, --dry-run', 'show what would be removed and repacked, change nothing')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup prune
  cairn -r /srv/backup prune --dry-run -v
  cairn -r /srv/backup prune --max-unused 0 --max-repack-size 2G
  cairn -r /srv/backup prune --repack-uncompressed

Packs nothing uses are deleted; partly used packs are repacked (their used blobs copied, verified,
into new packs) until at most --max-unused space stays unused. The repository is locked exclusively
for the whole run: snapshots (cairn's or restic's) wait for it, or fail with exit code 11. An
interrupted prune leaves a valid repository; run it again to finish. See spec/prune.md.`)
    .action(async (flags: PruneFlags) => (await import('../actions/prune.js')).pruneAction(ctx, flags));
}
