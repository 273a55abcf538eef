/**
 * The vocabulary shared by every layer: branded 32-byte IDs (hex), blob types, the file types a
 * repository stores. Level 0: imports only errors and util.
 */
export { isId, parseId, idFromBytes, idToBytes, idTableInsert, idTableFind, hashId, shortId, type Id, type BlobId, type TreeId, type PackId, type SnapshotId } from './id.js';

/** What a blob holds: file content, or a directory's tree (JSON). */
export type BlobType = 'data' | 'tree';

/**
 * The kinds of file in a repository, named after restic's directories: `config` (one file),
 * `keys/`, `data/xx/` (packs), `index/`, `snapshots/`, `locks/`; and cairn's own `audit` records
 * (`cairn-log/`, a directory restic never reads: spec/format.md "Audit log").
 */
export type FileType = 'config' | 'key' | 'pack' | 'index' | 'snapshot' | 'lock' | 'audit';
