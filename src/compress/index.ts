/**
 * zstd compression as restic's repository format v2 uses it: blobs (pack entries of type 2 and 3)
 * and the `0x02`-prefixed plaintext of index, snapshot and lock files hold one zstd frame each.
 * No I/O; level 1 (imports only errors).
 *
 * Invariants:
 * - `compress` writes one standard frame with the content size in its header and no checksum,
 *   as restic's encoder does (the MAC around every stored object already detects damage).
 * - Decoding never trusts a size read from storage: `decompress` yields exactly the length the
 *   caller knows (a pack header's uncompressed length, ≤ 2^32) after checking that the frame's own
 *   claim agrees and that so few bytes could expand that far, allocating it at once only up to
 *   16 MiB and otherwise growing with the real output; `decompressBounded` grows its output step
 *   by step and stops at the caller's limit. No claim allocates more than 16 MiB up front. Any frame that does not decode to exactly
 *   what was expected is ERR_CORRUPT naming the object; nothing partial is returned.
 * - `decompressInto` is `decompress` writing into a caller's buffer when that holds the expected
 *   length (else it allocates as `decompress` does); `decompress` is built on it.
 * - Both decoders accept whatever restic accepts: frames with or without content size or
 *   checksum, several frames in a row, skippable frames.
 */
export { DEFAULT_LEVEL, MAX_DECOMPRESSED_SIZE, compress, compressToScratch, decompress, decompressBounded, decompressInto } from './zstd.js';
