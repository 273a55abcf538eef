/**
 * The library's high-level operations, the ones the CLI runs: create or open a repository at a
 * location, take a snapshot (of paths, or of a stream), list snapshots, restore, dump a file.
 * Each write operation holds a restic-compatible lock for its duration.
 */
import { CairnError, messageOf } from '../errors.js';
import { openBackend } from '../backend/index.js';
import {
  createSelector, DirCache, takeSnapshot, takeStdinSnapshot,
  type ParentRef, type SelectionOptions, type SnapshotOptions, type SnapshotSummary, type StdinSnapshotOptions,
} from '../archiver/index.js';
import { compareTime, nowTime } from '../tree/index.js';
import type { KdfParams } from '../crypto/index.js';
import { currentUser, Repository, withLock, type ChunkerConfig, type ListSnapshotsOptions, type LockWarning, type OpenOptions } from '../repository/index.js';
import { dumpTar, loadDumpTree } from '../dump/index.js';
import { findNode, restore, type RestoreOptions, type RestoreSummary } from '../restorer/index.js';
import { filterSnapshots, type SnapshotEntry, type SnapshotFilter } from '../snapshot/index.js';
import { restoreSelector as compileRestoreSelector } from '../filter/index.js';

export interface RepositoryOptions extends OpenOptions {
  readonly password: string;
  /** Resolves relative local paths. @default process.cwd() */
  readonly cwd?: string;
}

export interface InitRepositoryOptions extends RepositoryOptions {
  /** @default FastCDC, min 512 KiB, avg 1 MiB, max 8 MiB, normalization 2 */
  readonly chunker?: ChunkerConfig;
  /** scrypt parameters of the first key. @default calibrated like restic (~0.5 s) */
  readonly kdf?: KdfParams;
}

/** Creates a repository at `location` (a local path, or `local:/path`). */
export async function initRepository(location: string, options: InitRepositoryOptions): Promise<Repository> {
  const backend = await openBackend(location, { cwd: options.cwd ?? process.cwd() });
  return Repository.init(backend, options.password, options);
}

/** Opens the repository at `location`. ERR_REPO_NOT_FOUND, ERR_WRONG_PASSWORD as the case may be. */
export async function openRepository(location: string, options: RepositoryOptions): Promise<Repository> {
  const backend = await openBackend(location, { cwd: options.cwd ?? process.cwd() });
  try {
    return await Repository.open(backend, options.password, options);
  } catch (e) {
    await backend.close();
    throw e;
  }
}

export interface SnapshotCallOptions extends Omit<SnapshotOptions, 'paths' | 'parent' | 'selector' | 'dirs'>, SelectionOptions, LockCallOptions {
  /**
   * The directory cache's file (the CLI: `<cache dir>/<repository ID>/dirs`; see
   * archiver/dircache.ts): opened before the snapshot, written once it is saved. Its problems are
   * warnings (DEGRADED). Not used with `gitIgnore`. @default none
   */
  readonly dirCache?: string;
  /** Compare with this snapshot (ID or prefix) instead of the latest one of the same host and paths. */
  readonly parent?: string;
  /** Read every file, ignoring the parent (restic's --force). */
  readonly force?: boolean;
}

/** Options every locking operation takes. */
export interface LockCallOptions {
  /** Problems with the lock while it is held (a failed refresh). @default process warnings on stderr */
  readonly onLockWarning?: (w: LockWarning) => void;
}

/**
 * Runs `fn` under a lock of the repository (shared unless `exclusive`). With `overlap`, `fn`
 * starts reading while the lock protocol's 200 ms wait runs; the repository's writes wait for it.
 */
async function locked<T>(repo: Repository, exclusive: boolean, options: LockCallOptions, fn: () => Promise<T>, overlap = false): Promise<T> {
  return withLock(repo, { exclusive, onWarning: options.onLockWarning, overlap }, fn);
}

function userDefaults(): Pick<SnapshotOptions, 'hostname' | 'username' | 'uid' | 'gid'> {
  const u = currentUser();
  return { hostname: u.hostname, username: u.username, uid: u.uid, gid: u.gid };
}

/**
 * Backs up `paths` into the repository under a shared lock. The parent is `options.parent`, or
 * the latest snapshot with the same host and the same paths (restic's rule), unless `force`.
 */
export async function snapshot(repo: Repository, paths: readonly string[], options: SnapshotCallOptions = {}): Promise<SnapshotSummary> {
  return locked(repo, false, options, async () => {
    const indexFiles = await repo.loadIndex();
    const { parent: parentRef, force, dirCache: dirCacheFile, ...rest } = options;
    // restic 0.14: --ignore-inode implies --ignore-ctime (on FUSE and similar file systems the
    // ctime is no more stable than the inode); without this every file there was reread.
    const opts = { ...userDefaults(), ...rest, ...(rest.ignoreInode === true ? { ignoreCtime: true } : {}) };
    const cwd = opts.cwd ?? process.cwd();
    // Chosen once the archiver knows which paths exist (a missing one is skipped, as in restic).
    const parent = async (absolute: readonly string[]): Promise<ParentRef | undefined> => {
      if (force === true) return undefined;
      if (parentRef !== undefined) {
        const e = await repo.findSnapshot(parentRef);
        return { id: e.id, tree: e.snapshot.tree };
      }
      // restic's rule: same host, same paths, and not newer than the snapshot being taken.
      const now = opts.time ?? nowTime();
      const same = (await repo.listSnapshots()).filter(
        (e) => (e.snapshot.hostname ?? '') === (opts.hostname ?? '') && sameList(e.snapshot.paths, absolute) && compareTime(e.snapshot.time, now) <= 0,
      );
      const latest = same[same.length - 1];
      return latest === undefined ? undefined : { id: latest.id, tree: latest.snapshot.tree };
    };
    const selector = createSelector(options, cwd);
    // The totals scan of `progress` selects with its own instance (a selector has state).
    const scanSelector = selector !== undefined && options.progress !== undefined ? createSelector(options, cwd) : undefined;
    const cache = dirCacheFile === undefined || options.gitIgnore === true ? undefined : await DirCache.open(dirCacheFile, {
      indexFiles,
      onProblem: (message) => options.onWarning?.({ code: 'DEGRADED', path: dirCacheFile, message }),
    });
    const { exclude, iexclude, excludeCaches, excludeIfPresent, excludeLargerThan, oneFileSystem } = options;
    const selection = JSON.stringify({ exclude, iexclude, excludeCaches, excludeIfPresent, excludeLargerThan, oneFileSystem });
    const summary = await takeSnapshot(repo, {
      ...opts, paths, parent,
      ...(selector ? { selector } : {}), ...(scanSelector ? { scanSelector } : {}), ...(cache ? { dirs: { cache, selection } } : {}),
    });
    if (cache !== undefined) {
      // The index files there are now: every blob the cache's trees name is in one of them. The
      // snapshot is saved: a listing that fails costs the next run its cache, not this run.
      const now: string[] = [];
      try {
        for await (const id of repo.list('index')) now.push(id);
      } catch (e) {
        options.onWarning?.({ code: 'DEGRADED', path: dirCacheFile!, message: `cannot list the repository's index files, so the directory cache is not written (the next snapshot compares every directory with its parent, which is slower): ${messageOf(e)}` });
        return summary;
      }
      await cache.save(now);
    }
    return summary;
  }, true);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

/** Backs up one stream as the file `/<filename>` (restic's --stdin). */
export async function snapshotStream(repo: Repository, options: StdinSnapshotOptions & LockCallOptions): Promise<SnapshotSummary> {
  return locked(repo, false, options, async () => {
    await repo.loadIndex();
    return takeStdinSnapshot(repo, { ...userDefaults(), ...options });
  }, true);
}

/**
 * All snapshots, oldest first (optionally filtered). With `options.onUnreadable`, a snapshot file
 * that does not load is reported there and left out (what `cairn snapshots` does, as restic);
 * without it, such a file fails the listing with its error.
 */
export async function listSnapshots(repo: Repository, filter: SnapshotFilter = {}, options: ListSnapshotsOptions = {}): Promise<SnapshotEntry[]> {
  return filterSnapshots(await repo.listSnapshots(options), filter);
}

export interface RestoreSnapshotOptions extends RestoreOptions, LockCallOptions {
  /** Restore only this path of the snapshot (its contents, for a directory). */
  readonly path?: string;
  readonly filter?: SnapshotFilter;
}

/**
 * Restores snapshot `ref` (full ID, unique prefix or `latest`) into `options.target`, recreating
 * the snapshot's paths under it (or, with `path`, that path's contents).
 */
export async function restoreSnapshot(repo: Repository, ref: string, options: RestoreSnapshotOptions): Promise<RestoreSummary & { snapshot: SnapshotEntry }> {
  // A shared lock, as restic's restore takes: a prune must not delete packs it is reading.
  return locked(repo, false, options, async () => {
    const entry = await repo.findSnapshot(ref, options.filter ?? {});
    await repo.loadIndex();
    // findNode throws ERR_PATH_NOT_FOUND for a missing path; undefined means the root.
    const node = options.path === undefined ? undefined : await findNode(repo, entry.snapshot.tree, options.path);
    // Selection paths are relative to what is restored (restic: `ID:/work --include /foo`).
    const summary = await restore(repo, entry.snapshot.tree, node, options);
    return { ...summary, snapshot: entry };
  });
}


/**
 * Writes the content of the file at `path` in snapshot `ref` to `write`, blob by blob, each
 * verified before it is written.
 */
/** Options of `dumpFile`. */
export interface DumpOptions {
  /**
   * The archive format a directory is written in (restic's `--archive`). Only `tar` is
   * implemented; `zip` for a directory is ERR_UNSUPPORTED. A file is always written as itself.
   * @default 'tar'
   */
  readonly archive?: 'tar' | 'zip';
  /**
   * Whether a directory may be written as an archive (the CLI passes false when stdout is a
   * terminal, as restic refuses then); false makes a directory ERR_INVALID_ARGUMENT.
   * @default true
   */
  readonly allowArchive?: boolean;
}

/**
 * `dump SNAPSHOT PATH`: writes the file at PATH, or the directory at PATH (`/` for the whole
 * snapshot) as a tar archive as restic 0.14 writes it, through `write` (awaited per chunk, so a
 * slow reader slows the dump down; a file's content goes out blob by blob).
 */
export async function dumpFile(repo: Repository, ref: string, path: string, write: (chunk: Uint8Array) => Promise<void> | void, filter: SnapshotFilter = {}, options: DumpOptions = {}): Promise<{ bytes: number; snapshot: SnapshotEntry; archive: boolean }> {
  return locked(repo, false, {}, () => dumpLocked(repo, ref, path, write, filter, options));
}

async function dumpLocked(repo: Repository, ref: string, path: string, write: (chunk: Uint8Array) => Promise<void> | void, filter: SnapshotFilter, options: DumpOptions): Promise<{ bytes: number; snapshot: SnapshotEntry; archive: boolean }> {
  const entry = await repo.findSnapshot(ref, filter);
  await repo.loadIndex();
  const node = await findNode(repo, entry.snapshot.tree, path);
  let bytes = 0;
  if (node === undefined || node.type === 'dir') {
    const shown = node === undefined ? '/' : path;
    if (options.archive === 'zip') throw new CairnError('ERR_UNSUPPORTED', `${shown} is a directory and zip archives are not supported yet; use --archive tar (the default)`, { data: { path, archive: 'zip' } });
    if (options.allowArchive === false) throw new CairnError('ERR_INVALID_ARGUMENT', `${shown} is a directory, written as a tar archive: standard output is a terminal, redirect it to a file or a pipe`, { data: { path } });
    const tree = node === undefined ? entry.snapshot.tree : node.subtree;
    if (tree === undefined) throw new CairnError('ERR_CORRUPT', `${path} in snapshot ${entry.id.slice(0, 8)} is a directory without a subtree`, { data: { path } });
    const parts = path.split('/').filter((p) => p.length > 0 && p !== '.');
    const prefix = new TextEncoder().encode(parts.join('/'));
    for await (const chunk of dumpTar(repo, await loadDumpTree(repo, tree), prefix)) {
      await write(chunk);
      bytes += chunk.length;
    }
    return { bytes, snapshot: entry, archive: true };
  }
  if (node.type !== 'file') {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${path} in snapshot ${entry.id.slice(0, 8)} is a ${node.type}, not a file or directory; dump writes a file, or a directory as a tar archive`);
  }
  for (const id of node.content ?? []) {
    const data = await repo.loadBlob('data', id);
    await write(data);
    bytes += data.length;
  }
  return { bytes, snapshot: entry, archive: false };
}

/**
 * restic restore's --include/--iinclude/--exclude/--iexclude as the restorer's `select`, or
 * undefined when no pattern is given.
 */
export function restoreSelector(options: { include?: readonly string[]; iinclude?: readonly string[]; exclude?: readonly string[]; iexclude?: readonly string[] }): RestoreOptions['select'] {
  const select = compileRestoreSelector(options);
  return select === undefined ? undefined : (path, isDir) => select(path, isDir);
}
