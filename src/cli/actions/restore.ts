/**
 * `cairn restore SNAPSHOT[:PATH] --target DIR`: restore a snapshot (or one path of it).
 */
import { CairnError, formatSize, restoreSelector, restoreSnapshot, type OverwriteMode, type RestoreAction } from '../../index.js';
import type { CommandContext } from '../context.js';
import { formatDuration, tableTime } from '../format.js';
import { printJson, printLockWarning, printText, printWarning } from '../output.js';
import { withStatus } from '../progress.js';
import { withRepo } from '../repository.js';
import { filterFrom } from './snapshots.js';

export interface RestoreFlags {
  target: string;
  include: string[];
  iinclude: string[];
  exclude: string[];
  iexclude: string[];
  overwrite: string;
  delete?: boolean;
  dryRun?: boolean;
  verify?: boolean;
  sparse?: boolean;
  host: string[];
  tag: string[];
  path: string[];
}

const MODES: readonly OverwriteMode[] = ['always', 'if-changed', 'if-newer', 'never'];

/** The action of `cairn restore` (its options: ../commands/restore.ts). */
export async function restoreAction(ctx: CommandContext, spec: string, opts: RestoreFlags): Promise<void> {
  const g = ctx.globals();
  if (!(MODES as readonly string[]).includes(opts.overwrite)) throw new CairnError('ERR_INVALID_ARGUMENT', `--overwrite must be one of ${MODES.join(', ')}, got "${opts.overwrite}"`);
  const includes = opts.include.length + opts.iinclude.length;
  if (includes > 0 && opts.exclude.length + opts.iexclude.length > 0) throw new CairnError('ERR_USAGE', '--include and --exclude exclude each other (as in restic)');
  const colon = spec.indexOf(':');
  const ref = colon >= 0 ? spec.slice(0, colon) : spec;
  const path = colon >= 0 ? spec.slice(colon + 1) : undefined;
  const select = restoreSelector({ include: opts.include, iinclude: opts.iinclude, exclude: opts.exclude, iexclude: opts.iexclude });
  await withStatus(ctx, 'restore', (ctx, progress, status) => withRepo(ctx, async (repo) => {
    const failures: string[] = [];
    const onAction = opts.dryRun === true || g.verbose > 0
      ? (a: RestoreAction): void => {
          if (g.json) printJson(ctx, { message_type: 'action', ...a, dry_run: opts.dryRun === true });
          else if (a.action !== 'unchanged' || g.verbose > 1) printText(ctx, `${opts.dryRun === true ? 'would ' : ''}${a.action} ${a.type} ${a.path}`);
        }
      : undefined;
    const summary = await restoreSnapshot(repo, ref, {
      target: opts.target,
      cwd: ctx.io.cwd,
      signal: ctx.io.signal,
      filter: filterFrom(opts),
      overwrite: opts.overwrite as OverwriteMode,
      delete: opts.delete === true,
      dryRun: opts.dryRun === true,
      verify: opts.verify === true,
      sparse: opts.sparse === true,
      ...(select ? { select } : {}),
      ...(path !== undefined ? { path } : {}),
      ...(onAction ? { onAction } : {}),
      ...(progress !== undefined ? { progress } : {}),
      onLockWarning: (w) => printLockWarning(ctx, w),
      onWarning: (w) => {
        if (w.code !== 'SKIPPED') failures.push(w.path);
        printWarning(ctx, { message: w.message, code: w.code, during: 'restore', item: w.path }, w.code === 'SKIPPED' ? 'warning' : 'error');
      },
    });
    status.finish();
    ctx.recordMetrics({ bytesProcessed: summary.bytes, filesProcessed: summary.files, errors: summary.errors });
    const s = summary.snapshot;
    if (g.json) {
      printJson(ctx, {
        message_type: 'summary',
        snapshot_id: s.id,
        target: opts.target,
        dry_run: opts.dryRun === true,
        files_restored: summary.files,
        dirs_restored: summary.dirs,
        others_restored: summary.others,
        bytes_restored: summary.bytes,
        files_unchanged: summary.unchanged,
        deleted: summary.deleted,
        verified: summary.verified,
        skipped: summary.skipped,
        errors: summary.errors,
        total_duration: summary.duration,
      });
    } else {
      printText(ctx, `${opts.dryRun === true ? 'would restore' : 'restored'} snapshot ${s.id.slice(0, 8)} of [${s.snapshot.paths.join(' ')}] at ${tableTime(s.snapshot.time)} to ${opts.target}: ${summary.files} files (${summary.unchanged} already right), ${summary.dirs} directories, ${summary.others} other entries, ${formatSize(summary.bytes)}${summary.deleted > 0 ? `, ${summary.deleted} deleted` : ''}${opts.verify === true ? `, ${summary.verified} verified` : ''} in ${formatDuration(summary.duration)}`);
    }
    if (summary.errors > 0) {
      throw new CairnError('ERR_INCOMPLETE', `the restore finished with ${summary.errors} ${summary.errors === 1 ? 'error' : 'errors'}: ${failures.slice(0, 5).join(', ')}${failures.length > 5 ? ', …' : ''} could not be restored (nothing wrong was written; see the messages above)`, { data: { errors: summary.errors } });
    }
  }));
}
