/**
 * FastCDC parameters with fastcdc-rs's exact semantics (module v2020): the size limits it accepts,
 * `bits = round(log2(avg))`, `mask_s = MASKS[bits + level]`, `mask_l = MASKS[bits - level]`, and the
 * scan plan of one cut (where hashing starts, where the masks switch, where it stops).
 */
import { CairnError } from '../errors.js';
import type { Chunker } from './types.js';

/** fastcdc-rs MASKS[i]: a mask with i one-bits, all at or below bit 47 (index 0-4 unused). */
export const MASKS: readonly bigint[] = [
  0n, 0n, 0n, 0n, 0n,
  0x0000000001804110n, 0x0000000001803110n, 0x0000000018035100n, 0x0000001800035300n,
  0x0000019000353000n, 0x0000590003530000n, 0x0000d90003530000n, 0x0000d90103530000n,
  0x0000d90303530000n, 0x0000d90313530000n, 0x0000d90f03530000n, 0x0000d90303537000n,
  0x0000d90703537000n, 0x0000d90707537000n, 0x0000d91707537000n, 0x0000d91747537000n,
  0x0000d91767537000n, 0x0000d93767537000n, 0x0000d93777537000n, 0x0000d93777577000n,
  0x0000db3777577000n,
];

/** The limits fastcdc-rs asserts. */
export const FASTCDC_LIMITS = {
  min: [64, 1_048_576],
  avg: [256, 4_194_304],
  max: [1024, 16_777_216],
} as const;

export interface FastCdcOptions {
  /** @default 524288 (512 KiB) */
  readonly min?: number;
  /** @default 1048576 (1 MiB) */
  readonly avg?: number;
  /** @default 8388608 (8 MiB) */
  readonly max?: number;
  /** Normalization level 0-3. @default 2 */
  readonly normalization?: number;
}

/** The repository default: min 512 KiB, avg 1 MiB, max 8 MiB, normalization 2. */
export const FASTCDC_DEFAULTS = { min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024, normalization: 2 } as const;

export interface FastCdcParams {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  readonly normalization: number;
  readonly bits: number;
  readonly maskS: bigint;
  readonly maskL: bigint;
}

/** round(log2(v)) as fastcdc-rs computes it (f64 log2, rounded half away from zero). */
export function logarithm2(v: number): number {
  return v <= 0 ? 0 : Math.round(Math.log2(v));
}

export function fastCdcParams(options: FastCdcOptions = {}): FastCdcParams {
  const min = options.min ?? FASTCDC_DEFAULTS.min;
  const avg = options.avg ?? FASTCDC_DEFAULTS.avg;
  const max = options.max ?? FASTCDC_DEFAULTS.max;
  const normalization = options.normalization ?? FASTCDC_DEFAULTS.normalization;
  const check = (name: 'min' | 'avg' | 'max', v: number): void => {
    const [lo, hi] = FASTCDC_LIMITS[name];
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new CairnError('ERR_CHUNKER_PARAMS', `fastcdc ${name} size ${v} is outside ${lo}..${hi} bytes; choose a ${name} size in that range`, { data: { [name]: v } });
    }
  };
  check('min', min);
  check('avg', avg);
  check('max', max);
  if (avg > max) {
    // fastcdc-rs reads past max (and can panic) when avg > max; refuse rather than guess.
    throw new CairnError('ERR_CHUNKER_PARAMS', `fastcdc avg size ${avg} is larger than max size ${max}; choose avg <= max`, { data: { avg, max } });
  }
  if (!Number.isInteger(normalization) || normalization < 0 || normalization > 3) {
    throw new CairnError('ERR_CHUNKER_PARAMS', `fastcdc normalization level ${normalization} is not one of 0, 1, 2, 3`, { data: { normalization } });
  }
  const bits = logarithm2(avg);
  return { min, avg, max, normalization, bits, maskS: MASKS[bits + normalization]!, maskL: MASKS[bits - normalization]! };
}

/**
 * Bytes a cut must see before it can be decided without knowing where input ends: the cut depends
 * on whether the rest is longer than min (tail rule) and than max (clamp).
 */
export function lookaheadOf(p: FastCdcParams): number {
  return Math.max(p.min, p.max) + 1;
}

/**
 * The scan of one cut, as absolute positions: the chunk at `start` with `len` bytes to the end of
 * input (or more than `max` when input continues). Positions `a0 ≤ p < c` are tested with mask_s,
 * `max(a0, c) ≤ p < e` with mask_l; the first match at p gives a chunk of `p - start` bytes (the
 * matching byte starts the next chunk); no match gives `rem`. `tail` means the chunk is the whole
 * rest (len ≤ min). The pair-wise loop of v2020 is why a0, c and e are rounded down to even
 * distances from `start`.
 */
export interface CutPlan {
  readonly tail: boolean;
  readonly a0: number;
  readonly c: number;
  readonly e: number;
  readonly rem: number;
}

export function cutPlan(p: FastCdcParams, start: number, len: number): CutPlan {
  if (len <= p.min) return { tail: true, a0: start, c: start, e: start, rem: len };
  let rem = len;
  let center = p.avg;
  if (rem > p.max) rem = p.max;
  else if (rem < center) center = rem;
  return {
    tail: false,
    a0: start + 2 * Math.floor(p.min / 2),
    c: start + 2 * Math.floor(center / 2),
    e: start + 2 * Math.floor(rem / 2),
    rem,
  };
}

/**
 * A FastCDC hot loop: tests positions [from, to) with mask_s (`small`) or mask_l, continuing the
 * gear hash from the previous call (or from 0 when `reset`), and returns the first position whose
 * hash matches, or -1. Positions are the engine's own (buffer indexes or wasm addresses).
 */
export type GearScan = (from: number, to: number, small: boolean, reset: boolean) => number;

/** Where a cut that ran out of bytes stopped: next position to test, from the chunk start; -1 if none tested. */
export interface CutProgress {
  next: number;
}

/**
 * One FastCDC cut that can pause: the chunk starts at `start`, bytes are present up to `avail`,
 * and `len` is the number of bytes from start to the end of input, or undefined while unknown
 * (input goes on past avail). Returns the chunk length, or -1 when more bytes are needed; then
 * call again for the same chunk with more bytes (and the same `progress`): the scan resumes where
 * it stopped. The engine's hash state must survive in between (no other scan on it meanwhile).
 *
 * Without knowing where input ends, positions before avail - 1 are still decided exactly as with
 * any length (the mask phase switch is at avg, and no length bound applies that early); the last
 * present byte waits, since an input ending right after it would change its phase.
 */
export function fastCdcCut(p: FastCdcParams, scan: GearScan, start: number, avail: number, len: number | undefined, progress: CutProgress): number {
  if (len === undefined && avail - start >= lookaheadOf(p)) len = avail - start; // > max(min, max): same plan as any longer input
  let a0: number;
  let c: number;
  let e: number;
  let rem = -1;
  if (len !== undefined) {
    const plan = cutPlan(p, start, len);
    if (plan.tail) return done(plan.rem);
    ({ a0, c, e, rem } = plan);
  } else {
    if (p.min > p.max) return -1; // nothing to scan before the tail rule is settled
    a0 = start + 2 * Math.floor(p.min / 2);
    c = start + 2 * Math.floor(p.avg / 2);
    e = avail - 1;
  }
  let pos = progress.next >= 0 ? start + progress.next : a0;
  let reset = progress.next < 0;
  const stop = Math.min(e, avail);
  if (pos < c && pos < stop) {
    const to = Math.min(c, stop);
    const r = scan(pos, to, true, reset);
    if (r >= 0) return done(r - start);
    reset = false;
    pos = to;
  }
  if (pos >= c && pos < stop) {
    const r = scan(pos, stop, false, reset);
    if (r >= 0) return done(r - start);
    reset = false;
    pos = stop;
  }
  if (rem >= 0 && pos >= e) return done(rem);
  if (!reset) progress.next = pos - start;
  return -1;

  function done(length: number): number {
    progress.next = -1;
    return length;
  }
}

/**
 * The 64-bit hash fastcdc-rs v2020 returns with the chunk `[start, start+length)` found in `buf`
 * (`len` bytes to end of input). It is the gear hash reset at a0, taken at the matching byte (doubled
 * when that byte is at an even distance from start: the two-byte loop's GEAR_LS step), or at the last
 * scanned byte when nothing matched, or 0 for a tail. Computed from at most 64 bytes (bit 63 depends
 * on no more), with BigInt: this runs once per chunk, never per byte.
 */
export function gearHashOf(p: FastCdcParams, gear: BigUint64Array, buf: Uint8Array, start: number, length: number, len: number): bigint {
  const plan = cutPlan(p, start, len);
  if (plan.tail) return 0n;
  const matched = length < plan.rem;
  const at = matched ? start + length : plan.e - 1;
  if (at < plan.a0) return 0n;
  let h = 0n;
  for (let i = Math.max(plan.a0, at - 63); i <= at; i++) h = BigInt.asUintN(64, (h << 1n) + gear[buf[i]!]!);
  return matched && length % 2 === 0 ? BigInt.asUintN(64, h << 1n) : h;
}

/**
 * A FastCDC `Chunker` around an engine's scan. `attach(buf)` checks that the engine can scan
 * `buf` and returns the engine position of `buf[0]` (an index or a wasm address).
 */
export function fastCdcChunker(params: FastCdcParams, gear: BigUint64Array, scan: GearScan, attach: (buf: Uint8Array) => number, workspace: (size: number) => Uint8Array): Chunker {
  const progress: CutProgress = { next: -1 };
  return {
    algorithm: 'fastcdc',
    minSize: params.min,
    maxSize: params.max,
    lookahead: lookaheadOf(params),
    partial: true,
    cut(buf, start, end, eof) {
      const base = attach(buf);
      return fastCdcCut(params, scan, base + start, base + end, eof ? end - start : undefined, progress);
    },
    workspace,
    gearHash(buf, start, length, end) {
      return gearHashOf(params, gear, buf, start, length, end - start);
    },
  };
}
