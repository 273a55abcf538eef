/**
 * Pack files: building one from sealed blobs, and reading its header back from the tail.
 *
 * Layout: `blob₁ ‖ … ‖ blobₙ ‖ seal(header) ‖ u32le(len(seal(header)))`, each blob already sealed
 * (IV ‖ ciphertext ‖ MAC) by the caller; the pack's ID is the SHA-256 of the whole file. Readers
 * check, before they allocate: the file holds at least one entry (≥ 73 bytes), the header length
 * is at least 32 + one entry, at most the file minus 4 bytes, and at most 16 MiB (restic's limits),
 * and the entries account for exactly the bytes before the header.
 */
import { CairnError } from '../errors.js';
import { open, seal, CRYPTO_OVERHEAD, type MasterKey } from '../crypto/index.js';
import { hashId, type BlobId, type BlobType, type PackId } from '../model/index.js';
import { decodePackHeader, encodePackHeader, entrySize, type PackedBlob } from './header.js';

/** restic's largest accepted pack header. */
export const MAX_HEADER_SIZE = 16 << 20;
/** Bytes of a pack besides its blobs and header entries: the header's IV and MAC, its length field. */
export const PACK_OVERHEAD = CRYPTO_OVERHEAD + 4;
/** Smallest possible pack: one entry (37 bytes) sealed (+32), its length field (+4). */
export const MIN_PACK_SIZE = 73;

export interface SealedBlob {
  readonly id: BlobId;
  readonly type: BlobType;
  /** Plaintext length before compression, or 0 when stored uncompressed. */
  readonly uncompressedLength: number;
  /** IV ‖ ciphertext ‖ MAC. */
  readonly sealed: Uint8Array;
}

export interface FinishedPack {
  readonly id: PackId;
  readonly bytes: Uint8Array;
  readonly blobs: readonly PackedBlob[];
}

/** Collects sealed blobs of one pack; `finish` assembles the file. */
export class PackBuilder {
  private readonly parts: Uint8Array[] = [];
  private readonly entries: PackedBlob[] = [];
  private bytes = 0;
  private headerBytes = 0;

  constructor(private readonly key: MasterKey) {}

  /** Bytes the pack will have if finished now. */
  get size(): number {
    return this.bytes + this.headerBytes + PACK_OVERHEAD;
  }

  get count(): number {
    return this.entries.length;
  }

  add(blob: SealedBlob): void {
    const entry: PackedBlob = { id: blob.id, type: blob.type, offset: this.bytes, length: blob.sealed.length, uncompressedLength: blob.uncompressedLength };
    this.parts.push(blob.sealed);
    this.entries.push(entry);
    this.bytes += blob.sealed.length;
    this.headerBytes += entrySize(entry);
  }

  finish(): FinishedPack {
    if (this.entries.length === 0) throw new CairnError('ERR_INTERNAL', 'a pack needs at least one blob');
    const tail = packTail(this.key, this.entries);
    const out = new Uint8Array(this.bytes + tail.length);
    let p = 0;
    for (const part of this.parts) {
      out.set(part, p);
      p += part.length;
    }
    out.set(tail, p);
    return { id: hashId(out), bytes: out, blobs: this.entries };
  }
}

/** What follows a pack's blobs: its sealed header, then that header's length (u32, little-endian). */
export function packTail(key: MasterKey, entries: readonly PackedBlob[]): Uint8Array {
  const header = seal(key, encodePackHeader(entries));
  const tail = new Uint8Array(header.length + 4);
  tail.set(header, 0);
  new DataView(tail.buffer).setUint32(header.length, header.length, true);
  return tail;
}

/** Reads bytes [offset, offset + length) of the pack. */
export type RangeLoader = (offset: number, length: number) => Promise<Uint8Array>;

/**
 * Bytes [offset, offset + length) of the pack from `load`, which must return exactly that many: a
 * loader that returns fewer or more (a backend breaking its contract) is ERR_BACKEND, retryable,
 * instead of a header parsed from the wrong bytes.
 */
async function loadExactly(load: RangeLoader, offset: number, length: number, what: string): Promise<Uint8Array> {
  const bytes = await load(offset, length);
  if (bytes.length !== length) {
    throw new CairnError('ERR_BACKEND', `${what}: reading bytes ${offset}..${offset + length} returned ${bytes.length} bytes instead of ${length}; the storage returned a short or wrong read, try again`, {
      data: { offset, length, got: bytes.length },
      retryable: true,
    });
  }
  return bytes;
}

/** How many bytes at the end of a pack to read first, hoping the whole header is in them. */
const TAIL_GUESS = 64 * 1024;

/**
 * The blobs a pack holds, from its encrypted header: reads the tail (one read when the header fits
 * in 64 KiB, two otherwise). `what` names the pack in errors: ERR_CORRUPT for a header that cannot
 * be (a length outside the file or over 16 MiB, entries that do not account for the bytes before
 * it), ERR_AUTH_FAILED for a header whose MAC fails, ERR_BACKEND for a `size` that is not a byte
 * count or a read that does not return the bytes asked for.
 */
export async function readPackHeader(key: MasterKey, load: RangeLoader, size: number, what: string): Promise<PackedBlob[]> {
  if (!Number.isSafeInteger(size)) {
    throw new CairnError('ERR_BACKEND', `${what}: the storage reports a size of ${size}, which is not a byte count; check the storage server or backend`, { data: { size: String(size) } });
  }
  if (size < MIN_PACK_SIZE) throw new CairnError('ERR_CORRUPT', `${what}: a pack has at least ${MIN_PACK_SIZE} bytes, this one ${size}`, { data: { size } });
  const tailLength = Math.min(size, TAIL_GUESS);
  let tail = await loadExactly(load, size - tailLength, tailLength, what);
  const headerLength = new DataView(tail.buffer, tail.byteOffset, tail.byteLength).getUint32(tail.length - 4, true);
  if (headerLength < CRYPTO_OVERHEAD + 37 || headerLength > size - 4 || headerLength > MAX_HEADER_SIZE) {
    throw new CairnError('ERR_CORRUPT', `${what}: the pack header claims ${headerLength} bytes, impossible in a ${size}-byte pack (at most ${Math.min(size - 4, MAX_HEADER_SIZE)})`, { data: { headerLength, size } });
  }
  if (headerLength + 4 > tailLength) tail = await loadExactly(load, size - 4 - headerLength, headerLength + 4, what);
  const sealed = tail.subarray(tail.length - 4 - headerLength, tail.length - 4);
  const blobs = decodePackHeader(open(key, sealed, `header of ${what}`), what);
  const end = blobs.reduce((n, b) => n + b.length, 0);
  if (end !== size - 4 - headerLength) {
    throw new CairnError('ERR_CORRUPT', `${what}: the header lists ${end} bytes of blobs, but ${size - 4 - headerLength} bytes precede it`, { data: { listed: end, present: size - 4 - headerLength } });
  }
  return blobs;
}
