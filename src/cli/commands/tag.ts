/**
 * `cairn tag --add|--remove|--set TAGS [SNAPSHOT...]`: change snapshots' tags, as restic's `tag`
 * does (each changed snapshot is rewritten with a new ID and `original` recorded).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';
import type { TagFlags } from '../actions/tag.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerTag(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('tag').description('add, remove or replace the tags of snapshots'))
    .argument('[snapshot...]', 'snapshot IDs, unique prefixes or "latest" (default: all passing --host/--tag/--path)')
    .option('--add <tags>', 'add these comma-separated tags (repeatable)', collect, [])
    .option('--remove <tags>', 'remove these comma-separated tags (repeatable)', collect, [])
    .option('--set <tags>', 'replace all tags by these comma-separated tags (repeatable; --set "" removes all)', collect)
    .addHelpText('after', `
A snapshot whose tags change is saved again under a new ID (restic's way: its
"original" field keeps the first ID) and the old file is removed. Holds an
exclusive lock.

Examples:
  cairn -r /srv/backup tag --add keep 1a2b3c4d
  cairn -r /srv/backup tag --host web1 --remove test --add prod
  cairn -r /srv/backup tag --set "" latest`)
    .action(async (refs: string[], opts: TagFlags) => (await import('../actions/tag.js')).tagAction(ctx, refs, opts));
}
