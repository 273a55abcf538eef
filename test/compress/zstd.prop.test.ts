/**
 * zstd properties: compress/decompress round-trips any data at any sensible level through both
 * decoders; the bounded decoder enforces its limit to the byte; and damaged or hostile input
 * (flipped bits, truncation, appended bytes, random garbage behind a zstd magic, absurd sizes)
 * fails with ERR_CORRUPT, quickly, or — without a checksum to catch it — yields exactly the
 * expected length and never more.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { compress, decompress, decompressBounded } from '../../src/compress/index.js';
import { applyEdits, dataArb as anyData, editArb } from './arbitraries.js';
import { expectBytes } from '../crypto/bytes.js';

const SEED = 20261124;

/** Random, repetitive, or mixed data up to ~200 KiB. */
const dataArb = anyData(200_000, 5000);

function corruptOnly(f: () => Uint8Array): Uint8Array | undefined {
  try {
    return f();
  } catch (e) {
    expect(isCairnError(e, 'ERR_CORRUPT'), String(e)).toBe(true);
    return undefined;
  }
}

describe('zstd round trip', () => {
  it('decompress(compress(x), |x|) and decompressBounded(compress(x), |x|) give x back', () => {
    fc.assert(
      fc.property(dataArb, fc.integer({ min: -3, max: 6 }), (data, level) => {
        const z = compress(data, level);
        expectBytes(decompress(z, data.length), data);
        expectBytes(decompressBounded(z, data.length), data);
        if (data.length > 0) expect(corruptOnly(() => decompressBounded(z, data.length - 1))).toBeUndefined();
        if (data.length > 0) expect(corruptOnly(() => decompress(z, data.length - 1))).toBeUndefined();
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('damaged and hostile input', () => {

  it('a damaged frame gives ERR_CORRUPT or output of exactly the expected length', () => {
    fc.assert(
      fc.property(dataArb, fc.array(editArb, { minLength: 1, maxLength: 3 }), (data, edits) => {
        const z = applyEdits(compress(data), edits);
        const out = corruptOnly(() => decompress(z, data.length));
        if (out !== undefined) expect(out.length).toBe(data.length);
        const bounded = corruptOnly(() => decompressBounded(z, data.length + 10));
        if (bounded !== undefined) expect(bounded.length).toBeLessThanOrEqual(data.length + 10);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('garbage behind a zstd magic, with any claimed size, is refused quickly without big allocations', () => {
    const magic = [0x28, 0xb5, 0x2f, 0xfd];
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER)),
        (tail, withMagic, size) => {
          const data = withMagic ? new Uint8Array([...magic, ...tail]) : tail;
          const t0 = performance.now();
          const out = corruptOnly(() => decompress(data, size));
          if (out !== undefined) expect(out.length).toBe(size);
          const bounded = corruptOnly(() => decompressBounded(data, 1 << 16));
          if (bounded !== undefined) expect(bounded.length).toBeLessThanOrEqual(1 << 16);
          expect(performance.now() - t0).toBeLessThan(200);
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
