/** Adding one index file to the in-memory index, all or nothing. */
import { CairnError } from '../errors.js';
import type { PackId } from '../model/index.js';
import { visitIndex } from './file.js';
import type { MasterIndex } from './master.js';

/**
 * Adds the index file `bytes` (named `what` in errors) to `index` pack by pack (`visitIndex`: a
 * large file is never parsed into objects whole) and returns the packs it lists. A file that fails
 * half way is taken out again and its error thrown, so that it counts for nothing; nothing awaits
 * in between, so no other file's packs mix in. A repository of `version` 1 cannot hold compressed
 * blobs: a file listing any is ERR_CORRUPT (unless it fails to decode, which is reported then).
 */
export function addIndexFile(index: MasterIndex, bytes: Uint8Array, what: string, version: number): PackId[] {
  const mark = index.mark();
  const packs: PackId[] = [];
  let compressed = false;
  try {
    visitIndex(bytes, what, (p) => {
      if (p.blobs.some((b) => b.uncompressedLength > 0)) compressed = true;
      index.addPack(p.id, p.blobs);
      packs.push(p.id);
    });
    // After the whole file: a file that does not decode reports that first.
    if (version === 1 && compressed) throw new CairnError('ERR_CORRUPT', `${what}: lists compressed blobs, which a version 1 repository cannot hold`);
  } catch (e) {
    index.rollback(mark);
    throw e;
  }
  return packs;
}
