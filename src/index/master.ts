/**
 * The in-memory master index: every (blob type, blob ID) → where it is stored. Built for millions
 * of blobs, at most 64 bytes each:
 *
 * - columns in typed arrays: ID 32 bytes, pack number 4, offset 4, stored length 4, uncompressed
 *   length 4, type 1 — 49 bytes; they grow by an eighth at a time, so at most 49 × 9/8 ≈ 55 bytes
 *   per blob are reserved;
 * - an open-addressing hash table of entry numbers (4 bytes a slot) keyed by the ID's first four
 *   bytes (IDs are SHA-256, uniformly distributed), mapped to a slot by multiply-shift range
 *   reduction, so its size need not be a power of two; it is kept between 48% and 72% full:
 *   5.6–8.4 bytes per blob;
 * - pack IDs once each.
 *
 * A blob stored in several packs (restic tolerates duplicates) has several entries; the same pack
 * and offset added twice is one entry.
 */
import { CairnError } from '../errors.js';
import { idFromBytes, idTableFind, idTableInsert, idToBytes, type BlobId, type BlobType, type PackId } from '../model/index.js';
import type { PackedBlob } from '../pack/index.js';
import { fromHexInto } from '../util/index.js';

export interface IndexEntry {
  readonly pack: PackId;
  readonly type: BlobType;
  readonly offset: number;
  readonly length: number;
  /** 0 when stored uncompressed. */
  readonly uncompressedLength: number;
}

/**
 * The entries as read-only column views: entry i has ID bytes `ids[32i .. 32i+32)`, pack
 * `packs[packIdx[i]]`, type `types[i]` (1 tree, 0 data), and so on. Valid until the next `addPack`.
 */
export interface IndexColumns {
  readonly count: number;
  readonly packs: readonly PackId[];
  readonly ids: Uint8Array;
  readonly packIdx: Uint32Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly ulengths: Uint32Array;
  readonly types: Uint8Array;
}

/** What `MasterIndex.mark` returns. */
export interface IndexMark {
  readonly entries: number;
  readonly packs: number;
}

const MAX_LOAD = 0.72;
const GROW_LOAD = 0.48;

export class MasterIndex {
  private cap = 0;
  private n = 0;
  private ids = new Uint8Array(0);
  private packIdx = new Uint32Array(0);
  private offsets = new Uint32Array(0);
  private lengths = new Uint32Array(0);
  private ulengths = new Uint32Array(0);
  private types = new Uint8Array(0);
  private table = new Int32Array(0);
  /** The ID `has` and `lookup` look for (see bytesOf). */
  private readonly probe = new Uint8Array(32);
  private readonly packs: PackId[] = [];
  private readonly packNumbers = new Map<PackId, number>();

  /** Number of entries (a blob in two packs counts twice). */
  get size(): number {
    return this.n;
  }

  /** Number of distinct packs. */
  get packCount(): number {
    return this.packs.length;
  }

  /** Bytes held for the index (typed arrays, plus an estimate for the pack list). */
  byteSize(): number {
    const arrays = [this.ids, this.packIdx, this.offsets, this.lengths, this.ulengths, this.types, this.table].reduce((s, a) => s + a.byteLength, 0);
    return arrays + this.packs.length * 160;
  }

  /** Adds a pack's blobs. */
  addPack(pack: PackId, blobs: readonly PackedBlob[]): void {
    let p = this.packNumbers.get(pack);
    if (p === undefined) {
      p = this.packs.length;
      this.packs.push(pack);
      this.packNumbers.set(pack, p);
    }
    this.reserve(this.n + blobs.length);
    for (const b of blobs) {
      const bytes = this.bytesOf(b.id); // copied into ids below
      if (this.find(bytes, b.type, (i) => this.packIdx[i] === p && this.offsets[i] === b.offset) >= 0) continue;
      const i = this.n++;
      this.ids.set(bytes, i * 32);
      this.packIdx[i] = p;
      this.offsets[i] = b.offset;
      this.lengths[i] = b.length;
      this.ulengths[i] = b.uncompressedLength;
      this.types[i] = b.type === 'tree' ? 1 : 0;
      this.insert(i);
    }
  }

  /** The index's extent now, to go back to with `rollback`. */
  mark(): IndexMark {
    return { entries: this.n, packs: this.packs.length };
  }

  /** Forgets every entry and pack added since `mark` was taken (an index file that failed half way). */
  rollback(mark: IndexMark): void {
    if (mark.entries > this.n || mark.packs > this.packs.length) throw new CairnError('ERR_INTERNAL', `MasterIndex.rollback: the mark (${mark.entries} entries, ${mark.packs} packs) is ahead of the index (${this.n}, ${this.packs.length})`);
    if (mark.entries === this.n && mark.packs === this.packs.length) return;
    for (const p of this.packs.splice(mark.packs)) this.packNumbers.delete(p);
    this.n = mark.entries;
    this.rehash(this.table.length);
  }

  has(id: BlobId, type: BlobType): boolean {
    return this.find(this.bytesOf(id), type) >= 0;
  }

  /** Every place the blob is stored (empty when unknown). */
  lookup(id: BlobId, type: BlobType): IndexEntry[] {
    const out: IndexEntry[] = [];
    this.find(this.bytesOf(id), type, (i) => {
      out.push(this.entry(i));
      return false;
    });
    return out;
  }

  /** All entries: (id, entry). */
  *entries(): Generator<{ id: BlobId; entry: IndexEntry }> {
    for (let i = 0; i < this.n; i++) yield { id: idFromBytes(this.ids.subarray(i * 32, i * 32 + 32)), entry: this.entry(i) };
  }

  /** Every entry as columns (see IndexColumns), for passes over the whole index without an object or hex string per entry. */
  columns(): IndexColumns {
    const n = this.n;
    return {
      count: n,
      packs: this.packs,
      ids: this.ids.subarray(0, n * 32),
      packIdx: this.packIdx.subarray(0, n),
      offsets: this.offsets.subarray(0, n),
      lengths: this.lengths.subarray(0, n),
      ulengths: this.ulengths.subarray(0, n),
      types: this.types.subarray(0, n),
    };
  }

  /** The packs the index knows. */
  packIds(): readonly PackId[] {
    return this.packs;
  }

  private entry(i: number): IndexEntry {
    return {
      pack: this.packs[this.packIdx[i]!]!,
      type: this.types[i] === 1 ? 'tree' : 'data',
      offset: this.offsets[i]!,
      length: this.lengths[i]!,
      uncompressedLength: this.ulengths[i]!,
    };
  }

  /**
   * Walks the entries with this ID and type; returns the first for which `accept` (default: any)
   * says true, or -1.
   */
  private find(bytes: Uint8Array, type: BlobType, accept?: (i: number) => boolean): number {
    if (this.n === 0) return -1;
    const t = type === 'tree' ? 1 : 0;
    return idTableFind(this.table, this.ids, bytes, (i) => this.types[i] === t && (accept === undefined || accept(i)));
  }

  private insert(i: number): void {
    idTableInsert(this.table, this.ids, i);
  }

  /**
   * An ID's bytes for `find`, decoded into one reused buffer (find keeps no reference): an
   * unchanged snapshot asks `has` for every file's blobs, a restore `lookup`s every blob.
   */
  private bytesOf(id: BlobId): Uint8Array {
    return id.length === 64 ? fromHexInto(id, this.probe) : idToBytes(id);
  }

  /** A fresh table of `size` slots holding every entry. */
  private rehash(size: number): void {
    this.table = new Int32Array(size);
    for (let i = 0; i < this.n; i++) this.insert(i);
  }

  private reserve(count: number): void {
    if (count > this.cap) {
      const cap = Math.max(count, 1024, Math.ceil(this.cap * 1.125));
      const grow = <T extends Uint8Array | Uint32Array>(a: T, make: (m: number) => T, per = 1): T => {
        const b = make(cap * per);
        b.set(a.subarray(0, this.n * per));
        return b;
      };
      this.ids = grow(this.ids, (m) => new Uint8Array(m), 32);
      this.packIdx = grow(this.packIdx, (m) => new Uint32Array(m));
      this.offsets = grow(this.offsets, (m) => new Uint32Array(m));
      this.lengths = grow(this.lengths, (m) => new Uint32Array(m));
      this.ulengths = grow(this.ulengths, (m) => new Uint32Array(m));
      this.types = grow(this.types, (m) => new Uint8Array(m));
      this.cap = cap;
    }
    if (count > this.table.length * MAX_LOAD) {
      this.rehash(Math.max(64, Math.ceil(count / GROW_LOAD)));
    }
  }
}
