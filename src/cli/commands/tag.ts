/**
 * `cairn tag --add|--remove|--set TAGS [SNAPSHOT...]`: change snapshots' tags, as restic's `tag`
 * does (each changed snapshot is rewritten with a new ID and `original` recorded).
 */
import type { Command } from 'commander';
import { CairnError, tagSnapshots } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printLockWarning, printText } from '../output.js';
import { withRepo } from '../repository.js';
import { unreadableSnapshots } from '../restic-format.js';
import { addFilterOptions, filterFrom, splitTagList } from './snapshots.js';

interface TagFlags {
  add: string[];
  remove: string[];
  set?: string[];
  host: string[];
  tag: string[];
  path: string[];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** restic's TagLists.Flatten: comma-separated lists, trimmed, empty tags dropped. */
function flatten(lists: readonly string[]): string[] {
  return lists.flatMap(splitTagList).filter((t) => t !== '');
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
    .action(async (refs: string[], opts: TagFlags) => {
      const g = ctx.globals();
      if (opts.set !== undefined && (opts.add.length > 0 || opts.remove.length > 0)) {
        throw new CairnError('ERR_USAGE', '--set cannot be combined with --add or --remove');
      }
      if (opts.set === undefined && flatten(opts.add).length === 0 && flatten(opts.remove).length === 0) {
        throw new CairnError('ERR_USAGE', 'nothing to do: give tags to --add, --remove or --set');
      }
      const change = opts.set !== undefined ? { set: flatten(opts.set) } : { add: flatten(opts.add), remove: flatten(opts.remove) };
      await withRepo(ctx, async (repo) => {
        const unreadable = unreadableSnapshots(ctx, 'tag');
        const result = await tagSnapshots(repo, change, {
          ...(refs.length > 0 ? { snapshots: refs } : {}),
          filter: filterFrom(opts),
          onUnreadable: unreadable.onUnreadable,
          signal: ctx.io.signal,
          onLockWarning: (w) => printLockWarning(ctx, w),
          onChanged: (c) => {
            if (g.json) printJson(ctx, { message_type: 'changed', old_snapshot_id: c.old, new_snapshot_id: c.new });
            else if (g.verbose > 0) printText(ctx, `snapshot ${c.old.slice(0, 8)} is now ${c.new.slice(0, 8)} (tags: ${c.tags.length > 0 ? c.tags.join(', ') : 'none'})`);
          },
        });
        const n = result.changed.length;
        if (g.json) printJson(ctx, { message_type: 'summary', changed_snapshots: n });
        else printText(ctx, n === 0 ? 'no snapshots were modified' : `modified tags on ${n} snapshot${n === 1 ? '' : 's'}`);
        unreadable.finish();
      });
    });
}
