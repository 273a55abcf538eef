/**
 * Read-only questions about a repository's contents: which snapshots hold entries matching a
 * pattern (restic's `find`), how much the snapshots hold by restic's four `stats` modes, and the
 * repository's own figures (`repo info`: config, file counts, blobs, sizes, compression); plus
 * `selectSnapshots`, the snapshot selection these commands share (named IDs, else a filter).
 *
 * Invariants: nothing is written but a shared lock file; trees are read through the index and
 * verified like every blob; results go to callbacks or return values, never to output; numbers
 * follow restic's definitions (spec/cli.md names the few deliberate differences).
 */
export { selectSnapshots, type SelectSnapshotsOptions } from './select.js';
export { TreeLoader, type TreeLoaderOptions } from './tree-loader.js';
export { findInSnapshots, findInTrees, FindMatcher, type FindMatch, type FindOptions, type FindInSnapshotsOptions, type FindResult } from './find.js';
export {
  snapshotStats, statsOfSnapshots, STATS_MODES, compressionFigures,
  type StatsMode, type StatsSummary, type StatsOptions, type StatsRepository, type SnapshotStatsOptions, type BlobTotals,
} from './stats.js';
export { repositoryInfo, type RepositoryInfo, type RepositoryInfoOptions } from './info.js';
