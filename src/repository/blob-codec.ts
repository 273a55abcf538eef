/**
 * A stored blob's bytes (IV ‖ ciphertext ‖ MAC, of zstd or plain data) back to its plaintext:
 * MAC checked before decrypting, decompressed to exactly the length the index gives, and the
 * plaintext's SHA-256 compared with the blob's ID. Used on the main thread and in blob workers.
 */
import { decompress } from '../compress/index.js';
import { open, type MasterKey } from '../crypto/index.js';
import { CairnError } from '../errors.js';
import { hashId, type BlobId } from '../model/index.js';

/** `what` names the blob in errors; `data` goes into the ERR_CORRUPT of a wrong hash. */
export function openBlob(key: MasterKey, bytes: Uint8Array, id: BlobId, uncompressedLength: number, what: string, data: Readonly<Record<string, unknown>> = {}): Uint8Array {
  let plain = open(key, bytes, what);
  if (uncompressedLength > 0) plain = decompress(plain, uncompressedLength, what);
  const actual = hashId(plain);
  if (actual !== id) {
    throw new CairnError('ERR_CORRUPT', `${what}: its plaintext hashes to ${actual}, not to its ID; the pack is damaged`, { data: { blob: id, ...data, actual } });
  }
  return plain;
}
