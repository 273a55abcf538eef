/**
 * A set of 32-byte IDs for millions of members: the IDs packed in one growing Uint8Array (32 bytes
 * each) and an open-addressing table of member numbers (4 bytes a slot, kept at most 70% full)
 * keyed by the ID's first four bytes — IDs are SHA-256, so those are uniformly distributed. About
 * 40 bytes per member, where a Set of 64-character strings costs several times that.
 */
import { idFromBytes, idTableFind, idTableInsert, idToBytes, type Id } from '../model/index.js';

const MAX_LOAD = 0.7;

export class IdSet {
  private ids = new Uint8Array(0);
  private n = 0;
  private table = new Int32Array(0);

  get size(): number {
    return this.n;
  }

  /** Adds `id`; true when it was not there before. */
  add(id: Id): boolean {
    return this.addBytes(idToBytes(id)) >= 0;
  }

  /**
   * Adds the ID whose 32 bytes are `bytes` (copied). Members are numbered 0, 1, … in the order
   * they were added: returns the new member's number, or -1 - the number it already had.
   */
  addBytes(bytes: Uint8Array): number {
    const known = this.find(bytes);
    if (known >= 0) return -1 - known;
    this.reserve(this.n + 1);
    const i = this.n++;
    this.ids.set(bytes, i * 32);
    this.insert(i);
    return i;
  }

  /** Member number `i`'s ID. */
  at(i: number): Id {
    return idFromBytes(this.ids.subarray(i * 32, i * 32 + 32));
  }

  has(id: Id): boolean {
    return this.find(idToBytes(id)) >= 0;
  }

  *[Symbol.iterator](): Generator<Id> {
    for (let i = 0; i < this.n; i++) yield this.at(i);
  }

  private find(bytes: Uint8Array): number {
    return idTableFind(this.table, this.ids, bytes);
  }

  private insert(i: number): void {
    idTableInsert(this.table, this.ids, i);
  }

  private reserve(count: number): void {
    if (count * 32 > this.ids.length) {
      const grown = new Uint8Array(Math.max(1024, Math.ceil(count * 1.5)) * 32);
      grown.set(this.ids.subarray(0, this.n * 32));
      this.ids = grown;
    }
    if (count > this.table.length * MAX_LOAD) {
      this.table = new Int32Array(Math.max(64, Math.ceil((count * 2) / MAX_LOAD)));
      for (let i = 0; i < this.n; i++) this.insert(i);
    }
  }
}

/** One IdSet per blob type. */
export class BlobSet {
  readonly data = new IdSet();
  readonly tree = new IdSet();

  of(type: 'data' | 'tree'): IdSet {
    return type === 'tree' ? this.tree : this.data;
  }

  get size(): number {
    return this.data.size + this.tree.size;
  }
}
