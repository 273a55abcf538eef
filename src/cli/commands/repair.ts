/**
 * `cairn repair index [--read-all-packs]` (alias `cairn rebuild-index`): a new index from the pack
 * headers. `cairn repair snapshots [--forget] [--dry-run] [SNAPSHOT…]`: snapshots rewritten
 * without the data they lost. Behaviour: spec/check.md.
 */
import type { Command } from 'commander';
import { repairIndex, repairSnapshots, shortId, type RepairIndexEvent, type RepairSnapshotsEvent } from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printJson, printText } from '../output.js';
import { withRepo } from '../repository.js';
import { addFilterOptions, filterFrom } from './snapshots.js';

interface IndexFlags {
  readAllPacks?: boolean;
}

interface SnapshotsFlags {
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
    .action(async (opts: IndexFlags) => {
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
    });
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
    .action(async (refs: string[], opts: SnapshotsFlags) => {
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
    });

  // restic 0.14's name for `repair index`.
  registerRepairIndex(program, 'rebuild-index', ctx, 'rebuild the index from the pack files (same as `repair index`)');
}
