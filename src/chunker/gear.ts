/**
 * Gear tables for FastCDC: 256 random 64-bit values, one per byte value.
 *
 * - public: fastcdc-rs's table, GEAR[i] = the first 8 bytes (big-endian) of MD5 of 64 bytes all
 *   equal to i. Used by tests (vectors) and by `cairn chunk`.
 * - seeded: the public table XORed with a 64-bit seed (fastcdc-rs `with_level_and_seed`).
 * - keyed: derived from a repository secret with a PRF (HMAC-SHA256(key, label || i), first 8
 *   bytes big-endian), so chunk sizes seen in storage don't fingerprint known content without the
 *   key. Zero cost in the hot loop.
 */
import { createHash, createHmac } from 'node:crypto';

export type GearKind = 'public' | 'seeded' | 'keyed';

export interface GearTable {
  readonly kind: GearKind;
  /** GEAR[i] for byte value i. */
  readonly values: BigUint64Array;
}

const MASK64 = (1n << 64n) - 1n;
/** Domain-separation label of the keyed derivation; changing it changes every keyed boundary. */
export const KEYED_GEAR_LABEL = 'cairn fastcdc gear v1';

let publicTable: GearTable | undefined;

function readU64BE(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

export function publicGearTable(): GearTable {
  if (publicTable === undefined) {
    const values = new BigUint64Array(256);
    for (let i = 0; i < 256; i++) {
      values[i] = readU64BE(createHash('md5').update(new Uint8Array(64).fill(i)).digest());
    }
    publicTable = { kind: 'public', values };
  }
  return publicTable;
}

/** fastcdc-rs's seeded table: GEAR[i] XOR seed (seed taken mod 2^64). */
export function seededGearTable(seed: bigint): GearTable {
  const s = BigInt.asUintN(64, seed);
  const base = publicGearTable().values;
  const values = new BigUint64Array(256);
  for (let i = 0; i < 256; i++) values[i] = (base[i]! ^ s) & MASK64;
  return { kind: 'seeded', values };
}

/** A secret table from `key` (≥ 16 bytes of secret material). */
export function keyedGearTable(key: Uint8Array): GearTable {
  if (key.length < 16) throw new RangeError('keyed gear table needs at least 16 bytes of key');
  const values = new BigUint64Array(256);
  for (let i = 0; i < 256; i++) {
    const mac = createHmac('sha256', key).update(KEYED_GEAR_LABEL).update(new Uint8Array([i])).digest();
    values[i] = readU64BE(mac);
  }
  return { kind: 'keyed', values };
}
