/**
 * `cairn repair index [--read-all-packs]` (alias `cairn rebuild-index`): a new index from the pack
 * headers. `cairn repair snapshots [--forget] [--dry-run] [SNAPSHOT…]`: snapshots rewritten
 * without the data they lost. Behaviour: spec/check.md.
 */
import { repairIndex, repairSnapshots, shortId, type RepairIndexEvent, type RepairSnapshotsEvent } from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printJson, printText } from '../output.js';
import { withRepo } from '../repository.js';
import { filterFrom } from './snapshots.js';

export interface IndexFlags {
  readAllPacks?: boolean;
}

export interface SnapshotsFlags {
  forget?: boolean;
  dryRun?: boolean;
  host: string[];
  tag: string[];
  path: string[];
}

/** `{"message_type":"pack_added",…}`: an event as a JSON line (kind with underscores). */
function eventJson<T extends { readonly kind: string }>(e: T): Record<string, unknown> {
  const { kind, ...rest } = e;
  return { message_type: kind.replace(/-/g, '_'), ...rest };
}

function indexEventText(e: RepairIndexEvent): { text: string; warning: boolean } | undefined {
  switch (e.kind) {
    case 'invalid-index':
      return { text: `removing invalid index ${e.index}: ${e.message}`, warning: true };
    case 'pack-added':
      return { text: `adding pack ${e.pack} to the index`, warning: false };
    case 'pack-reindexed':
      return { text: `re-indexing pack ${e.pack}: its size is ${e.size}, the index implied ${e.expected}`, warning: false };
    case 'pack-missing':
      return { text: `removing pack ${e.pack} from the index: it does not exist`, warning: true };
    case 'pack-unreadable':
      return { text: `pack ${e.pack}: its header cannot be read, so it is left as it is, in no index: ${e.message}`, warning: true };
    case 'index-written':
      return undefined;
  }
}

/** The action of `cairn repair index` (its options: ../commands/repair.ts). */
export async function repairIndexAction(ctx: CommandContext, opts: IndexFlags): Promise<void> {
  const g = ctx.globals();
  await withRepo(ctx, async (repo) => {
    const summary = await repairIndex(repo, {
      readAllPacks: opts.readAllPacks === true,
      signal: ctx.io.signal,
      onLockWarning: (w) => ctx.io.stderr.write(`warning: ${w.message}\n`),
      onEvent: (e) => {
        if (g.json) {
          if (e.kind !== 'index-written') printJson(ctx, eventJson(e));
          return;
        }
        const t = indexEventText(e);
        if (t === undefined) return;
        if (t.warning) ctx.io.stderr.write(`warning: ${t.text}\n`);
        else printText(ctx, t.text);
      },
    });
    if (g.json) {
      printJson(ctx, {
        message_type: 'summary',
        packs: summary.packs,
        blobs: summary.blobs,
        packs_read: summary.packsRead,
        packs_added: summary.added,
        packs_reindexed: summary.reindexed,
        packs_removed: summary.removed,
        invalid_index_files: summary.invalidIndexFiles,
        unreadable_packs: summary.unreadable,
        old_index_files: summary.oldIndexFiles,
        new_index_files: summary.newIndexFiles,
      });
    } else {
      printText(ctx, `wrote ${summary.newIndexFiles.length} index ${summary.newIndexFiles.length === 1 ? 'file' : 'files'} for ${summary.packs} packs (${summary.blobs} blobs; ${summary.packsRead} pack headers read), deleted ${summary.oldIndexFiles.length} old`);
    }
  });
}

/** The action of `cairn repair snapshots` (its options: ../commands/repair.ts). */
export async function repairSnapshotsAction(ctx: CommandContext, refs: string[], opts: SnapshotsFlags): Promise<void> {
  const g = ctx.globals();
  const dry = opts.dryRun === true;
  await withRepo(ctx, async (repo) => {
    const text = (e: RepairSnapshotsEvent): string | undefined => {
      switch (e.kind) {
        case 'snapshot':
          return `snapshot ${shortId(e.id)} of [${e.snapshot.paths.join(' ')}] at ${tableTime(e.snapshot.time)}`;
        case 'unreadable-snapshot':
          return undefined;
        case 'file-repaired':
          return `  file ${JSON.stringify(e.path)}: ${dry ? 'would remove' : 'removed'} ${e.missing} missing ${e.missing === 1 ? 'blob' : 'blobs'} (new size ${e.size})`;
        case 'dir-emptied':
          return `  dir ${JSON.stringify(e.path)}: ${dry ? 'would be replaced' : 'replaced'} with an empty directory (${e.message})`;
        case 'snapshot-removed':
          return `  ${dry ? 'would delete' : 'deleted'} the snapshot: its root tree cannot be read (${e.message})`;
        case 'snapshot-saved':
          return e.id === undefined ? '  would save a repaired snapshot' : `  saved repaired snapshot ${shortId(e.id)}`;
        case 'snapshot-forgotten':
          return `  ${dry ? 'would remove' : 'removed'} the original snapshot ${shortId(e.id)}`;
      }
    };
    const summary = await repairSnapshots(repo, {
      snapshots: refs,
      filter: filterFrom(opts),
      forget: opts.forget === true,
      dryRun: dry,
      signal: ctx.io.signal,
      onLockWarning: (w) => ctx.io.stderr.write(`warning: ${w.message}\n`),
      onEvent: (e) => {
        if (e.kind === 'unreadable-snapshot') {
          ctx.io.stderr.write(g.json ? JSON.stringify({ message_type: 'error', message: `snapshots/${e.id} cannot be loaded and is skipped: ${e.message}`, snapshot: e.id }) + '\n' : `warning: snapshots/${e.id} cannot be loaded and is skipped: ${e.message}\n`);
          return;
        }
        if (g.json) {
          printJson(ctx, eventJson(e.kind === 'snapshot' ? { kind: e.kind, id: e.id } : e));
          return;
        }
        const t = text(e);
        if (t !== undefined) printText(ctx, t);
      },
    });
    if (g.json) {
      printJson(ctx, {
        message_type: 'summary',
        dry_run: summary.dryRun,
        snapshots: summary.snapshots,
        modified: summary.modified,
        saved: summary.saved,
        removed: summary.removed,
        forgotten: summary.forgotten,
        unreadable: summary.unreadable,
      });
    } else if (summary.modified === 0) {
      printText(ctx, dry ? 'no snapshots would be modified' : 'no snapshots were modified');
    } else {
      printText(ctx, `${dry ? 'would modify' : 'modified'} ${summary.modified} ${summary.modified === 1 ? 'snapshot' : 'snapshots'}`);
    }
  });
}
