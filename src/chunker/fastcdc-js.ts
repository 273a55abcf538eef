/**
 * FastCDC in plain TypeScript, bit-exact with fastcdc-rs v2020.
 *
 * The 64-bit gear hash `h = (h << 1) + GEAR[b]` is kept as two 24-bit lanes (bits 0-23 and 24-47),
 * which stay V8 small integers. That is exact because every FastCDC mask lies within bits 0-47 and
 * bit k of h depends only on bits ≤ k of the previous state. The full 64-bit hash, when asked for,
 * is recomputed once per chunk (fastcdc-params `gearHashOf`).
 */
import type { Chunker } from './types.js';
import type { GearTable } from './gear.js';
import { fastCdcChunker, type FastCdcParams, type GearScan } from './fastcdc-params.js';

const LANE = 0xffffff;

export function createJsFastCdc(params: FastCdcParams, gear: GearTable): Chunker {
  const gl = new Int32Array(256);
  const gu = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    const v = gear.values[i]!;
    gl[i] = Number(v & 0xffffffn);
    gu[i] = Number((v >> 24n) & 0xffffffn);
  }
  const msL = Number(params.maskS & 0xffffffn);
  const msU = Number((params.maskS >> 24n) & 0xffffffn);
  const mlL = Number(params.maskL & 0xffffffn);
  const mlU = Number((params.maskL >> 24n) & 0xffffffn);
  let space = new Uint8Array(0);
  // The hash lanes, kept between calls so that a paused cut resumes.
  let lo = 0;
  let hi = 0;
  let buf: Uint8Array = space;
  const scan: GearScan = (from, to, small, reset) => {
    if (reset) lo = hi = 0;
    const mL = small ? msL : mlL;
    const mU = small ? msU : mlU;
    let l = lo;
    let h = hi;
    for (let p = from; p < to; p++) {
      const b = buf[p]!;
      const t = (l << 1) + gl[b]!;
      h = ((h << 1) + gu[b]! + (t >>> 24)) & LANE;
      l = t & LANE;
      if (((l & mL) | (h & mU)) === 0) return p;
    }
    lo = l;
    hi = h;
    return -1;
  };

  return fastCdcChunker(params, gear.values, scan, (b) => {
    buf = b;
    return 0;
  }, (size) => {
    if (space.length < size) space = new Uint8Array(size);
    return space;
  });
}
