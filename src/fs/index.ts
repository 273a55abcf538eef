/**
 * The file system as the archiver and restorer see it: names and paths as bytes (never decoded),
 * byte-order comparison, stat metadata to tree nodes and back, user and group names. Invariants:
 * no path below what the user typed is ever decoded or re-encoded; a name that could escape a
 * directory is never created.
 */
export { joinPath, displayPath, nameKey, SLASH } from './paths.js';
export { userName, groupName, uidOf, gidOf } from './names.js';
export { nodeFromStat, scannedGives, timestampToSeconds, unixPermissions, unixModeOf, type NodeContent } from './node.js';
export { readXattrs, writeXattrs } from './xattrs.js';
export { nativeAvailable, makeNode, setTimes, listXattrs, setXattr, scanDirectory, readSmall, finishFile, openFile, type DirectoryScan, type FinishedFile, type ScanOptions } from './native.js';
export { openForReading, scanDir, readWhole, type WholeRead } from './read.js';
export type { ScannedStats } from './stats.js';
