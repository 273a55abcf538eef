/**
 * restic's content-defined chunker: a Rabin fingerprint over a sliding 64-byte window, modulo the
 * repository's random irreducible polynomial P of degree 53. It must cut exactly where restic
 * cuts, or blobs do not deduplicate against restic's.
 *
 * Per chunk (restic's semantics):
 * - State is reset: the window is zeroed, one byte 0x01 is slid in (digest = 1, position 1).
 * - The first `minSize − 64` bytes are counted but not hashed.
 * - Each following byte b slides the oldest window byte o out and b in:
 *   `digest ^= outT[o]; digest = ((digest << 8) | b) ^ modT[digest >> 45]`.
 * - After byte number `count` (1-based within the chunk) the chunk ends if `count >= minSize` and
 *   (`digest & splitMask == 0` or `count >= maxSize`). End of input ends the last chunk; empty
 *   input has no chunk.
 *
 * Tables: `outT[b] = b · x^(8·63) mod P` (b followed by 63 zero bytes) removes byte b leaving the
 * window; `modT[t] = (t · x^53 mod P) | (t << 53)` reduces the 8 bits shifted above degree 53 and
 * clears them in one XOR. The digest is always the canonical residue (< 2^53).
 *
 * Three facts make the hot loop simpler than a literal window, with the same results:
 * 1. The window's contents are the previous 64 bytes of the chunk, which are still in `buf`
 *    (min size ≥ 64), so the byte leaving is `buf[i − 64]` and no window array is kept.
 * 2. The 0x01 slid in at reset leaves the window exactly with the 64th hashed byte, and XOR-ing its
 *    out-table entry cancels it: from then on the digest is the fingerprint of the last 64 bytes
 *    alone. No cut is possible before that byte (it brings `count` to `minSize`), so hashing the
 *    first 64 bytes from digest 0 with nothing leaving gives the same digest at every point a cut
 *    can happen.
 * 3. By linearity, removing o before the shift equals XOR-ing `outT[o] · x^8 mod P` after it, so
 *    the out lookup is taken off the digest's dependency chain (see `packedTables`).
 *
 * The digest (< 2^53, but < 2^61 after `<< 8`) is kept in two int32 halves `hi` (bits 32..52) and
 * `lo` (bits 0..31); tables are split the same way. No BigInt, no allocation per byte or chunk.
 */
import { CairnError } from '../../errors.js';
import type { Chunker } from '../types.js';
import { POLYNOMIAL_DEGREE, degree, mod } from './polynomial.js';

/** Bytes in the sliding window. */
export const RABIN_WINDOW_SIZE = 64;
/** restic's smallest chunk: 512 KiB. */
export const RABIN_MIN_SIZE = 512 * 1024;
/** restic's largest chunk: 8 MiB. */
export const RABIN_MAX_SIZE = 8 * 1024 * 1024;
/** restic's split mask width: a cut where the low 20 digest bits are zero, ~1 MiB on average. */
export const RABIN_AVERAGE_BITS = 20;

/** Largest `maxSize` accepted (chunk lengths and workspace offsets stay small integers). */
const MAX_MAX_SIZE = 1 << 30;

export interface RabinChunkerOptions {
  /** Smallest chunk cut (the last chunk of an input may be shorter); ≥ 64. @default 524288 */
  readonly minSize?: number;
  /** Largest chunk cut; ≥ minSize, ≤ 2^30. @default 8388608 */
  readonly maxSize?: number;
  /**
   * Width of the split mask: cut where the low `averageBits` bits of the digest are zero
   * (restic's `WithAverageBits`); 1..32. @default 20
   */
  readonly averageBits?: number;
}

/**
 * restic's two tables for `pol` (degree 53) as bigints: `out[b] = b · x^(8·63) mod P` (the
 * fingerprint of b followed by 63 zero bytes) and `mod[t] = (t · x^53 mod P) | (t << 53)`.
 * Diagnostics and tests; the hot loop uses `packedTables`.
 */
export function rabinTables(pol: bigint): { readonly out: readonly bigint[]; readonly mod: readonly bigint[] } {
  const k = BigInt(POLYNOMIAL_DEGREE);
  const out: bigint[] = [];
  const modT: bigint[] = [];
  for (let b = 0; b < 256; b++) {
    const bb = BigInt(b);
    out.push(mod(bb << BigInt(8 * (RABIN_WINDOW_SIZE - 1)), pol));
    modT.push(mod(bb << k, pol) | (bb << k));
  }
  return { out, mod: modT };
}

const packedCache = new Map<bigint, Int32Array>();

/**
 * The hot loop's table for `pol`, built once per polynomial and cached: for each byte value v,
 * four int32s `[modHi, modLo, outHi, outLo]` at `4v`, where mod is restic's `mod[v]` and out is
 * `v · x^(8·64) mod P` = restic's `out[v] · x^8 mod P`. Sliding out byte o before the shift
 * (`(d ^ out[o]) · x^8 + b mod P`) equals XOR-ing `out[o] · x^8 mod P` after it, by linearity.
 */
function packedTables(pol: bigint): Int32Array {
  const cached = packedCache.get(pol);
  if (cached !== undefined) return cached;
  const k = BigInt(POLYNOMIAL_DEGREE);
  const shift = BigInt(8 * RABIN_WINDOW_SIZE);
  const tab = new Int32Array(4 * 256);
  for (let v = 0; v < 256; v++) {
    const vv = BigInt(v);
    const m = mod(vv << k, pol) | (vv << k);
    const o = mod(vv << shift, pol);
    tab[4 * v] = Number(m >> 32n) | 0;
    tab[4 * v + 1] = Number(m & 0xffffffffn) | 0;
    tab[4 * v + 2] = Number(o >> 32n) | 0;
    tab[4 * v + 3] = Number(o & 0xffffffffn) | 0;
  }
  packedCache.set(pol, tab);
  return tab;
}

function params(message: string, data: Record<string, unknown>): CairnError {
  return new CairnError('ERR_CHUNKER_PARAMS', message, { data });
}

/**
 * Length of the chunk at `buf[start]` given `avail` (> 0) bytes, of which at least `maxSize` unless
 * input ends there. A module-level function taking everything as arguments, so every chunker
 * instance shares one optimized version of the hot loop. Its constants are literals (measurably
 * faster than module constants): `64` is the window size, and `(hi >>> 11) & 0x3fc` takes the
 * 8 bits above degree 53 (digest bits 45..52 = hi bits 13..20) as the table offset `4 · t`.
 */
function scan(
  buf: Uint8Array,
  start: number,
  avail: number,
  minSize: number,
  maxSize: number,
  mask: number,
  tab: Int32Array,
): number {
  // Too short to reach minSize: the rest of the input is the last chunk.
  if (avail <= minSize) return avail;

  // Hash the 64 bytes ending at minSize from digest 0 (see the file comment).
  let hi = 0;
  let lo = 0;
  let i = start + minSize - 64;
  const warm = start + minSize;
  for (; i < warm; i++) {
    const t = (hi >>> 11) & 0x3fc;
    hi = ((hi << 8) | (lo >>> 24)) ^ tab[t]!;
    lo = ((lo << 8) | buf[i]!) ^ tab[t + 1]!;
  }
  if ((lo & mask) === 0 || minSize >= maxSize) return minSize;

  const limit = start + (avail < maxSize ? avail : maxSize);
  for (; i < limit; i++) {
    const o = buf[i - 64]! << 2;
    const t = (hi >>> 11) & 0x3fc;
    hi = ((hi << 8) | (lo >>> 24)) ^ tab[t]! ^ tab[o + 2]!;
    lo = ((lo << 8) | buf[i]!) ^ tab[t + 1]! ^ tab[o + 3]!;
    if ((lo & mask) === 0) return i + 1 - start;
  }
  // No content-defined cut: maxSize reached, or end of input.
  return limit - start;
}

/**
 * A `Chunker` that cuts exactly where restic's chunker (restic/chunker) cuts for the polynomial
 * `polynomial` (degree 53; see `parsePolynomial` for the config form and the irreducibility check).
 * Throws `ERR_CHUNKER_PARAMS` for a polynomial of another degree or options out of range.
 */
export function createRabinChunker(polynomial: bigint, opts: RabinChunkerOptions = {}): Chunker {
  const minSize = opts.minSize ?? RABIN_MIN_SIZE;
  const maxSize = opts.maxSize ?? RABIN_MAX_SIZE;
  const averageBits = opts.averageBits ?? RABIN_AVERAGE_BITS;
  if (typeof polynomial !== 'bigint' || polynomial < 0n || degree(polynomial) !== POLYNOMIAL_DEGREE) {
    throw params(`rabin chunker polynomial must have degree ${POLYNOMIAL_DEGREE}`, {
      polynomial: typeof polynomial === 'bigint' ? polynomial.toString(16) : String(polynomial),
    });
  }
  if (!Number.isInteger(minSize) || minSize < RABIN_WINDOW_SIZE) {
    throw params(`rabin minSize must be an integer ≥ ${RABIN_WINDOW_SIZE}, got ${minSize}`, { minSize });
  }
  if (!Number.isInteger(maxSize) || maxSize < minSize || maxSize > MAX_MAX_SIZE) {
    throw params(`rabin maxSize must be an integer in [minSize, ${MAX_MAX_SIZE}], got ${maxSize}`, {
      minSize,
      maxSize,
    });
  }
  if (!Number.isInteger(averageBits) || averageBits < 1 || averageBits > 32) {
    throw params(`rabin averageBits must be an integer in [1, 32], got ${averageBits}`, { averageBits });
  }

  const tab = packedTables(polynomial);
  // Low-bits mask as int32 (−1 for 32 bits); `lo & mask` is 0 exactly when those bits are zero.
  const mask = averageBits === 32 ? -1 : (1 << averageBits) - 1;
  let space = new Uint8Array(0);

  const cut = (buf: Uint8Array, start: number, end: number, eof: boolean): number => {
    const avail = end - start;
    if (!(avail > 0) || (!eof && avail < maxSize) || end > buf.length || start < 0) {
      throw new CairnError(
        'ERR_INTERNAL',
        `rabin cut called with start ${start}, end ${end}, eof ${eof} (lookahead ${maxSize}, buffer ${buf.length})`,
        { data: { start, end, eof, lookahead: maxSize } },
      );
    }
    return scan(buf, start, avail, minSize, maxSize, mask, tab);
  };

  const workspace = (size: number): Uint8Array => {
    if (space.length < size) space = new Uint8Array(size);
    return space;
  };

  return {
    algorithm: 'rabin',
    minSize,
    maxSize,
    lookahead: maxSize,
    cut,
    workspace,
  };
}
