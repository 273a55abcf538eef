/**
 * The repository layer: opening and creating repositories (keys, config), loading and saving
 * encrypted files and blobs, packing blobs, the master index, locks. Invariants: packs are durable
 * before an index names them, indexes before a snapshot refers to their blobs; every loaded file
 * and blob is checked (name or ID against content, MAC before decryption) before use; opening
 * writes nothing.
 */
export {
  Repository, type InitOptions, type OpenOptions, type BlobSaveResult, type StoredFile, type BlobCompression, type PackWriter,
  type ListSnapshotsOptions, type UnreadableSnapshot,
} from './repository.js';
export { GrowingScratch, type BlobScratch } from './blob-codec.js';
export { newConfig, encodeConfig, decodeConfig, type RepoConfig, type ChunkerConfig } from './config.js';
export { sealUnpacked, openUnpacked, MAX_UNPACKED_SIZE } from './unpacked.js';
export { appendAuditRecord, loadAuditRecord, listAuditRecords, type AuditEntry, type AuditListing, type UnreadableAuditRecord } from './audit.js';
export {
  currentUser, openWithPassword, addKey, listKeys, findKey, removeKey, addPassword, changePassword,
  type KeyRing, type KeyEntry, type KeyWarning, type KeyMeta, type NewKeyOptions,
} from './keys.js';
export {
  lockRepository, withLock, encodeLock, decodeLock, isStale, lockAge, formatAge, listLocks, describeLock, removeLocks,
  LOCK_WAIT_MS, LOCK_REFRESH_MS, LOCK_STALE_MS,
  type LockInfo, type RepoLock, type LockStore, type LockOptions, type LockUse, type LockWarning, type LockEntry, type UnlockResult,
} from './lock.js';
