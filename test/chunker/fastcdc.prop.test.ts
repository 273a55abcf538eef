/**
 * FastCDC properties (seeded fast-check): both engines equal the BigInt transcription of
 * fastcdc-rs on random and all-zero data with any accepted sizes (odd ones included), sizes stay
 * within bounds, re-splitting input never moves a boundary, a one-byte edit disturbs only nearby
 * chunks, and keyed tables cut differently from the public one.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  chunkStream, createFastCdc, keyedGearTable, publicGearTable, seededGearTable,
  type FastCdcEngine, type GearTable,
} from '../../src/chunker/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { oracleChunks } from './fastcdc-oracle.js';

const SEED = 20261124;

interface Sizes { min: number; avg: number; max: number; level: number }

/** Any sizes fastcdc-rs accepts (with avg ≤ max), biased to small values so tests stay fast. */
const sizesArb: fc.Arbitrary<Sizes> = fc
  .record({
    min: fc.integer({ min: 64, max: 4096 }),
    avg: fc.integer({ min: 256, max: 16384 }),
    max: fc.integer({ min: 1024, max: 65536 }),
    level: fc.integer({ min: 0, max: 3 }),
  })
  .filter((s) => s.avg <= s.max);

async function boundaries(data: Uint8Array, s: Sizes, engine: FastCdcEngine, gear: GearTable, pieces: number[] = [], fillSize?: number, bufferSize?: number): Promise<Array<[number, number, bigint]>> {
  const chunker = createFastCdc({ min: s.min, avg: s.avg, max: s.max, normalization: s.level, gear, engine });
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const cut of [...pieces].sort((a, b) => a - b)) {
    parts.push(data.subarray(prev, cut));
    prev = cut;
  }
  parts.push(data.subarray(prev));
  const out: Array<[number, number, bigint]> = [];
  const sizes = { ...(fillSize === undefined ? {} : { fillSize }), ...(bufferSize === undefined ? {} : { bufferSize }) };
  for await (const c of chunkStream(chunker, parts, { withHash: true, ...sizes })) out.push([c.offset, c.length, c.hash!]);
  return out;
}

function oracle(data: Uint8Array, s: Sizes, gear: GearTable): Array<[number, number, bigint]> {
  return oracleChunks(data, s.min, s.avg, s.max, s.level, gear.values).map((c) => [c.offset, c.length, c.hash]);
}

describe('FastCDC engines equal the BigInt oracle', () => {
  it('on random data, any accepted sizes, public/seeded/keyed tables', async () => {
    await fc.assert(
      fc.asyncProperty(
        sizesArb,
        fc.integer({ min: 0, max: 150_000 }),
        fc.integer(),
        fc.oneof(fc.constant('public' as const), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ minLength: 16, maxLength: 32 })),
        async (s, len, seed, table) => {
          const data = pseudoRandomBytes(len, seed);
          const gear = table === 'public' ? publicGearTable() : typeof table === 'bigint' ? seededGearTable(table) : keyedGearTable(table);
          const want = oracle(data, s, gear);
          expect(await boundaries(data, s, 'wasm', gear)).toEqual(want);
          expect(await boundaries(data, s, 'js', gear)).toEqual(want);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('on all-zero data and lengths around min, avg and max', async () => {
    const cases: Sizes[] = [
      { min: 64, avg: 256, max: 1024, level: 1 },
      { min: 4095, avg: 16383, max: 65535, level: 2 },
      { min: 8191, avg: 8193, max: 9001, level: 3 },
      { min: 2048, avg: 8192, max: 65536, level: 0 },
    ];
    for (const s of cases) {
      const lengths = [0, 1, s.min - 1, s.min, s.min + 1, s.min + 2, s.avg - 1, s.avg, s.avg + 1, s.max - 1, s.max, s.max + 1, 2 * s.max - 1, 2 * s.max, 2 * s.max + 1, 3 * s.max + 7];
      for (const len of lengths) {
        for (const data of [new Uint8Array(len), pseudoRandomBytes(len, len + s.min)]) {
          const want = oracle(data, s, publicGearTable());
          expect(await boundaries(data, s, 'wasm', publicGearTable())).toEqual(want);
          expect(await boundaries(data, s, 'js', publicGearTable())).toEqual(want);
        }
      }
    }
  });

  it('wasm and TS engines agree bit-exactly on megabytes with the default sizes', async () => {
    const s = { min: 512 * 1024, avg: 1 << 20, max: 8 << 20, level: 2 };
    for (const seed of [1, 2]) {
      const data = pseudoRandomBytes(24 << 20, seed);
      const a = await boundaries(data, s, 'wasm', publicGearTable());
      expect(a.length).toBeGreaterThan(10);
      expect(await boundaries(data, s, 'js', publicGearTable())).toEqual(a);
    }
  });
});

describe('FastCDC chunk properties', () => {
  it('chunks tile the input; every chunk but the last is within [2⌊min/2⌋, max]', async () => {
    await fc.assert(
      fc.asyncProperty(sizesArb.filter((s) => s.min <= s.max), fc.integer({ min: 0, max: 200_000 }), fc.integer(), async (s, len, seed) => {
        const data = pseudoRandomBytes(len, seed);
        const chunks = await boundaries(data, s, 'wasm', publicGearTable());
        let next = 0;
        chunks.forEach(([offset, length], i) => {
          expect(offset).toBe(next);
          next += length;
          expect(length).toBeGreaterThan(0);
          expect(length).toBeLessThanOrEqual(s.max);
          // fastcdc-rs v2020 starts hashing at 2⌊min/2⌋: an odd min allows a cut one byte early.
          if (i < chunks.length - 1) expect(length).toBeGreaterThanOrEqual(2 * Math.floor(s.min / 2));
        });
        expect(next).toBe(len);
      }),
      { seed: SEED, numRuns: 80 },
    );
  });

  it('re-splitting the input, or feeding it in small pieces, never moves a boundary', async () => {
    // The last case runs in the smallest workspace (a lookahead plus one fill, as files are
    // chunked): unconsumed input is moved to the front every few fills.
    await fc.assert(
      fc.asyncProperty(
        sizesArb,
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }),
        fc.constantFrom<FastCdcEngine>('wasm', 'js'),
        fc.integer({ min: 1, max: 20_000 }),
        async (s, len, seed, fractions, engine, fillSize) => {
          const data = pseudoRandomBytes(len, seed);
          const whole = oracle(data, s, publicGearTable());
          const cuts = fractions.map((f) => Math.floor(f * len));
          expect(await boundaries(data, s, engine, publicGearTable(), cuts)).toEqual(whole);
          expect(await boundaries(data, s, engine, publicGearTable(), cuts, fillSize)).toEqual(whole);
          expect(await boundaries(data, s, engine, publicGearTable(), cuts, fillSize, 1)).toEqual(whole);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('a one-byte edit leaves earlier chunks alone and changes at most a few chunks', async () => {
    const s = { min: 2048, avg: 8192, max: 65536, level: 2 };
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 }), async (seed, where, xor) => {
        const data = pseudoRandomBytes(400_000, seed);
        const before = await boundaries(data, s, 'wasm', publicGearTable());
        const pos = Math.floor(where * (data.length - 1));
        const edited = data.slice();
        edited[pos]! ^= xor;
        const after = await boundaries(edited, s, 'wasm', publicGearTable());
        const key = (c: [number, number, bigint]): string => `${c[0]}+${c[1]}`;
        // A cut at p depends only on bytes up to p: every chunk that ends before the edit stays.
        for (const c of before) if (c[0] + c[1] < pos) expect(after.map(key)).toContain(key(c));
        const old = new Set(before.map(key));
        const changed = after.filter((c) => !old.has(key(c))).length;
        expect(changed).toBeLessThanOrEqual(4);
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it('a keyed table cuts differently from the public one, and differently per key', async () => {
    const s = { min: 2048, avg: 8192, max: 65536, level: 2 };
    const data = pseudoRandomBytes(1 << 20, 7);
    const pub = await boundaries(data, s, 'wasm', publicGearTable());
    const k1 = await boundaries(data, s, 'wasm', keyedGearTable(new Uint8Array(32).fill(1)));
    const k1again = await boundaries(data, s, 'wasm', keyedGearTable(new Uint8Array(32).fill(1)));
    const k2 = await boundaries(data, s, 'wasm', keyedGearTable(new Uint8Array(32).fill(2)));
    const offsets = (b: Array<[number, number, bigint]>): number[] => b.map((c) => c[0]);
    expect(k1again).toEqual(k1);
    const shared = (a: number[], b: number[]): number => a.filter((x) => b.includes(x)).length;
    // Random tables share only offset 0 and chance coincidences.
    expect(shared(offsets(pub), offsets(k1))).toBeLessThan(pub.length / 4);
    expect(shared(offsets(k1), offsets(k2))).toBeLessThan(k1.length / 4);
  });
});
