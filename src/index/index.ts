/**
 * Where blobs are: the index file codec (restic's JSON, current and legacy), the in-memory master
 * index (compact typed arrays for millions of blobs) and compact ID sets (IdSet, BlobSet).
 * Invariants: an entry is keyed by (type, ID); a blob may have several entries (several packs);
 * decoding validates every field.
 */
export { encodeIndex, decodeIndex, visitIndex, INDEX_MAX_BLOBS, type IndexFile, type IndexPack } from './file.js';
export { MasterIndex, type IndexColumns, type IndexEntry, type IndexMark } from './master.js';
export { addIndexFile } from './load.js';
export { IdSet, BlobSet } from './id-set.js';
