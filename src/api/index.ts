/**
 * High-level operations for embedders and the CLI: init/open a repository by location, snapshot
 * (paths or a stream), list, restore, dump. Invariants: write operations hold a lock (shared for
 * snapshots) and release it on every path out; nothing is written by opening, listing, restoring
 * or dumping.
 */
export {
  initRepository, openRepository, snapshot, snapshotStream, listSnapshots, restoreSnapshot, dumpFile, restoreSelector,
  type RepositoryOptions, type InitRepositoryOptions, type RestoreSnapshotOptions, type SnapshotCallOptions, type LockCallOptions, type DumpOptions,
} from './api.js';
