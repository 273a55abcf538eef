/**
 * A literal BigInt transcription of fastcdc-rs v2020's `cut` (two bytes per step, GEAR_LS for the
 * first byte of each pair, hash returned as the loop leaves it). Slow and obviously faithful: the
 * oracle the fast engines are checked against. Test-only.
 */
import { MASKS } from '../../src/chunker/fastcdc-params.js';

export interface OracleChunk {
  offset: number;
  length: number;
  hash: bigint;
}

const M64 = (1n << 64n) - 1n;

export function oracleChunks(
  data: Uint8Array,
  min: number,
  avg: number,
  max: number,
  level: number,
  gear: BigUint64Array,
): OracleChunk[] {
  const bits = Math.round(Math.log2(avg));
  const maskS = MASKS[bits + level]!;
  const maskL = MASKS[bits - level]!;
  const maskSls = (maskS << 1n) & M64;
  const maskLls = (maskL << 1n) & M64;
  const gearLs = gear.map((g) => (g << 1n) & M64);
  const out: OracleChunk[] = [];
  let offset = 0;
  while (offset < data.length) {
    const src = data.subarray(offset);
    const [hash, length] = cut(src);
    out.push({ offset, length, hash });
    offset += length;
  }
  return out;

  function cut(source: Uint8Array): [bigint, number] {
    let remaining = source.length;
    if (remaining <= min) return [0n, remaining];
    let center = avg;
    if (remaining > max) remaining = max;
    else if (remaining < center) center = remaining;
    let index = Math.floor(min / 2);
    let hash = 0n;
    while (index < Math.floor(center / 2)) {
      const a = index * 2;
      hash = ((hash << 2n) + gearLs[source[a]!]!) & M64;
      if ((hash & maskSls) === 0n) return [hash, a];
      hash = (hash + gear[source[a + 1]!]!) & M64;
      if ((hash & maskS) === 0n) return [hash, a + 1];
      index++;
    }
    while (index < Math.floor(remaining / 2)) {
      const a = index * 2;
      hash = ((hash << 2n) + gearLs[source[a]!]!) & M64;
      if ((hash & maskLls) === 0n) return [hash, a];
      hash = (hash + gear[source[a + 1]!]!) & M64;
      if ((hash & maskL) === 0n) return [hash, a + 1];
      index++;
    }
    return [hash, remaining];
  }
}
