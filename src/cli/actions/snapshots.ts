/**
 * `cairn snapshots`: list snapshots, as a table or as restic's JSON array.
 */
import { CairnError, formatSnapshotsJson, listSnapshots, type SnapshotFilter } from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printText, printWarning } from '../output.js';
import { withRepo } from '../repository.js';

export interface FilterOptions {
  host: string[];
  tag: string[];
  path: string[];
}

/**
 * restic's TagList parsing: comma-separated, white space around each tag trimmed; an empty tag
 * is kept (`--tag ''` selects snapshots without tags).
 */
export function splitTagList(text: string): string[] {
  return text.split(',').map((t) => t.trim());
}

export function filterFrom(opts: FilterOptions): SnapshotFilter {
  return {
    ...(opts.host.length > 0 ? { hosts: opts.host } : {}),
    ...(opts.tag.length > 0 ? { tags: opts.tag.map(splitTagList) } : {}),
    ...(opts.path.length > 0 ? { paths: opts.path } : {}),
  };
}

/** The action of `cairn snapshots` (its options: ../commands/snapshots.ts). */
export async function snapshotsAction(ctx: CommandContext, opts: FilterOptions): Promise<void> {
  const g = ctx.globals();
  await withRepo(ctx, async (repo) => {
    // A snapshot file that does not load is a warning and left out, as restic 0.14 does; the
    // others are listed, then the command fails with ERR_INCOMPLETE (exit 1): the list is not
    // what the repository holds (spec/cli.md, `snapshots`).
    const unreadable: string[] = [];
    const list = await listSnapshots(repo, filterFrom(opts), {
      onUnreadable: (w) => {
        unreadable.push(w.id);
        // The message names the snapshot; JSON also carries the file as `item`.
        printWarning(ctx, { message: w.message, code: w.code, during: 'snapshots', ...(g.json ? { item: w.file } : {}) });
      },
    });
    const incomplete = (): void => {
      if (unreadable.length === 0) return;
      unreadable.sort();
      throw new CairnError('ERR_INCOMPLETE', `${unreadable.length === 1 ? 'a snapshot file' : `${unreadable.length} snapshot files`} could not be loaded and ${unreadable.length === 1 ? 'is' : 'are'} not listed (${unreadable.slice(0, 3).map((id) => `snapshots/${id}`).join(', ')}${unreadable.length > 3 ? ', …' : ''}); run \`cairn check\``, { data: { unreadable } });
    };
    if (g.json) {
      ctx.io.stdout.write(formatSnapshotsJson(list)); // byte-identical to restic's output
      incomplete();
      return;
    }
    const rows = list.map((e) => [
      e.id.slice(0, 8),
      tableTime(e.snapshot.time),
      e.snapshot.hostname ?? '',
      (e.snapshot.tags ?? []).join(','),
      e.snapshot.paths.join('\n'),
    ]);
    const head = ['ID', 'Time', 'Host', 'Tags', 'Paths'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.max(...r[i]!.split('\n').map((x) => x.length)))));
    const line = (cells: string[]): string => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(w[i]!) : c)).join('  ').trimEnd();
    const rule = '-'.repeat(w.reduce((a, b) => a + b + 2, -2));
    const out = [line(head), rule];
    for (const r of rows) {
      const [first, ...more] = r[4]!.split('\n');
      out.push(line([...r.slice(0, 4), first ?? '']));
      for (const p of more) out.push(line(['', '', '', '', p]));
    }
    out.push(rule, `${list.length} snapshots`);
    printText(ctx, out.join('\n'));
    incomplete();
  });
}
