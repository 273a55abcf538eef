/**
 * `cairn ls SNAPSHOT [PATH]`: list what a snapshot holds, recursively, as restic's `ls` does.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';

export function registerLs(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('ls').description('list the files and directories in a snapshot'))
    .argument('<snapshot>', 'snapshot ID, unique ID prefix, or "latest"')
    .argument('[path]', 'list only below this directory of the snapshot')
    .option('-l, --long', 'show permissions, owner, size and time')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup ls latest
  cairn -r /srv/backup ls 1a2b3c4d /home/ann --long`)
    .action(async (ref: string, path: string | undefined, opts: { long?: boolean; host: string[]; tag: string[]; path: string[] }) => (await import('../actions/ls.js')).lsAction(ctx, ref, path, opts));
}
