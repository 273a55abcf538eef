/**
 * Snapshots: walking the source, storing file chunks and directory trees, writing the snapshot.
 * Invariants: blobs and packs are durable and indexed before the snapshot that refers to them is
 * written; an entry that cannot be read is a warning, never an abort; nothing is followed across
 * symlinks.
 */
export { type ResumeOptions } from './resume.js';
export { DirCache, DIR_CACHE_AGE, type DirCacheEntry, type DirCacheOptions } from './dircache.js';
export { takeSnapshot, takeStdinSnapshot, readListFile, type ArchiverRepository, type ArchiverWarning, type ParentRef, type SnapshotOptions, type SnapshotSummary, type StdinSnapshotOptions } from './archiver.js';
export { createSelector, type Selector, type SelectionOptions } from './select.js';
