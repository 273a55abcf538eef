/**
 * Hostile zstd frames (spec/hostile-input.md). Both decoders meet arbitrary bytes, mutated frames
 * and hand-made frames that lie — a header declaring 4 GiB or 2^40 bytes of content, an expected
 * size of 4 GiB with a few hundred KiB of garbage behind it, a 32 KiB RLE bomb that expands to
 * 1 GiB — with ERR_CORRUPT (or exactly the expected output), quickly, without allocating anything
 * near the claimed size. The same frames inside well-sealed index/snapshot/lock files
 * (openUnpacked) fail the same way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compress, decompress, decompressBounded, MAX_DECOMPRESSED_SIZE } from '../../src/compress/index.js';
import { newMasterKey } from '../../src/crypto/index.js';
import { hashId } from '../../src/model/index.js';
import { MAX_UNPACKED_SIZE, openUnpacked, sealUnpacked } from '../../src/repository/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { bytesArb, byteEditsArb, editBytes, expectRefusal, SEED, typedOnly } from './fuzz-helpers.js';

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** A frame header declaring `size` bytes of content (8-byte field, single segment). */
function headerClaiming(size: bigint): Uint8Array {
  const h = new Uint8Array(13);
  h.set(MAGIC);
  h[4] = 0xe0;
  new DataView(h.buffer).setBigUint64(5, size, true);
  return h;
}

/** A frame header with no content size and a window of 2^`windowLog` bytes. */
function headerWithWindow(windowLog: number): Uint8Array {
  return new Uint8Array([...MAGIC, 0x00, (windowLog - 10) << 3]);
}

/** `count` RLE blocks of 128 KiB each (4 bytes apiece): `count` × 128 KiB of output. */
function rleBlocks(count: number, last = true): Uint8Array {
  const out = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) {
    const v = (131072 << 3) | (1 << 1) | (last && i === count - 1 ? 1 : 0);
    out.set([v & 255, (v >> 8) & 255, (v >> 16) & 255, 0x61], i * 4);
  }
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Both decoders: ERR_CORRUPT or exactly what the caller asked for. */
function bothDecoders(data: Uint8Array, expected: number, limit: number): void {
  const out = typedOnly(() => decompress(data, expected, 'blob b'), ['ERR_CORRUPT'], { input: data, what: 'blob b' });
  if (out !== undefined) expect(out.length).toBe(expected);
  const bounded = typedOnly(() => decompressBounded(data, limit, 'index/i'), ['ERR_CORRUPT'], { input: data, what: 'index/i' });
  if (bounded !== undefined) expect(bounded.length).toBeLessThanOrEqual(limit);
}

describe('zstd decoders', () => {
  it('arbitrary bytes, with and without a zstd magic, any expected size: ERR_CORRUPT or the exact length', () => {
    fc.assert(
      fc.property(bytesArb, fc.boolean(), fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(2 ** 32, 2 ** 32 - 1, 2 ** 31)), (tail, magic, size) => {
        bothDecoders(magic ? concat(new Uint8Array(MAGIC), tail) : tail, size, 1 << 20);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('mutated frames (flipped, inserted, deleted bytes; hostile u32 fields in the header): ERR_CORRUPT or the exact length', () => {
    const dataArb = fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 100_000 }).map((n) => new Uint8Array(n).fill(7)));
    fc.assert(
      fc.property(dataArb, byteEditsArb, (data, edits) => bothDecoders(editBytes(compress(data), edits), data.length, data.length + 100)),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('a frame declaring 4 GiB, 2^40 or 2^64-2 bytes is refused at once by both decoders, allocating nothing near it', () => {
    for (const claim of [2n ** 32n, 2n ** 32n - 16n, 2n ** 40n, 2n ** 64n - 2n]) {
      for (const body of [new Uint8Array(3), rleBlocks(4), pseudoRandomBytes(300 << 10, 1)]) {
        const frame = concat(headerClaiming(claim), body);
        for (const f of [() => decompress(frame, Number(claim > 2n ** 53n ? 2n ** 32n : claim)), () => decompress(frame, 2 ** 32 - 16), () => decompressBounded(frame, MAX_UNPACKED_SIZE)]) {
          const { ms, bytes } = expectRefusal(f, 'ERR_CORRUPT');
          expect(ms).toBeLessThan(200);
          expect(bytes).toBeLessThan(32 << 20);
        }
      }
    }
  });

  it('a 16-byte frame declaring 1 GiB (within the unpacked-file limit) allocates nothing of that size', () => {
    const frame = concat(headerClaiming(1n << 30n), rleBlocks(1));
    const { ms, bytes, error } = expectRefusal(() => decompressBounded(frame, MAX_UNPACKED_SIZE, 'index/i'), 'ERR_CORRUPT');
    expect(error.message).toContain('index/i');
    expect(ms).toBeLessThan(200);
    expect(bytes).toBeLessThan(32 << 20);
  });

  it('an expected size of 4 GiB (from a pack header or index) with 300 KiB of garbage allocates at most 16 MiB', () => {
    for (const header of [headerWithWindow(27), headerWithWindow(17), headerClaiming(2n ** 32n - 16n)]) {
      const frame = concat(header, pseudoRandomBytes(300 << 10, 2));
      const rss0 = process.memoryUsage().rss;
      const { ms, bytes } = expectRefusal(() => decompress(frame, 2 ** 32 - 16, 'blob b'), 'ERR_CORRUPT');
      expect(ms).toBeLessThan(500);
      expect(bytes).toBeLessThan(32 << 20);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(200 << 20);
    }
    // And with real content that just stops short of the claim: refused, memory follows the content.
    const short = concat(headerWithWindow(20), rleBlocks(8));
    const { bytes } = expectRefusal(() => decompress(short, 2 ** 32 - 16, 'blob b'), 'ERR_CORRUPT');
    expect(bytes).toBeLessThan(32 << 20);
  });

  it('a 32 KiB RLE bomb expanding to 1 GiB stops at the caller\'s limit, with memory near the limit', () => {
    const bomb = concat(headerWithWindow(17), rleBlocks(8192));
    const t0 = performance.now();
    const { bytes } = expectRefusal(() => decompressBounded(bomb, 4 << 20, 'index/i'), 'ERR_CORRUPT');
    expect(bytes).toBeLessThan(32 << 20);
    expect(expectRefusal(() => decompress(bomb, 4 << 20, 'blob b'), 'ERR_CORRUPT').bytes).toBeLessThan(32 << 20);
    // A frame that declares a small size but holds the bomb: the same.
    const liar = concat(headerClaiming(100n), rleBlocks(8192));
    expect(expectRefusal(() => decompressBounded(liar, 4 << 20), 'ERR_CORRUPT').bytes).toBeLessThan(32 << 20);
    expect(expectRefusal(() => decompress(liar, 100), 'ERR_CORRUPT').bytes).toBeLessThan(32 << 20);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('outputs over 16 MiB still decode exactly (growing with the output), and one byte more or less is refused', () => {
    const a = compress(new Uint8Array(20 << 20).fill(1));
    const b = compress(new Uint8Array(21 << 20).fill(2));
    const both = concat(a, b); // two frames: the first declares only its part
    const n = 41 << 20;
    const out = decompress(both, n);
    expect(out.length).toBe(n);
    expect(out[0]).toBe(1);
    expect(out[n - 1]).toBe(2);
    expect(decompressBounded(both, n).length).toBe(n);
    expectRefusal(() => decompress(both, n - 1), 'ERR_CORRUPT');
    expectRefusal(() => decompress(both, n + 1), 'ERR_CORRUPT');
    expectRefusal(() => decompressBounded(both, n - 1), 'ERR_CORRUPT');
    expect(MAX_DECOMPRESSED_SIZE).toBe(2 ** 32);
  });
});

describe('zstd frames inside well-sealed unpacked files (openUnpacked)', () => {
  const key = newMasterKey();
  const sealedPlain = (plain: Uint8Array): Uint8Array => sealUnpacked(key, 1, plain).bytes; // version 1: no compression added

  it('0x02 followed by any bytes or a mutated frame: ERR_CORRUPT or JSON bytes', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, byteEditsArb.map((e) => editBytes(compress(new TextEncoder().encode('{"packs":[]}')), e))), (frame) => {
        const bytes = sealedPlain(concat(new Uint8Array([2]), frame));
        typedOnly(() => openUnpacked(key, 2, hashId(bytes), bytes, 'index/i'), ['ERR_CORRUPT'], { input: frame, what: 'index/i' });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('a frame declaring 4 GiB or 1 GiB, and a 1 GiB bomb, are refused without gigabytes of memory', () => {
    for (const frame of [concat(headerClaiming(2n ** 32n), rleBlocks(1)), concat(headerClaiming(1n << 30n), rleBlocks(1))]) {
      const bytes = sealedPlain(concat(new Uint8Array([2]), frame));
      const { bytes: grown, ms } = expectRefusal(() => openUnpacked(key, 2, hashId(bytes), bytes, 'index/i'), 'ERR_CORRUPT');
      expect(grown).toBeLessThan(32 << 20);
      expect(ms).toBeLessThan(200);
    }
  });
});
