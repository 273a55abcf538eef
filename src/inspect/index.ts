/**
 * Read-only questions about a repository's contents: which snapshots hold entries matching a
 * pattern (restic's `find`); plus `selectSnapshots`, the snapshot selection such commands share
 * (named IDs, else a filter).
 *
 * Invariants: nothing is written but a shared lock file; trees are read through the index and
 * verified like every blob; results go to callbacks or return values, never to output.
 */
export { selectSnapshots, type SelectSnapshotsOptions } from './select.js';
export { findInSnapshots, findInTrees, FindMatcher, type FindMatch, type FindOptions, type FindInSnapshotsOptions, type FindResult } from './find.js';
