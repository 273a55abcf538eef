/**
 * cairn's public library surface: named re-exports only. The CLI imports nothing else from src/.
 */
export { CairnError, ERROR_CODES, isCairnError, messageOf, type ErrorCode, type CairnErrorOptions } from './errors.js';
export { toHex, fromHex, parseSize, formatSize, mapConcurrent, cacheDirectory, createProgress, trimRetainedMemory, type Progress } from './util/index.js';
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
export { parseKdfSpec, calibrateKdf, DEFAULT_KDF, type KdfParams } from './crypto/index.js';
export { openBackend, parseLocation, LocalBackend, MemoryBackend, type Backend, type Handle, type FileInfo } from './backend/index.js';
export { RestBackend, redactLocation, type RestBackendOptions } from './backend/index.js';
export { S3Backend, type S3BackendOptions, type S3Location, type OpenBackendOptions } from './backend/index.js';
export { withRetry, isRetryable, type RetryOptions, type RetryEvent, type RetryOperation } from './backend/index.js';
export { encodeTree, decodeTree, formatTime, parseTime, nowTime, type Node, type NodeType, type Tree, type Timestamp } from './tree/index.js';
export { encodeSnapshot, decodeSnapshot, findSnapshot, filterSnapshots, snapshotJson, formatSnapshotsJson, type Snapshot, type SnapshotFilter, type SnapshotEntry } from './snapshot/index.js';
export {
  applyPolicy, planForget, groupSnapshots, parseGroupBy, formatGroupBy, parseDuration, formatDuration, isZeroDuration, validatePolicy, isEmptyPolicy,
  describePolicy, formatTagList, formatForgetJson, DEFAULT_GROUP_BY,
  type ForgetPolicy, type Duration, type GroupBy, type SnapshotGroup, type KeepReason, type PolicyCounters, type PolicyResult, type ForgetGroupPlan, type ForgetPlanOptions,
} from './forget/index.js';
export {
  Repository, listKeys, findKey, removeKey, addPassword, changePassword, lockRepository, withLock, listLocks, removeLocks, describeLock, isStale, formatAge, encodeLock, decodeLock, LOCK_STALE_MS,
  type KeyRing, type KeyEntry, type KeyWarning, type KeyMeta, type NewKeyOptions,
  type RepoConfig, type ChunkerConfig, type InitOptions, type OpenOptions, type RepoLock, type LockInfo, type LockEntry, type LockOptions, type LockUse, type LockWarning, type UnlockResult,
} from './repository/index.js';
export {
  prune, planPrune, executePrune, isNoop, parseMaxUnused, formatMaxUnused, maxUnusedBytes, DEFAULT_MAX_UNUSED,
  type PrunePlan, type PruneStats, type PruneResult, type PruneOptions, type PruneRunOptions, type PruneOutcome, type PruneEvent, type PrunePhase,
  type PruneWarning, type MaxUnused, type ExecutePruneOptions,
} from './prune/index.js';
export { takeSnapshot, takeStdinSnapshot, readListFile, createSelector, DirCache, DIR_CACHE_AGE, type DirCacheEntry, type DirCacheOptions, type ResumeOptions, type SnapshotOptions, type SnapshotSummary, type ArchiverWarning, type Selector, type SelectionOptions, type StdinSnapshotOptions } from './archiver/index.js';
export { dumpTar, encodeTarHeader, type DumpRepository, type TarHeader } from './dump/index.js';
export { restore, findNode, loadTree, type RestoreOptions, type RestoreSummary, type RestoreWarning, type RestoreAction, type OverwriteMode } from './restorer/index.js';
export {
  initRepository, openRepository, snapshot, snapshotStream, listSnapshots, restoreSnapshot, dumpFile, restoreSelector,
  type RepositoryOptions, type InitRepositoryOptions, type RestoreSnapshotOptions, type SnapshotCallOptions, type DumpOptions,
} from './api/index.js';
export { parseExcludeFile, parseFilesFrom, parseFilesFromVerbatim, parseFilesFromRaw, expandGlob, invalidPatterns, type GlobFs } from './filter/index.js';
export {
  checkRepository, parseReadDataSubset, selectPacks, repairIndex, repairSnapshots, REPAIRED_TAG,
  type CheckOptions, type CheckSummary, type CheckProblem, type CheckProblemKind, type CheckHint, type CheckHintKind, type CheckPhase, type ReadDataSelection,
  type RepairIndexOptions, type RepairIndexEvent, type RepairIndexSummary,
  type RepairSnapshotsOptions, type RepairSnapshotsEvent, type RepairSnapshotsSummary,
} from './checker/index.js';
export {
  runBenchmark, formatBenchText, formatBenchSvg, benchResultsPath, saveBenchResults, generateCheckpoints, buildManifest, compareManifests, PHASES as BENCH_PHASES,
  type BenchOptions, type BenchSummary, type BenchDatasetSpec, type DatasetResult as BenchDatasetResult, type ToolName as BenchToolName,
  loadBenchResults, benchRates, predict, parsePlanSize, parsePlanRate, groupDigits, formatSeconds, approxDuration, formatBytesPerSecond, sourceTotals,
  type BenchResultsFile, type BenchResultsEntry, type BenchThroughput, type BenchRates, type PlanAmount, type PlanMachine, type PlanRate, type Prediction, type Quantity, type RateSource, type SourceTotals,
} from './benchmark/index.js';
export {
  diffTrees, diffSnapshots, sameMetadata,
  type DiffRepository, type DiffChange, type DiffModifier, type DiffStat, type DiffResult, type DiffOptions, type DiffSnapshotsOptions, type DiffSummary,
} from './diff/index.js';
export {
  selectSnapshots, findInSnapshots, findInTrees, FindMatcher, snapshotStats, statsOfSnapshots, repositoryInfo, STATS_MODES,
  type SelectSnapshotsOptions, type FindMatch, type FindOptions, type FindInSnapshotsOptions, type FindResult,
  type StatsMode, type StatsSummary, type StatsOptions, type StatsRepository, type SnapshotStatsOptions, type RepositoryInfo, type RepositoryInfoOptions,
} from './inspect/index.js';
export { tagSnapshots, changeTags, type TagChange, type TagChangeDone, type TagResult, type TagSnapshotsOptions } from './tag/index.js';
// copy between repositories (issue 9)
export {
  copySnapshots, isSimilarSnapshot, copiedSnapshot,
  type CopySnapshotsOptions, type CopyEvent, type CopyCounts, type CopyResult, type CopyRepository,
} from './copy/index.js';
// audit log (issue 9)
export {
  encodeAuditRecord, decodeAuditRecord, redactArgs, REDACTED, MAX_AUDIT_RECORD_SIZE, MAX_AUDIT_PACK_IDS,
  type AuditRecord, type AuditResult, type AuditIdChanges, type AuditPackChanges,
} from './audit/index.js';
export { appendAuditRecord, loadAuditRecord, listAuditRecords, type AuditEntry, type AuditListing, type UnreadableAuditRecord } from './repository/index.js';
