/**
 * High-level operations for embedders and the CLI: init/open a repository by location, snapshot,
 * list, restore. Invariants: write operations hold a lock (shared for snapshots) and release it on
 * every path out; nothing is written by opening or listing.
 */
export {
  initRepository, openRepository, snapshot, listSnapshots, restoreSnapshot,
  type RepositoryOptions, type InitRepositoryOptions, type RestoreSnapshotOptions,
} from './api.js';
