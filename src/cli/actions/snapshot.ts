/**
 * `cairn snapshot PATH...` (alias `backup`): back up files and directories, or a stream
 * (`--stdin`, `--stdin-from-command -- CMD ARGS…`), into a new snapshot.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { lstat, readdir, rmdir, stat } from 'node:fs/promises';
import {
  cacheDirectory, CairnError, expandGlob, formatSize, parseExcludeFile, parseFilesFrom, parseFilesFromRaw, parseFilesFromVerbatim, parseSize,
  snapshot as takeSnapshot, snapshotStream, readListFile, type ArchiverWarning, type GlobFs, type SnapshotSummary,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { formatDuration } from '../format.js';
import { printJson, printLockWarning, printText, printWarning } from '../output.js';
import { childEnvironment } from '../password.js';
import { withStatus } from '../progress.js';
import { withRepo } from '../repository.js';

export interface SnapshotFlags {
  tag: string[];
  host?: string;
  parent?: string;
  force?: boolean;
  resume: boolean;
  dirCache: boolean;
  ignoreCtime?: boolean;
  ignoreInode?: boolean;
  withAtime?: boolean;
  exclude: string[];
  iexclude: string[];
  excludeFile: string[];
  iexcludeFile: string[];
  filesFrom: string[];
  filesFromVerbatim: string[];
  filesFromRaw: string[];
  excludeCaches?: boolean;
  excludeIfPresent: string[];
  excludeLargerThan?: string;
  oneFileSystem?: boolean;
  gitIgnore?: boolean;
  stdin?: boolean;
  stdinFilename?: string;
  stdinFromCommand?: boolean;
}

/** The file system for --files-from globs, relative to the working directory. */
function globFs(cwd: string): GlobFs {
  return {
    exists: (p) => lstat(resolve(cwd, p)).then(() => true, () => false),
    isDirectory: (p) => stat(resolve(cwd, p)).then((s) => s.isDirectory(), () => false),
    readdir: (p) => readdir(resolve(cwd, p)),
  };
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p);
  return Buffer.concat(parts);
}

function report(ctx: CommandContext, s: SnapshotSummary): void {
  if (ctx.globals().json) {
    const { errors: _e, files_changed_during_read: changed, ...rest } = s;
    void _e;
    printJson(ctx, { message_type: 'summary', ...rest, ...(changed > 0 ? { files_changed_during_read: changed } : {}) });
    return;
  }
  printText(ctx, [
    `Files:       ${String(s.files_new).padStart(5)} new, ${String(s.files_changed).padStart(5)} changed, ${String(s.files_unmodified).padStart(5)} unmodified`,
    `Dirs:        ${String(s.dirs_new).padStart(5)} new, ${String(s.dirs_changed).padStart(5)} changed, ${String(s.dirs_unmodified).padStart(5)} unmodified`,
    `Added to the repository: ${formatSize(s.data_added)} (${formatSize(s.data_added_packed)} stored; ${s.data_blobs} data blobs, ${s.tree_blobs} tree blobs)`,
    ...(s.files_changed_during_read > 0 ? [`${s.files_changed_during_read} files changed while they were read (see the warnings)`] : []),
    '',
    `processed ${s.total_files_processed} files, ${formatSize(s.total_bytes_processed)} in ${formatDuration(s.total_duration)}`,
    `snapshot ${s.snapshot_id.slice(0, 8)} saved`,
  ].join('\n'));
}

/**
 * Runs `args` (no shell) with stdout as the stream to back up; `completed` rejects when the
 * command cannot start, exits non-zero or dies by a signal, so that no snapshot is saved.
 */
function runCommand(args: readonly string[], ctx: CommandContext): { source: AsyncIterable<Uint8Array>; completed: Promise<void> } {
  if (args.length === 0) throw new CairnError('ERR_USAGE', '--stdin-from-command needs a command after --, e.g. -- pg_dump mydb');
  const [cmd, ...rest] = args as [string, ...string[]];
  // The user's environment, as restic passes it, minus the variable holding the repository password.
  const child = spawn(cmd, rest, { cwd: ctx.io.cwd, stdio: ['ignore', 'pipe', 'inherit'], env: childEnvironment(ctx.globals(), ctx.io.env) });
  const completed = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new CairnError('ERR_FILE_READ', `cannot run ${cmd}: ${e.message}; no snapshot was saved`, { cause: e, data: { command: cmd } })));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new CairnError('ERR_FILE_READ', `${cmd} ${signal !== null ? `was killed by ${signal}` : `exited with status ${code}`}; no snapshot was saved (the data it wrote stays unreferenced until prune)`, { data: { command: cmd, code, signal } }));
    });
  });
  completed.catch(() => undefined);
  ctx.io.signal.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
  // Consume child.stdout from the start: Node resumes (and so discards) the unread output of a
  // child that exits while its stdout has no reader, which lost all of a short command's output
  // (anything that fit in the pipe) while the repository was still being locked and indexed.
  const source = new PassThrough({ highWaterMark: 1 << 20 });
  child.stdout.pipe(source);
  // If the snapshot stops reading (an error), close the pipe so the command is not left blocked.
  source.on('close', () => child.stdout.destroy());
  return { source, completed };
}

/** The action of `cairn snapshot` (its options: ../commands/snapshot.ts). */
export async function snapshotAction(ctx: CommandContext, args: string[], opts: SnapshotFlags): Promise<void> {
  return withStatus(ctx, opts.stdin === true || opts.stdinFromCommand === true ? 'none' : 'snapshot', async (ctx, progress, status) => {
      const onWarning = (w: ArchiverWarning): void => printWarning(ctx, { message: w.message, code: w.code, during: 'archival', item: w.path });
      const common = {
        cwd: ctx.io.cwd,
        signal: ctx.io.signal,
        onWarning,
        onLockWarning: (w: { code: string; message: string }) => printLockWarning(ctx, w),
        ...(progress !== undefined ? { progress } : {}),
        ...(opts.tag.length > 0 ? { tags: opts.tag } : {}),
        ...(opts.host !== undefined ? { hostname: opts.host } : {}),
      };
      const summary = await withRepo(ctx, async (repo) => {
        if (opts.stdin === true || opts.stdinFromCommand === true) {
          if (opts.stdin === true && opts.stdinFromCommand === true) throw new CairnError('ERR_USAGE', '--stdin and --stdin-from-command exclude each other');
          if (opts.stdin === true && args.length > 0) throw new CairnError('ERR_USAGE', '--stdin takes no paths');
          const stream = opts.stdin === true ? { source: ctx.io.stdin as AsyncIterable<Uint8Array> } : runCommand(args, ctx);
          return snapshotStream(repo, { ...common, filename: opts.stdinFilename ?? 'stdin', ...stream });
        }
        const paths = [...args];
        const list = async (f: string, what: string): Promise<Uint8Array> => (f === '-' ? readAll(ctx.io.stdin as AsyncIterable<Uint8Array>) : readListFile(resolve(ctx.io.cwd, f), what));
        for (const f of opts.filesFrom) {
          for (const line of parseFilesFrom(await list(f, '--files-from file'))) {
            const found = await expandGlob(line, globFs(ctx.io.cwd));
            if (found.length === 0) onWarning({ code: 'SKIPPED', path: line, message: `--files-from: ${line} matches nothing; skipped` });
            paths.push(...found);
          }
        }
        for (const f of opts.filesFromVerbatim) paths.push(...parseFilesFromVerbatim(await list(f, '--files-from-verbatim file')));
        for (const f of opts.filesFromRaw) paths.push(...parseFilesFromRaw(await list(f, '--files-from-raw file')).map((b) => Buffer.from(b).toString('utf8')));
        if (paths.length === 0) throw new CairnError('ERR_USAGE', 'nothing to back up: give paths, --files-from, --stdin or --stdin-from-command');
        const exclude = [...opts.exclude];
        for (const f of opts.excludeFile) exclude.push(...parseExcludeFile(await readListFile(resolve(ctx.io.cwd, f), '--exclude-file'), ctx.io.env));
        const iexclude = [...opts.iexclude];
        for (const f of opts.iexcludeFile) iexclude.push(...parseExcludeFile(await readListFile(resolve(ctx.io.cwd, f), '--iexclude-file'), ctx.io.env));
        const cacheDir = cacheDirectory(ctx.io.env, ctx.io.cwd);
        const cache = opts.resume ? cacheDir : undefined;
        const done = await takeSnapshot(repo, paths, {
          ...common,
          ...(cache !== undefined ? { resume: { dir: resolve(cache, repo.config.id, 'resume'), reuse: opts.force !== true } } : {}),
          ...(cacheDir !== undefined && opts.dirCache ? { dirCache: resolve(cacheDir, repo.config.id, 'dirs') } : {}),
          ...(opts.parent !== undefined ? { parent: opts.parent } : {}),
          force: opts.force === true,
          ignoreCtime: opts.ignoreCtime === true,
          ignoreInode: opts.ignoreInode === true,
          withAtime: opts.withAtime === true,
          exclude,
          iexclude,
          // As restic 0.14: only the command line's --exclude patterns are recorded.
          excludes: opts.exclude,
          excludeCaches: opts.excludeCaches === true,
          excludeIfPresent: opts.excludeIfPresent,
          ...(opts.excludeLargerThan !== undefined ? { excludeLargerThan: parseSize(opts.excludeLargerThan, '--exclude-larger-than') } : {}),
          oneFileSystem: opts.oneFileSystem === true,
          gitIgnore: opts.gitIgnore === true,
        });
        // The journal is gone with the saved snapshot: its directory and the repository's in the
        // cache go too when empty (else the cache gathers an empty pair per repository).
        if (cache !== undefined) await removeEmptyDirs([resolve(cache, repo.config.id, 'resume'), resolve(cache, repo.config.id)], onWarning);
        return done;
      });
      status.finish();
      ctx.recordMetrics({ bytesProcessed: summary.total_bytes_processed, bytesAdded: summary.data_added, bytesStored: summary.data_added_packed, filesProcessed: summary.total_files_processed, errors: summary.errors });
      report(ctx, summary);
      if (summary.errors > 0) {
        throw new CairnError('ERR_PARTIAL', `snapshot ${summary.snapshot_id.slice(0, 8)} was saved, but ${summary.errors} ${summary.errors === 1 ? 'entry' : 'entries'} could not be read (see the warnings above)`, { data: { snapshot_id: summary.snapshot_id, errors: summary.errors } });
      }
    });
}

/**
 * Removes each directory in turn while it is empty; stops at the first that is not (or is gone).
 * Any other failure is a warning: the snapshot is saved, an empty directory is all that is left.
 */
async function removeEmptyDirs(dirs: readonly string[], onWarning: (w: ArchiverWarning) => void): Promise<void> {
  for (const d of dirs) {
    try {
      await rmdir(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') onWarning({ code: 'DEGRADED', path: d, message: `cannot remove the empty cache directory ${d} (it is safe to delete): ${(e as Error).message}` });
      return;
    }
  }
}
