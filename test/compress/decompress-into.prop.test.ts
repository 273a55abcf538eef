/**
 * decompressInto against decompress: for any frame, valid or damaged (flipped bytes, truncation,
 * appended bytes, garbage), and any expected size (right, off by a little, zero, absurd), writing
 * into a reused buffer of any size gives the same bytes — as a view of the buffer when it holds
 * the expected size — or exactly the same error (code, message, data). Also past the 16 MiB where
 * decompress stops allocating up front.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compress, decompress, decompressInto } from '../../src/compress/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { outcome, type Outcome } from '../helpers/outcome.js';
import { applyEdits, dataArb as anyData, editArb } from './arbitraries.js';
import { expectBytes } from '../crypto/bytes.js';

const SEED = 20261124;

const dataArb = anyData(100_000, 3000);


/** decompressInto into `out` gives decompress's outcome; a success is a view of `out` when it fits. */
function expectSame(z: Uint8Array, out: Uint8Array, size: number, what?: string): Outcome {
  const expected = outcome(() => decompress(z, size, what));
  const got = outcome(() => decompressInto(z, out, size, what));
  if ('ok' in expected) {
    if (!('ok' in got)) expect.fail(`decompressInto failed where decompress did not: ${got.message}`);
    expectBytes(got.ok, expected.ok, 'output');
    expect(got.ok.length).toBe(size);
    if (out.length >= size) {
      expect(got.ok.buffer).toBe(out.buffer);
      expect(got.ok.byteOffset).toBe(out.byteOffset);
    } else {
      expect(got.ok.buffer).not.toBe(out.buffer);
    }
  } else {
    expect(got).toEqual(expected);
  }
  return expected;
}

describe('decompressInto', () => {
  it('round-trips into reused buffers larger, exact and shorter than needed, like decompress', () => {
    const big = new Uint8Array(120_000);
    fc.assert(
      fc.property(dataArb, fc.integer({ min: -3, max: 6 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (data, level, cut, fill) => {
        const z = compress(data, level);
        big.fill(fill);
        const got = decompressInto(z, big.subarray(7), data.length, 'blob');
        expectBytes(got, data, 'output');
        expect(got.buffer).toBe(big.buffer);
        expect(big.subarray(7 + data.length).every((b) => b === fill)).toBe(true);
        expect(big.subarray(0, 7).every((b) => b === fill)).toBe(true);
        expectSame(z, new Uint8Array(data.length), data.length);
        expectSame(z, new Uint8Array(data.length === 0 ? 0 : cut % data.length), data.length);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('a damaged frame or a wrong expected size fails exactly as decompress fails', () => {
    const sizeArb = fc.oneof(
      fc.constant(0),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, -1, 1.5, Number.NaN),
    );
    const out = new Uint8Array(120_000);
    let failures = 0;
    fc.assert(
      fc.property(dataArb, fc.array(editArb, { maxLength: 3 }), sizeArb, fc.boolean(), (data, edits, sizeArg, relative) => {
        const z = applyEdits(compress(data), edits);
        const size = relative && Number.isInteger(sizeArg) && Math.abs(sizeArg) < 10 ? data.length + sizeArg : sizeArg;
        const r1 = expectSame(z, out, size, 'data blob 99');
        expectSame(z, new Uint8Array(3), size);
        if (!('ok' in r1)) failures++;
      }),
      { seed: SEED, numRuns: 600 },
    );
    expect(failures).toBeGreaterThan(300);
  });

  it('garbage behind a zstd magic, with any claimed size, fails as decompress does', () => {
    const magic = [0x28, 0xb5, 0x2f, 0xfd];
    const out = new Uint8Array(8192);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 40)),
        (tail, withMagic, size) => {
          expectSame(withMagic ? new Uint8Array([...magic, ...tail]) : tail, out, size);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('beyond 16 MiB (the growing decoder): the same bytes into a given buffer, the same errors', () => {
    const n = (17 << 20) + 12345;
    const data = new Uint8Array(n);
    for (let i = 0; i + 64 <= n; i += 4096) data.set(pseudoRandomBytes(64, i), i);
    const z = compress(data);
    const out = new Uint8Array(n + (1 << 20)).fill(0x5a);
    expectSame(z, out, n);
    expect(out.subarray(n).every((b) => b === 0x5a)).toBe(true);
    expectSame(z, new Uint8Array(10), n);
    for (const size of [n - 1, n + 1, n - 100_000, n + (2 << 20)]) {
      const r = expectSame(z, out, size, 'big blob');
      expect(r).toMatchObject({ code: 'ERR_CORRUPT' });
    }
    // Two frames (no single-frame size check): too long and too short are caught while streaming.
    const half = n >>> 1;
    const two = new Uint8Array([...compress(data.subarray(0, half)), ...compress(data.subarray(half))]);
    expectSame(two, out, n);
    for (const size of [n - 1, n + 1, (17 << 20)]) {
      expect(expectSame(two, out, size, 'two frames')).toMatchObject({ code: 'ERR_CORRUPT' });
    }
    expect(expectSame(two.subarray(0, two.length - 5), out, n)).toMatchObject({ code: 'ERR_CORRUPT' });
  });
});
