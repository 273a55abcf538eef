/**
 * `cairn diff SNAPSHOT-A SNAPSHOT-B`: what changed from the first snapshot to the second, as
 * restic's `diff` prints it (text and --json).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export function registerDiff(program: Command, ctx: CommandContext): void {
  program
    .command('diff')
    .description('show what changed between two snapshots')
    .argument('<snapshot-a>', 'the first snapshot: ID, unique prefix, or "latest"')
    .argument('<snapshot-b>', 'the second snapshot')
    .option('--metadata', 'also report entries whose metadata alone changed (U)')
    .option('-l, --long', 'show the sizes of the files listed')
    .addHelpText('after', `
Each line starts with what happened to the entry:
  +  added            -  removed
  M  content changed (compared by content, not by time)
  T  type changed (e.g. a file became a directory)
  U  metadata changed (mode, times, owner…; only with --metadata)

Examples:
  cairn -r /srv/backup diff 1a2b3c4d 5e6f7a8b
  cairn -r /srv/backup diff --json 1a2b3c4d latest`)
    .action(async (a: string, b: string, opts: { metadata?: boolean; long?: boolean }) => (await import('../actions/diff.js')).diffAction(ctx, a, b, opts));
}
