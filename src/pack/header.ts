/**
 * Pack header codec (plaintext). A pack is `blob₁ ‖ … ‖ blobₙ ‖ seal(header) ‖ u32le(len(seal(header)))`;
 * the header lists the blobs in file order, one entry each:
 *
 *   type u8 (0 data, 1 tree, 2 compressed data, 3 compressed tree)
 *   length u32le (stored bytes: IV + ciphertext + MAC)
 *   [uncompressed length u32le, types 2 and 3 only]
 *   id 32 bytes (SHA-256 of the uncompressed plaintext)
 *
 * Offsets are the running sum of lengths from 0. Decoding checks every bound before it allocates.
 */
import { CairnError } from '../errors.js';
import { idFromBytes, idToBytes, type BlobId, type BlobType } from '../model/index.js';

export interface PackedBlob {
  readonly id: BlobId;
  readonly type: BlobType;
  /** Where the blob starts in the pack. */
  readonly offset: number;
  /** Stored length (with the 32 bytes of IV and MAC). */
  readonly length: number;
  /** Plaintext length before compression, or 0 when the blob is stored uncompressed. */
  readonly uncompressedLength: number;
}

const PLAIN_ENTRY = 1 + 4 + 32;
const COMPRESSED_ENTRY = 1 + 4 + 4 + 32;

/** Size of a header entry for a blob. */
export function entrySize(blob: Pick<PackedBlob, 'uncompressedLength'>): number {
  return blob.uncompressedLength > 0 ? COMPRESSED_ENTRY : PLAIN_ENTRY;
}

export function encodePackHeader(blobs: readonly PackedBlob[]): Uint8Array {
  let size = 0;
  for (const b of blobs) size += entrySize(b);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  for (const b of blobs) {
    const compressed = b.uncompressedLength > 0;
    out[p] = (b.type === 'tree' ? 1 : 0) + (compressed ? 2 : 0);
    view.setUint32(p + 1, b.length, true);
    p += 5;
    if (compressed) {
      view.setUint32(p, b.uncompressedLength, true);
      p += 4;
    }
    out.set(idToBytes(b.id), p);
    p += 32;
  }
  return out;
}

/** Decodes a header's plaintext; `what` names the pack in errors. */
export function decodePackHeader(plain: Uint8Array, what: string): PackedBlob[] {
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const blobs: PackedBlob[] = [];
  let offset = 0;
  for (let p = 0; p < plain.length; ) {
    const t = plain[p]!;
    if (t > 3) throw new CairnError('ERR_CORRUPT', `${what}: pack header entry ${blobs.length} has unknown blob type ${t}`, { data: { entry: blobs.length, type: t } });
    const compressed = t >= 2;
    const need = compressed ? COMPRESSED_ENTRY : PLAIN_ENTRY;
    if (p + need > plain.length) throw new CairnError('ERR_CORRUPT', `${what}: pack header ends inside entry ${blobs.length}`, { data: { entry: blobs.length } });
    const length = view.getUint32(p + 1, true);
    let q = p + 5;
    let uncompressedLength = 0;
    if (compressed) {
      uncompressedLength = view.getUint32(q, true);
      q += 4;
      // restic: an uncompressed length of 0 means "not compressed"; a compressed type must not carry it.
      if (uncompressedLength === 0) throw new CairnError('ERR_CORRUPT', `${what}: pack header entry ${blobs.length} is a compressed blob with uncompressed length 0`, { data: { entry: blobs.length } });
    }
    if (length < 32) throw new CairnError('ERR_CORRUPT', `${what}: pack header entry ${blobs.length} claims ${length} stored bytes, less than the 32 of IV and MAC`, { data: { entry: blobs.length, length } });
    blobs.push({ id: idFromBytes(plain.subarray(q, q + 32)), type: t % 2 === 1 ? 'tree' : 'data', offset, length, uncompressedLength });
    offset += length;
    p = q + 32;
  }
  return blobs;
}
