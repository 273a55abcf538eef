/**
 * cairn's public library surface: named re-exports only. The CLI imports nothing else from src/.
 */
export { CairnError, ERROR_CODES, isCairnError, messageOf, type ErrorCode, type CairnErrorOptions } from './errors.js';
export { toHex, fromHex, parseSize, formatSize, mapConcurrent } from './util/index.js';
export { parseId, isId, shortId, hashId, type Id, type BlobId, type TreeId, type PackId, type SnapshotId, type BlobType, type FileType } from './model/index.js';
export {
  chunkStream, chunkFile, chunkBoundaries, createFastCdc, ParallelChunker, chunkStreamParallel,
  publicGearTable, seededGearTable, keyedGearTable, fastCdcParams, lookaheadOf, FASTCDC_DEFAULTS, FASTCDC_LIMITS,
  createRabinChunker, randomPolynomial, parsePolynomial, formatPolynomial, validatePolynomial, isIrreducible,
  RABIN_MIN_SIZE, RABIN_MAX_SIZE,
  type Chunk, type Chunker, type ByteSource, type ChunkStreamOptions, type ChunkFileOptions, type FileBoundariesOptions, type ChunkBoundary,
  type GearTable, type FastCdcOptions, type FastCdcParams, type CreateFastCdcOptions, type FastCdcEngine,
  type ParallelChunkerOptions, type ParallelChunkStats, type RabinChunkerOptions,
} from './chunker/index.js';
export { parseKdfSpec, DEFAULT_KDF, type KdfParams } from './crypto/index.js';
export { openBackend, parseLocation, LocalBackend, MemoryBackend, type Backend, type Handle, type FileInfo } from './backend/index.js';
export { encodeTree, decodeTree, formatTime, parseTime, nowTime, type Node, type NodeType, type Tree, type Timestamp } from './tree/index.js';
export { encodeSnapshot, decodeSnapshot, findSnapshot, filterSnapshots, snapshotJson, formatSnapshotsJson, type Snapshot, type SnapshotFilter, type SnapshotEntry } from './snapshot/index.js';
export { Repository, lockRepository, type RepoConfig, type ChunkerConfig, type InitOptions, type OpenOptions, type RepoLock } from './repository/index.js';
export { takeSnapshot, takeStdinSnapshot, readListFile, createSelector, type SnapshotOptions, type SnapshotSummary, type ArchiverWarning, type Selector, type SelectionOptions, type StdinSnapshotOptions } from './archiver/index.js';
export { restore, findNode, loadTree, type RestoreOptions, type RestoreSummary, type RestoreWarning, type RestoreAction, type OverwriteMode } from './restorer/index.js';
export {
  initRepository, openRepository, snapshot, snapshotStream, listSnapshots, restoreSnapshot, dumpFile, restoreSelector,
  type RepositoryOptions, type InitRepositoryOptions, type RestoreSnapshotOptions, type SnapshotCallOptions,
} from './api/index.js';
export { parseExcludeFile, parseFilesFrom, parseFilesFromVerbatim, parseFilesFromRaw, expandGlob, invalidPatterns, type GlobFs } from './filter/index.js';
