/**
 * Pack files (restic's format): the plaintext header codec, a builder that assembles sealed blobs
 * and the sealed header into a pack, and a reader of the header from a pack's tail. Invariants:
 * entries are in file order and account for every byte before the header; bounds are checked
 * before anything is allocated; blob IDs are SHA-256 of the uncompressed plaintext.
 */
export { encodePackHeader, decodePackHeader, entrySize, type PackedBlob } from './header.js';
export { PackBuilder, packTail, readPackHeader, MAX_HEADER_SIZE, MIN_PACK_SIZE, PACK_OVERHEAD, type SealedBlob, type FinishedPack, type RangeLoader } from './pack.js';
export { packReads, readRuns, type PackPlace, type PackRead } from './runs.js';
