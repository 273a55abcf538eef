/**
 * `cairn tag --add|--remove|--set TAGS [SNAPSHOT...]`: change snapshots' tags, as restic's `tag`
 * does (each changed snapshot is rewritten with a new ID and `original` recorded).
 */
import { CairnError, tagSnapshots } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printLockWarning, printText } from '../output.js';
import { withRepo } from '../repository.js';
import { unreadableSnapshots } from '../restic-format.js';
import { filterFrom, splitTagList } from './snapshots.js';

export interface TagFlags {
  add: string[];
  remove: string[];
  set?: string[];
  host: string[];
  tag: string[];
  path: string[];
}

/** restic's TagLists.Flatten: comma-separated lists, trimmed, empty tags dropped. */
function flatten(lists: readonly string[]): string[] {
  return lists.flatMap(splitTagList).filter((t) => t !== '');
}

/** The action of `cairn tag` (its options: ../commands/tag.ts). */
export async function tagAction(ctx: CommandContext, refs: string[], opts: TagFlags): Promise<void> {
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
}
