/**
 * The library's high-level operations, the ones the CLI runs: create or open a repository at a
 * location, take a snapshot, list snapshots, restore. Each write operation holds a restic-compatible
 * lock for its duration.
 */
import { openBackend } from '../backend/index.js';
import { takeSnapshot, type SnapshotOptions, type SnapshotSummary } from '../archiver/index.js';
import type { KdfParams } from '../crypto/index.js';
import { currentUser, lockRepository, Repository, type ChunkerConfig, type OpenOptions } from '../repository/index.js';
import { findNode, restore, type RestoreOptions, type RestoreSummary } from '../restorer/index.js';
import { filterSnapshots, type SnapshotEntry, type SnapshotFilter } from '../snapshot/index.js';

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

/** Backs up `paths` into the repository under a shared lock. */
export async function snapshot(repo: Repository, paths: readonly string[], options: Omit<SnapshotOptions, 'paths'> = {}): Promise<SnapshotSummary> {
  const user = currentUser();
  const lock = await lockRepository(repo, { exclusive: false });
  try {
    await repo.loadIndex();
    return await takeSnapshot(repo, {
      hostname: user.hostname,
      username: user.username,
      uid: user.uid,
      gid: user.gid,
      ...options,
      paths,
    });
  } finally {
    await lock.release();
  }
}

/** All snapshots, oldest first (optionally filtered). */
export async function listSnapshots(repo: Repository, filter: SnapshotFilter = {}): Promise<SnapshotEntry[]> {
  return filterSnapshots(await repo.listSnapshots(), filter);
}

export interface RestoreSnapshotOptions extends RestoreOptions {
  /** Restore only this path of the snapshot (its contents when a directory). */
  readonly path?: string;
  readonly filter?: SnapshotFilter;
}

/**
 * Restores snapshot `ref` (full ID, unique prefix or `latest`) into `options.target`, recreating
 * the snapshot's absolute paths under it (or, with `path`, that path's contents).
 */
export async function restoreSnapshot(repo: Repository, ref: string, options: RestoreSnapshotOptions): Promise<RestoreSummary & { snapshot: SnapshotEntry }> {
  const entry = await repo.findSnapshot(ref, options.filter ?? {});
  await repo.loadIndex();
  // findNode throws ERR_PATH_NOT_FOUND for a missing path; undefined means the root.
  const node = options.path === undefined ? undefined : await findNode(repo, entry.snapshot.tree, options.path);
  const summary = await restore(repo, entry.snapshot.tree, node, options);
  return { ...summary, snapshot: entry };
}
