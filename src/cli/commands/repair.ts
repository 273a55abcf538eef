/**
 * `cairn repair index [--read-all-packs]` (alias `cairn rebuild-index`): a new index from the pack
 * headers. `cairn repair snapshots [--forget] [--dry-run] [SNAPSHOT…]`: snapshots rewritten
 * without the data they lost. Behaviour: spec/check.md.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';
import type { IndexFlags, SnapshotsFlags } from '../actions/repair.js';

function registerRepairIndex(parent: Command, name: string, ctx: CommandContext, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--read-all-packs', 'read every pack header, not only those the index misses or gets the size of wrong')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup repair index
  cairn -r /srv/backup repair index --read-all-packs

The new index files are written before the old ones are deleted; no pack is ever deleted. Packs
whose header cannot be read are reported and left alone. An exclusive lock is held.`)
    .action(async (opts: IndexFlags) => (await import('../actions/repair.js')).repairIndexAction(ctx, opts));
}

export function registerRepair(program: Command, ctx: CommandContext): void {
  const repair = program.command('repair').description('repair the index or snapshots (after check found errors)');
  registerRepairIndex(repair, 'index', ctx, 'rebuild the index from the pack files');

  addFilterOptions(
    repair
      .command('snapshots')
      .description('rewrite snapshots without the data they lost (missing file content, unreadable directories)')
      .argument('[snapshot...]', 'snapshot IDs, prefixes or "latest" (default: every snapshot passing the filters)'),
  )
    .option('--forget', 'delete each original snapshot once its repaired copy is saved')
    .option('-n, --dry-run', 'show what would change, write nothing')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup repair snapshots --dry-run
  cairn -r /srv/backup repair snapshots --forget
  cairn -r /srv/backup repair snapshots 1a2b3c4d

Data loss warning: a file whose content is partly lost keeps only what remains, and a directory
that cannot be read becomes empty. Run \`cairn repair index\` first. If the lost files still exist
on the source, a new backup restores them better than a repair. A repaired snapshot keeps the
old ID in "original" and gets the tag "repaired" (unless --forget deletes the old one). An
exclusive lock is held.`)
    .action(async (refs: string[], opts: SnapshotsFlags) => (await import('../actions/repair.js')).repairSnapshotsAction(ctx, refs, opts));

  // restic 0.14's name for `repair index`.
  registerRepairIndex(program, 'rebuild-index', ctx, 'rebuild the index from the pack files (same as `repair index`)');
}
