/**
 * `cairn snapshots`: list snapshots, as a table or as restic's JSON array.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { FilterOptions } from '../actions/snapshots.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The --host/--tag/--path filter options, shared by commands that select snapshots. */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--host <host>', 'only snapshots of this host (repeatable)', collect, [])
    .option('--tag <tags>', 'only snapshots with all these comma-separated tags (repeatable: any of the lists)', collect, [])
    .option('--path <path>', 'only snapshots of this path (repeatable)', collect, []);
}

export function registerSnapshots(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('snapshots').description('list snapshots'))
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup snapshots
  cairn -r /srv/backup snapshots --host web1 --json`)
    .action(async (opts: FilterOptions) => (await import('../actions/snapshots.js')).snapshotsAction(ctx, opts));
}
