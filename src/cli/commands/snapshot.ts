/**
 * `cairn snapshot PATH...`: back up files and directories into the repository.
 */
import type { Command } from 'commander';
import { CairnError, formatSize, snapshot as takeSnapshot } from '../../index.js';
import type { CommandContext } from '../context.js';
import { formatDuration } from '../format.js';
import { printJson, printText } from '../output.js';
import { withRepo } from '../repository.js';

interface SnapshotOptions {
  tag: string[];
  host?: string;
}

function collect(value: string, previous: string[]): string[] {
  // restic: --tag a,b adds two tags; the option repeats.
  return [...previous, ...value.split(',').map((t) => t.trim()).filter((t) => t.length > 0)];
}

export function registerSnapshot(program: Command, ctx: CommandContext): void {
  program
    .command('snapshot')
    .alias('backup')
    .description('back up files and directories into a new snapshot')
    .argument('<path...>', 'files and directories to back up')
    .option('--tag <tags>', 'add tags (comma-separated; repeatable)', collect, [])
    .option('--host <name>', 'hostname recorded in the snapshot (default: this host)')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup snapshot /home/ann
  cairn -r /srv/backup snapshot --tag nightly,models /data/checkpoints --json

Exit codes: 0 saved; 3 saved, but some files could not be read (see the warnings).`)
    .action(async (paths: string[], opts: SnapshotOptions) => {
      const g = ctx.globals();
      await withRepo(ctx, async (repo) => {
        const summary = await takeSnapshot(repo, paths, {
          cwd: ctx.io.cwd,
          signal: ctx.io.signal,
          ...(opts.tag.length > 0 ? { tags: opts.tag } : {}),
          ...(opts.host !== undefined ? { hostname: opts.host } : {}),
          onWarning: (w) => {
            if (g.json) ctx.io.stderr.write(JSON.stringify({ message_type: 'error', error: { message: w.message, code: w.code }, during: 'archival', item: w.path }) + '\n');
            else ctx.io.stderr.write(`warning: ${w.path}: ${w.message}\n`);
          },
        });
        if (g.json) {
          const { errors: _errors, ...rest } = summary;
          void _errors;
          printJson(ctx, { message_type: 'summary', ...rest });
        } else {
          printText(ctx, [
            `Files:       ${String(summary.files_new).padStart(5)} new, ${String(summary.files_changed).padStart(5)} changed, ${String(summary.files_unmodified).padStart(5)} unmodified`,
            `Dirs:        ${String(summary.dirs_new).padStart(5)} new, ${String(summary.dirs_changed).padStart(5)} changed, ${String(summary.dirs_unmodified).padStart(5)} unmodified`,
            `Added to the repository: ${formatSize(summary.data_added)} (${summary.data_blobs} data blobs, ${summary.tree_blobs} tree blobs)`,
            '',
            `processed ${summary.total_files_processed} files, ${formatSize(summary.total_bytes_processed)} in ${formatDuration(summary.total_duration)}`,
            `snapshot ${summary.snapshot_id.slice(0, 8)} saved`,
          ].join('\n'));
        }
        if (summary.errors > 0) {
          throw new CairnError('ERR_PARTIAL', `snapshot ${summary.snapshot_id.slice(0, 8)} was saved, but ${summary.errors} ${summary.errors === 1 ? 'entry' : 'entries'} could not be read or were skipped (see the warnings above)`, { data: { snapshot_id: summary.snapshot_id, errors: summary.errors } });
        }
      });
    });
}
