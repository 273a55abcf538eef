import { createHash } from 'node:crypto';
import { CairnError } from '../errors.js';
import { fromHex, toHex } from '../util/index.js';

declare const idBrand: unique symbol;

/**
 * A 32-byte identifier as 64 lowercase hex characters: restic's storage IDs (SHA-256 of a file's
 * stored bytes) and blob IDs (SHA-256 of a blob's plaintext).
 */
export type Id = string & { readonly [idBrand]: true };
export type BlobId = Id;
export type TreeId = Id;
export type PackId = Id;
export type SnapshotId = Id;

const ID_RE = /^[0-9a-f]{64}$/;

export function isId(s: string): s is Id {
  return ID_RE.test(s);
}

/** Parses a 64-hex-digit ID (upper case accepted, normalized to lower). */
export function parseId(s: string, what = 'ID'): Id {
  const t = s.toLowerCase();
  if (!ID_RE.test(t)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${what} "${s}" is not 64 hexadecimal digits`, { data: { value: s } });
  }
  return t as Id;
}

export function idFromBytes(b: Uint8Array): Id {
  if (b.length !== 32) throw new CairnError('ERR_INTERNAL', `an ID has 32 bytes, got ${b.length}`);
  return toHex(b) as Id;
}

export function idToBytes(id: Id): Uint8Array {
  return fromHex(id);
}

/** SHA-256 of `data` as an Id. */
export function hashId(...parts: Uint8Array[]): Id {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex') as Id;
}

/** The first 8 hex digits, as restic shows IDs. */
export function shortId(id: Id): string {
  return id.slice(0, 8);
}

/*
 * Open-addressing hash tables of IDs packed back to back in one Uint8Array (32 bytes each): a
 * table slot holds an entry number + 1 (0: empty), probed linearly from the ID's home slot, a
 * multiply-shift range reduction of its first four bytes. IDs are SHA-256, so those are uniformly
 * distributed, and the table size need not be a power of two. The master index and prune's IdSet
 * keep their IDs this way.
 */

function idSlot(ids: Uint8Array, at: number, size: number): number {
  const k = ((ids[at]! << 24) | (ids[at + 1]! << 16) | (ids[at + 2]! << 8) | ids[at + 3]!) >>> 0;
  return Math.floor((k * size) / 4294967296);
}

function idEqualAt(ids: Uint8Array, i: number, bytes: Uint8Array): boolean {
  const o = i * 32;
  for (let j = 0; j < 32; j++) if (ids[o + j] !== bytes[j]) return false;
  return true;
}

/** Puts entry `i` (its ID at ids[32i, 32i + 32)) into `table`, which must have a free slot. */
export function idTableInsert(table: Int32Array, ids: Uint8Array, i: number): void {
  const size = table.length;
  let s = idSlot(ids, i * 32, size);
  while (table[s] !== 0) s = s + 1 === size ? 0 : s + 1;
  table[s] = i + 1;
}

/** The first entry whose ID is `bytes` and that `accept` takes, or -1. */
export function idTableFind(table: Int32Array, ids: Uint8Array, bytes: Uint8Array, accept?: (i: number) => boolean): number {
  const size = table.length;
  if (size === 0) return -1;
  for (let s = idSlot(bytes, 0, size); ; s = s + 1 === size ? 0 : s + 1) {
    const v = table[s]!;
    if (v === 0) return -1;
    if (idEqualAt(ids, v - 1, bytes) && (accept === undefined || accept(v - 1))) return v - 1;
  }
}
