/**
 * "Unpacked" files — index, snapshot and lock files — as stored: `seal(plaintext)`, named by the
 * SHA-256 of the sealed bytes. In repository version 2 the plaintext is `0x02 ‖ zstd(JSON)`; a
 * plaintext starting with `{` or `[` is plain JSON (restic accepts both in v2). In version 1 it is
 * always plain JSON. Readers verify the name against the bytes before anything else.
 */
import { CairnError } from '../errors.js';
import { compress, decompressBounded } from '../compress/index.js';
import { open, seal, type MasterKey } from '../crypto/index.js';
import { hashId, type Id } from '../model/index.js';

/** Largest decompressed unpacked file accepted (index files of millions of blobs stay far below). */
export const MAX_UNPACKED_SIZE = 1 << 30;

export function sealUnpacked(key: MasterKey, version: 1 | 2, json: Uint8Array): { id: Id; bytes: Uint8Array } {
  let plain = json;
  if (version >= 2) {
    const z = compress(json);
    plain = new Uint8Array(1 + z.length);
    plain[0] = 2;
    plain.set(z, 1);
  }
  const bytes = seal(key, plain);
  return { id: hashId(bytes), bytes };
}

/** Checks the ID, decrypts and decompresses an unpacked file; `what` names it in errors. */
export function openUnpacked(key: MasterKey, version: 1 | 2, id: Id, bytes: Uint8Array, what: string): Uint8Array {
  const actual = hashId(bytes);
  if (actual !== id) {
    throw new CairnError('ERR_CORRUPT', `${what}: its content hashes to ${actual}, not to its name; the file is damaged`, { data: { expected: id, actual } });
  }
  const plain = open(key, bytes, what);
  if (plain.length === 0) throw new CairnError('ERR_CORRUPT', `${what}: empty after decryption`);
  const first = plain[0]!;
  if (first === 0x7b || first === 0x5b) return plain; // '{' or '[': plain JSON
  if (version >= 2 && first === 2) return decompressBounded(plain.subarray(1), MAX_UNPACKED_SIZE, what);
  throw new CairnError('ERR_CORRUPT', `${what}: unknown encoding (first byte 0x${first.toString(16).padStart(2, '0')}${version === 1 ? ' in a version 1 repository' : ''})`, { data: { first } });
}
