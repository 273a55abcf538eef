/**
 * The master index regrouped by pack: for each pack the index names, its blobs in offset order,
 * the pack size the index implies, and whether its byte ranges overlap or mix blob types.
 *
 * Built once from `MasterIndex.columns()` into typed arrays (IDs 32 bytes, offset, length,
 * uncompressed length 4 each, type 1): a counting sort by pack, then each pack's run sorted by
 * offset, so millions of blobs cost about 50 bytes each and no object per blob. `blobs(pack)`
 * materialises one pack's entries on demand.
 *
 * Pack size (restic's `pack.Size`): a pack holds its blobs, then the sealed header (32 bytes of
 * IV and MAC around one entry per blob: 37 bytes, 41 for a compressed blob), then 4 bytes giving
 * the header's length. So size = 36 + Σ (stored length + entry size).
 */
import type { MasterIndex } from '../index/index.js';
import { idFromBytes, type PackId } from '../model/index.js';
import { entrySize, PACK_OVERHEAD, type PackedBlob } from '../pack/index.js';


/** Two index entries of one pack whose byte ranges overlap. */
export interface Overlap {
  readonly pack: PackId;
  readonly first: PackedBlob;
  readonly second: PackedBlob;
}

export class PackTable {
  private constructor(
    private readonly packList: readonly PackId[],
    private readonly numbers: ReadonlyMap<PackId, number>,
    /** Entry positions of pack p: order[starts[p] .. starts[p+1]). */
    private readonly starts: Uint32Array,
    private readonly order: Uint32Array,
    private readonly ids: Uint8Array,
    private readonly offsets: Uint32Array,
    private readonly lengths: Uint32Array,
    private readonly ulengths: Uint32Array,
    private readonly types: Uint8Array,
    /** Per pack: bit 0 set when it holds a data blob, bit 1 a tree blob. */
    private readonly kinds: Uint8Array,
  ) {}

  static from(index: MasterIndex): PackTable {
    // Copies of the index's columns (the table must not change if the index grows later); packs
    // are numbered in the order their first entry appears, so a pack with no entries is not listed.
    const c = index.columns();
    const n = c.count;
    const ids = c.ids.slice();
    const offsets = c.offsets.slice();
    const lengths = c.lengths.slice();
    const ulengths = c.ulengths.slice();
    const types = c.types.slice();
    const packNo = new Uint32Array(n);
    const renumber = new Int32Array(c.packs.length).fill(-1);
    const numbers = new Map<PackId, number>();
    const packList: PackId[] = [];
    for (let i = 0; i < n; i++) {
      const q = c.packIdx[i]!;
      let p = renumber[q]!;
      if (p < 0) {
        p = packList.length;
        renumber[q] = p;
        const pack = c.packs[q]!;
        packList.push(pack);
        numbers.set(pack, p);
      }
      packNo[i] = p;
    }
    const kinds = new Uint8Array(packList.length);
    for (let i = 0; i < n; i++) kinds[packNo[i]!]! |= 1 << types[i]!;
    // Counting sort by pack, then each pack's run by offset.
    const starts = new Uint32Array(packList.length + 1);
    for (let j = 0; j < n; j++) starts[packNo[j]! + 1]!++;
    for (let p = 0; p < packList.length; p++) starts[p + 1]! += starts[p]!;
    const fill = starts.slice(0, packList.length);
    const order = new Uint32Array(n);
    for (let j = 0; j < n; j++) order[fill[packNo[j]!]!++] = j;
    for (let p = 0; p < packList.length; p++) {
      const run = order.subarray(starts[p]!, starts[p + 1]!);
      if (run.length > 1) run.sort((a, b) => offsets[a]! - offsets[b]! || lengths[a]! - lengths[b]!);
    }
    return new PackTable(packList, numbers, starts, order, ids, offsets, lengths, ulengths, types, kinds);
  }

  /** Every pack the index names, in the order first seen. */
  packs(): readonly PackId[] {
    return this.packList;
  }

  has(pack: PackId): boolean {
    return this.numbers.has(pack);
  }

  /** The number of index entries of the pack (0 when the index does not name it). */
  count(pack: PackId): number {
    const p = this.numbers.get(pack);
    return p === undefined ? 0 : this.starts[p + 1]! - this.starts[p]!;
  }

  /** The pack's size as its index entries imply (restic's formula; see the file comment). */
  expectedSize(pack: PackId): number {
    const p = this.numbers.get(pack);
    if (p === undefined) return 0;
    let size = PACK_OVERHEAD;
    for (let k = this.starts[p]!; k < this.starts[p + 1]!; k++) {
      const j = this.order[k]!;
      size += this.lengths[j]! + entrySize({ uncompressedLength: this.ulengths[j]! });
    }
    return size;
  }

  /** The pack's index entries in offset order. */
  blobs(pack: PackId): PackedBlob[] {
    const p = this.numbers.get(pack);
    if (p === undefined) return [];
    const out: PackedBlob[] = [];
    for (let k = this.starts[p]!; k < this.starts[p + 1]!; k++) out.push(this.blob(this.order[k]!));
    return out;
  }

  /** True when the pack holds both tree and data blobs. */
  mixed(pack: PackId): boolean {
    const p = this.numbers.get(pack);
    return p !== undefined && this.kinds[p] === 3;
  }

  /** Every pair of consecutive entries (by offset) of one pack whose byte ranges overlap. */
  *overlaps(): Generator<Overlap> {
    for (let p = 0; p < this.packList.length; p++) {
      let end = 0;
      let last = -1;
      for (let k = this.starts[p]!; k < this.starts[p + 1]!; k++) {
        const j = this.order[k]!;
        if (last >= 0 && this.offsets[j]! < end) yield { pack: this.packList[p]!, first: this.blob(last), second: this.blob(j) };
        const e = this.offsets[j]! + this.lengths[j]!;
        if (e >= end) {
          end = e;
          last = j;
        }
      }
    }
  }

  private blob(j: number): PackedBlob {
    return {
      id: idFromBytes(this.ids.subarray(j * 32, j * 32 + 32)),
      type: this.types[j] === 1 ? 'tree' : 'data',
      offset: this.offsets[j]!,
      length: this.lengths[j]!,
      uncompressedLength: this.ulengths[j]!,
    };
  }
}
