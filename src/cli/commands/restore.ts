/**
 * `cairn restore SNAPSHOT[:PATH] --target DIR`: restore a snapshot (or one path of it).
 */
import type { Command } from 'commander';
import { CairnError, formatSize, restoreSnapshot } from '../../index.js';
import type { CommandContext } from '../context.js';
import { formatDuration, tableTime } from '../format.js';
import { printJson, printText } from '../output.js';
import { withRepo } from '../repository.js';
import { addFilterOptions, filterFrom } from './snapshots.js';

export function registerRestore(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('restore').description('restore a snapshot into a directory'))
    .argument('<snapshot>', 'snapshot ID, unique prefix, or "latest"; SNAPSHOT:PATH restores only PATH (its contents, for a directory)')
    .requiredOption('-t, --target <dir>', 'directory to restore into (created if missing); the snapshot\'s paths are recreated under it')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup restore latest --target /tmp/restore
  cairn -r /srv/backup restore 1a2b3c4d:/home/ann/projects --target /tmp/projects

Every blob is verified (MAC and SHA-256) before a byte is written; a file that cannot be restored
whole is removed and reported, and the command exits 1 after restoring everything else.`)
    .action(async (spec: string, opts: { target: string; host: string[]; tag: string[]; path: string[] }) => {
      const g = ctx.globals();
      const colon = spec.indexOf(':');
      const ref = colon >= 0 ? spec.slice(0, colon) : spec;
      const path = colon >= 0 ? spec.slice(colon + 1) : undefined;
      await withRepo(ctx, async (repo) => {
        const failures: string[] = [];
        const summary = await restoreSnapshot(repo, ref, {
          target: opts.target,
          cwd: ctx.io.cwd,
          signal: ctx.io.signal,
          filter: filterFrom(opts),
          ...(path !== undefined ? { path } : {}),
          onWarning: (w) => {
            if (w.code !== 'SKIPPED') failures.push(w.path);
            if (g.json) ctx.io.stderr.write(JSON.stringify({ message_type: 'error', error: { message: w.message, code: w.code }, during: 'restore', item: w.path }) + '\n');
            else ctx.io.stderr.write(`${w.code === 'SKIPPED' ? 'warning' : 'error'}: ${w.path}: ${w.message}\n`);
          },
        });
        const s = summary.snapshot;
        if (g.json) {
          printJson(ctx, {
            message_type: 'summary',
            snapshot_id: s.id,
            target: opts.target,
            files_restored: summary.files,
            dirs_restored: summary.dirs,
            bytes_restored: summary.bytes,
            skipped: summary.skipped,
            errors: summary.errors,
            total_duration: summary.duration,
          });
        } else {
          printText(ctx, `restored snapshot ${s.id.slice(0, 8)} of [${s.snapshot.paths.join(' ')}] at ${tableTime(s.snapshot.time)} to ${opts.target}: ${summary.files} files, ${summary.dirs} directories, ${formatSize(summary.bytes)} in ${formatDuration(summary.duration)}`);
        }
        if (summary.errors > 0) {
          throw new CairnError('ERR_INCOMPLETE', `the restore finished with ${summary.errors} ${summary.errors === 1 ? 'error' : 'errors'}: ${failures.slice(0, 5).join(', ')}${failures.length > 5 ? ', …' : ''} could not be restored (nothing wrong was written; see the messages above)`, { data: { errors: summary.errors } });
        }
      });
    });
}
