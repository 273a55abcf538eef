/**
 * A stored blob's bytes (IV ‖ ciphertext ‖ MAC, of zstd or plain data) back to its plaintext:
 * MAC checked before decrypting, decompressed to exactly the length the index gives, and the
 * plaintext's SHA-256 compared with the blob's ID. Used on the main thread and in blob workers.
 * `openBlob` returns arrays of its own; `openBlobInto` writes into a caller's reused buffers (the
 * restore path: no garbage per blob) and is the one implementation of both.
 */
import { decompressInto } from '../compress/index.js';
import { CRYPTO_OVERHEAD, openInto, type MasterKey } from '../crypto/index.js';
import { CairnError } from '../errors.js';
import { hashId, type BlobId } from '../model/index.js';

/**
 * Reused output buffers for `openBlobInto`. `opened` receives the decrypted bytes and must hold
 * `bytes.length − 32` of them; `plain` receives the decompressed plaintext when it holds
 * `uncompressedLength` bytes (when it is shorter, a new array is made, growing with the real
 * output: a length from the index is never allocated on trust). They must not overlap each other
 * or the stored bytes.
 */
export interface BlobScratch {
  readonly opened: Uint8Array;
  readonly plain: Uint8Array;
}

const NO_PLAIN = new Uint8Array(0);

/**
 * A BlobScratch that grows to what each blob needs, for a caller that opens blob after blob and
 * keeps no plaintext past the next one: new buffers are `round(n)` bytes, and the plaintext buffer
 * grows only up to `plainLimit` (a blob claiming more decompresses into an array of its own,
 * growing with the real output: see decompressInto).
 */
export class GrowingScratch implements BlobScratch {
  opened = new Uint8Array(0);
  plain = new Uint8Array(0);

  constructor(
    private readonly round: (n: number) => number,
    private readonly plainLimit: number,
  ) {}

  /** This scratch, grown for a blob of `storedLength` bytes whose plaintext is `uncompressedLength` (0: not compressed). */
  for(storedLength: number, uncompressedLength: number): BlobScratch {
    const opened = storedLength - CRYPTO_OVERHEAD;
    if (this.opened.length < opened) this.opened = new Uint8Array(this.round(opened));
    if (uncompressedLength <= this.plainLimit && this.plain.length < uncompressedLength) this.plain = new Uint8Array(this.round(uncompressedLength));
    return this;
  }
}

/** `what` names the blob in errors; `data` goes into the ERR_CORRUPT of a wrong hash. */
export function openBlob(key: MasterKey, bytes: Uint8Array, id: BlobId, uncompressedLength: number, what: string, data: Readonly<Record<string, unknown>> = {}): Uint8Array {
  const scratch = { opened: new Uint8Array(Math.max(0, bytes.length - CRYPTO_OVERHEAD)), plain: NO_PLAIN };
  return openBlobInto(key, bytes, id, uncompressedLength, what, data, scratch);
}

/**
 * `openBlob` with the same checks and errors, writing into `scratch`: the plaintext is a view of
 * `scratch.opened` (not compressed) or of `scratch.plain` (when it was long enough), valid until
 * the buffers are used again. Copy it before keeping it.
 */
export function openBlobInto(
  key: MasterKey,
  bytes: Uint8Array,
  id: BlobId,
  uncompressedLength: number,
  what: string,
  data: Readonly<Record<string, unknown>>,
  scratch: BlobScratch,
): Uint8Array {
  let plain = openInto(key, bytes, scratch.opened, what);
  if (uncompressedLength > 0) plain = decompressInto(plain, scratch.plain, uncompressedLength, what);
  const actual = hashId(plain);
  if (actual !== id) {
    throw new CairnError('ERR_CORRUPT', `${what}: its plaintext hashes to ${actual}, not to its ID; the pack is damaged`, { data: { blob: id, ...data, actual } });
  }
  return plain;
}
