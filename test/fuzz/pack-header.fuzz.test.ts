/**
 * Hostile pack headers and tails (spec/hostile-input.md). The plaintext header decoder meets
 * arbitrary bytes, mutated headers and hostile length fields with ERR_CORRUPT or a list of sane
 * entries; the sealed header meets random bytes with ERR_AUTH_FAILED/ERR_CORRUPT; reading a
 * header from a pack's tail meets length fields pointing outside the file (0xFFFFFFF0 included),
 * sizes the storage lies about and short reads with typed errors, quickly, reading and allocating
 * nothing near what the file claims.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CairnError } from '../../src/errors.js';
import { newMasterKey, open, seal } from '../../src/crypto/index.js';
import { hashId, idFromBytes, type BlobType } from '../../src/model/index.js';
import { decodePackHeader, encodePackHeader, MAX_HEADER_SIZE, PackBuilder, readPackHeader, type PackedBlob } from '../../src/pack/index.js';
import { bytesArb, byteEditsArb, editBytes, hostileU32Arb, SEED, typedOnly, typedOnlyAsync } from './fuzz-helpers.js';

const key = newMasterKey();

const entriesArb: fc.Arbitrary<PackedBlob[]> = fc
  .array(
    fc.record({
      id: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(idFromBytes),
      type: fc.constantFrom<BlobType>('data', 'tree'),
      length: fc.oneof(fc.integer({ min: 32, max: 5000 }), fc.integer({ min: 32, max: 0xffffffff })),
      uncompressedLength: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
    }),
    { minLength: 1, maxLength: 20 },
  )
  .map((bs) => {
    let offset = 0;
    return bs.map((b) => {
      const e = { ...b, offset };
      offset += b.length;
      return e;
    });
  });

/** A decoded header must be what the format allows: entries of ≥ 32 bytes at running offsets. */
function checkEntries(blobs: readonly PackedBlob[] | undefined): void {
  if (blobs === undefined) return;
  let offset = 0;
  for (const b of blobs) {
    expect(b.offset).toBe(offset);
    expect(b.length).toBeGreaterThanOrEqual(32);
    expect(b.length).toBeLessThanOrEqual(0xffffffff);
    expect(b.uncompressedLength).toBeLessThanOrEqual(0xffffffff);
    expect(b.id).toMatch(/^[0-9a-f]{64}$/);
    offset += b.length;
  }
  expect(Number.isSafeInteger(offset)).toBe(true);
}

describe('pack header plaintext (decodePackHeader)', () => {
  it('arbitrary bytes: ERR_CORRUPT or sane entries', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => checkEntries(typedOnly(() => decodePackHeader(bytes, 'pack p'), ['ERR_CORRUPT'], { input: bytes, what: 'pack p' }))),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('mutated headers (flipped, inserted, deleted bytes; hostile u32 fields): ERR_CORRUPT or sane entries', () => {
    fc.assert(
      fc.property(entriesArb, byteEditsArb, (entries, edits) => {
        const bytes = editBytes(encodePackHeader(entries), edits);
        checkEntries(typedOnly(() => decodePackHeader(bytes, 'pack p'), ['ERR_CORRUPT'], { input: bytes, what: 'pack p' }));
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('a header of 50,000 entries each claiming 4 GiB decodes to exact offsets, without overflow, quickly', () => {
    const n = 50_000; // 2 MiB of header; 16 MiB (the largest allowed) is ~8× this, offsets stay below 2^51
    expect(n * 41).toBeLessThan(MAX_HEADER_SIZE);
    const plain = new Uint8Array(n * 41);
    const view = new DataView(plain.buffer);
    for (let i = 0; i < n; i++) {
      plain[i * 41] = 2;
      view.setUint32(i * 41 + 1, 0xffffffff, true);
      view.setUint32(i * 41 + 5, 0xffffffff, true);
    }
    const blobs = typedOnly(() => decodePackHeader(plain, 'pack p'), ['ERR_CORRUPT'], { ms: 2000 });
    expect(blobs).toHaveLength(n);
    expect(blobs![n - 1]!.offset).toBe((n - 1) * 0xffffffff);
  });
});

describe('sealed pack header (open)', () => {
  it('random bytes never open: ERR_AUTH_FAILED, or ERR_CORRUPT when too short or the IV is zero', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const out = typedOnly(() => open(key, bytes, 'header of pack p'), ['ERR_AUTH_FAILED', 'ERR_CORRUPT'], { input: bytes, what: 'header of pack p' });
        expect(out).toBeUndefined();
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('pack tails (readPackHeader)', () => {
  function buildPack(blobs: readonly [Uint8Array, BlobType][]): Uint8Array {
    const b = new PackBuilder(key);
    for (const [plain, type] of blobs) b.add({ id: hashId(plain), type, uncompressedLength: 0, sealed: seal(key, plain) });
    return b.finish().bytes;
  }
  const packArb = fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.constantFrom<BlobType>('data', 'tree')), { minLength: 1, maxLength: 6 }).map(buildPack);

  /** A loader over `bytes` that behaves as the backends do: ERR_INVALID_ARGUMENT past the end. */
  function loaderOf(bytes: Uint8Array, reads: number[] = []) {
    return async (offset: number, length: number): Promise<Uint8Array> => {
      reads.push(length);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
        throw new CairnError('ERR_INVALID_ARGUMENT', `range ${offset}+${length} outside the ${bytes.length}-byte file`);
      }
      return bytes.slice(offset, offset + length);
    };
  }

  it('arbitrary files: typed errors only, no read larger than the file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        const reads: number[] = [];
        const blobs = await typedOnlyAsync(() => readPackHeader(key, loaderOf(bytes, reads), bytes.length, 'pack p'), ['ERR_CORRUPT', 'ERR_AUTH_FAILED'], { input: bytes, what: 'pack p' });
        expect(blobs).toBeUndefined();
        for (const n of reads) expect(n).toBeLessThanOrEqual(bytes.length);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('mutated packs (any byte, the length field set to hostile values): typed errors or the true entries', async () => {
    await fc.assert(
      fc.asyncProperty(packArb, byteEditsArb, hostileU32Arb, fc.boolean(), async (good, edits, headerLength, setLength) => {
        const bytes = editBytes(good, edits);
        if (setLength && bytes.length >= 4) new DataView(bytes.buffer).setUint32(bytes.length - 4, headerLength, true);
        const reads: number[] = [];
        const blobs = await typedOnlyAsync(() => readPackHeader(key, loaderOf(bytes, reads), bytes.length, 'pack p'), ['ERR_CORRUPT', 'ERR_AUTH_FAILED'], { input: bytes, what: 'pack p' });
        checkEntries(blobs);
        if (blobs !== undefined) expect(blobs.reduce((n, b) => n + b.length, 0)).toBeLessThan(bytes.length);
        for (const n of reads) expect(n).toBeLessThanOrEqual(bytes.length);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('the storage lying about the size, or returning short reads: typed errors', async () => {
    const good = buildPack([[new Uint8Array(100), 'data']]);
    const sizes = [Number.NaN, Infinity, -1, 0, 72, 73, 1.5, good.length + 0.5, good.length + 1, good.length - 1, 2 ** 53, 2 ** 60, 1e300];
    for (const size of sizes) {
      // ERR_INVALID_ARGUMENT is the loader's (the backend's) refusal of a range past the end.
      await typedOnlyAsync(() => readPackHeader(key, loaderOf(good), size, 'pack p'), ['ERR_CORRUPT', 'ERR_AUTH_FAILED', 'ERR_BACKEND', 'ERR_INVALID_ARGUMENT'], { input: `size ${size}` });
    }
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 200 }), fc.boolean(), async (cut, longer) => {
        const load = async (offset: number, length: number): Promise<Uint8Array> => {
          const b = good.slice(offset, offset + length);
          return longer ? new Uint8Array([...b, ...new Uint8Array(cut)]) : b.subarray(0, Math.max(0, b.length - cut));
        };
        const blobs = await typedOnlyAsync(() => readPackHeader(key, load, good.length, 'pack p'), ['ERR_BACKEND'], { input: `cut ${cut} longer ${longer}`, what: 'pack p' });
        if (blobs !== undefined) expect(cut).toBe(0);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('a length field of 0xFFFFFFF0 (and friends) is refused at once: nothing read or allocated near its size', async () => {
    for (const claimed of [0xfffffff0, 0xffffffff, 0x80000000, MAX_HEADER_SIZE + 1]) {
      const bytes = new Uint8Array(MAX_HEADER_SIZE + 1000);
      new DataView(bytes.buffer).setUint32(bytes.length - 4, claimed, true);
      const reads: number[] = [];
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      await typedOnlyAsync(() => readPackHeader(key, loaderOf(bytes, reads), bytes.length, 'pack p'), ['ERR_CORRUPT'], { ms: 200, bytes: 1 << 20, what: 'pack p' });
      expect(performance.now() - t0).toBeLessThan(200);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(64 << 20);
      expect(Math.max(...reads)).toBeLessThanOrEqual(64 * 1024);
    }
  });

  it('a header listing more blob bytes than the pack holds (a blob longer than the pack) is ERR_CORRUPT', async () => {
    const entries: PackedBlob[] = [{ id: hashId(new Uint8Array(1)), type: 'data', offset: 0, length: 0xffffffff, uncompressedLength: 0 }];
    const header = seal(key, encodePackHeader(entries));
    const bytes = new Uint8Array(100 + header.length + 4);
    bytes.set(header, 100);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, header.length, true);
    const err = await readPackHeader(key, loaderOf(bytes), bytes.length, 'pack p').then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CORRUPT', message: expect.stringContaining('4294967295 bytes of blobs, but 100 bytes precede it') });
  });
});
