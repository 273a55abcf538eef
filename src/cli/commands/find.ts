/**
 * `cairn find PATTERN...`: which snapshots hold entries matching the patterns, as restic's
 * `find` prints them (text, `--long`, and restic's --json array).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';
import type { FindFlags } from '../actions/find.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerFind(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('find').description('find files and directories in snapshots by name or path'))
    .argument('<pattern...>', 'glob on the name (e.g. "*.jpg"); with a "/", on the path ("/home/*/.bashrc", "src/**/*.go")')
    .option('-i, --ignore-case', 'ignore case in the patterns')
    .option('-l, --long', 'show mode, uid, gid, size and modification time')
    .option('-s, --snapshot <id>', 'search only this snapshot (repeatable; default: all passing --host/--tag/--path)', collect, [])
    .addHelpText('after', `
A pattern without "/" matches entry names; with "/", whole paths, where "**" is any
number of directories (a relative pattern may start at any depth).

Examples:
  cairn -r /srv/backup find '*.sqlite'
  cairn -r /srv/backup find -i -l 'report*.PDF' --host laptop
  cairn -r /srv/backup find --json '/etc/**/*.conf' -s latest`)
    .action(async (patterns: string[], opts: FindFlags) => (await import('../actions/find.js')).findAction(ctx, patterns, opts));
}
