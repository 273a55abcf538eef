/**
 * Snapshots: the record of one backup (time, root tree, paths, host, user, tags), its JSON file
 * format, and how the command line picks snapshots (ID prefix, `latest`, host/tag/path filters).
 *
 * Invariants: `encodeSnapshot` writes exactly what restic's json.Marshal writes for the same
 * values, followed by the fields of newer restic versions that were read into `extra`, so a
 * snapshot survives a decode/encode round trip byte for byte; `decodeSnapshot` accepts every
 * snapshot file restic writes and fails only with ERR_CORRUPT; lookups fail only with
 * ERR_INVALID_ARGUMENT, ERR_SNAPSHOT_NOT_FOUND or ERR_AMBIGUOUS_ID. Pure code, no I/O; times and
 * Go JSON come from the tree module.
 */
export type { Snapshot, SnapshotEntry } from './types.js';
export { encodeSnapshot, decodeSnapshot } from './codec.js';
export { findSnapshot, findLatest, resolveSnapshotId, filterSnapshots, sortSnapshots, matchesFilter, cleanPath, type SnapshotFilter } from './find.js';
export { snapshotJson, formatSnapshotsJson, type SnapshotJson } from './json.js';
