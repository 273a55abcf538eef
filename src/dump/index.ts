/**
 * Dump: a snapshot's directory as a tar archive, as restic 0.14's `dump` writes it (same entries,
 * names, header fields and format choice: USTAR when the fields fit, PAX otherwise), streamed as
 * an async iterable of byte chunks: content goes out blob by blob, never a whole file in memory.
 * `tar.ts` is the pure header encoder; `dump.ts` walks the trees and loads the blobs through the
 * narrow `DumpRepository`. Failures keep their code and name the path whose data was missing.
 */
export { dumpTar, loadDumpTree, tarHeaderFor, tarSeconds, xattrRecords, aclText, type DumpRepository } from './dump.js';
export { encodeTarHeader, paxRecord, splitUstarPath, tarPadding, tarTrailer, TAR_BLOCK, TYPE_DIR, TYPE_PAX, TYPE_REG, TYPE_SYMLINK, type TarHeader } from './tar.js';
