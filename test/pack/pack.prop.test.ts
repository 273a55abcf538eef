/**
 * Pack codec properties: header encode/decode round trips for any entries; a built pack's header
 * reads back from its tail; every blob unseals to its plaintext; hostile headers and tails —
 * garbage, lengths pointing outside the file, a header claiming 4 GB — fail with typed errors
 * before anything large is allocated.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCairnError } from '../../src/errors.js';
import { newMasterKey, open, seal } from '../../src/crypto/index.js';
import { hashId, idFromBytes, type BlobType } from '../../src/model/index.js';
import { decodePackHeader, encodePackHeader, PackBuilder, readPackHeader, type PackedBlob } from '../../src/pack/index.js';

const SEED = 20261124;
const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(idFromBytes);
const typeArb = fc.constantFrom<BlobType>('data', 'tree');

const entriesArb: fc.Arbitrary<PackedBlob[]> = fc
  .array(fc.record({ id: idArb, type: typeArb, length: fc.integer({ min: 32, max: 0xffffffff }), uncompressedLength: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })) }), { minLength: 1, maxLength: 40 })
  .map((bs) => {
    let offset = 0;
    return bs.map((b) => {
      const e = { ...b, offset };
      offset += b.length;
      return e;
    });
  });

describe('pack header codec', () => {
  it('round-trips any entries', () => {
    fc.assert(fc.property(entriesArb, (entries) => {
      expect(decodePackHeader(encodePackHeader(entries), 'p')).toEqual(entries);
    }), { seed: SEED, numRuns: 200 });
  });

  it('decoding garbage gives ERR_CORRUPT or a valid list, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      try {
        const blobs = decodePackHeader(bytes, 'p');
        expect(blobs.every((b) => b.length >= 32)).toBe(true);
      } catch (e) {
        expect(isCairnError(e, 'ERR_CORRUPT')).toBe(true);
      }
    }), { seed: SEED, numRuns: 500 });
  });
});

describe('pack builder and reader', () => {
  const key = newMasterKey();

  it('a built pack lists its blobs from the tail and every blob opens to its plaintext', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.uint8Array({ maxLength: 3000 }), typeArb), { minLength: 1, maxLength: 30 }), async (blobs) => {
      const b = new PackBuilder(key);
      for (const [plain, type] of blobs) b.add({ id: hashId(plain), type, uncompressedLength: 0, sealed: seal(key, plain) });
      const pack = b.finish();
      expect(pack.bytes.length).toBe(b.size);
      expect(pack.id).toBe(hashId(pack.bytes));
      const load = async (o: number, l: number): Promise<Uint8Array> => pack.bytes.slice(o, o + l);
      const listed = await readPackHeader(key, load, pack.bytes.length, 'pack');
      expect(listed).toEqual(pack.blobs);
      listed.forEach((e, i) => expect(open(key, pack.bytes.subarray(e.offset, e.offset + e.length))).toEqual(blobs[i]![0]));
    }), { seed: SEED, numRuns: 60 });
  });

  it('hostile tails fail with typed errors and allocate nothing large', async () => {
    const b = new PackBuilder(key);
    b.add({ id: hashId(new Uint8Array(5)), type: 'data', uncompressedLength: 0, sealed: seal(key, new Uint8Array(5)) });
    const good = b.finish().bytes;
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }), async (pos, xor, headerLength) => {
      const bytes = good.slice();
      bytes[pos]! ^= xor;
      if (headerLength !== undefined) new DataView(bytes.buffer).setUint32(bytes.length - 4, headerLength, true);
      let requested = 0;
      const load = async (o: number, l: number): Promise<Uint8Array> => {
        requested = Math.max(requested, l);
        if (o < 0 || o + l > bytes.length) throw new Error('out of range read');
        return bytes.slice(o, o + l);
      };
      try {
        await readPackHeader(key, load, bytes.length, 'pack');
      } catch (e) {
        expect(isCairnError(e, 'ERR_CORRUPT') || isCairnError(e, 'ERR_AUTH_FAILED')).toBe(true);
      }
      expect(requested).toBeLessThanOrEqual(bytes.length);
    }), { seed: SEED, numRuns: 300 });
  });

  it('a header length claiming 4 GB is refused before reading it', async () => {
    const bytes = new Uint8Array(200);
    new DataView(bytes.buffer).setUint32(196, 0xfffffff0, true);
    await expect(readPackHeader(key, async (o, l) => bytes.slice(o, o + l), bytes.length, 'pack x')).rejects.toMatchObject({ code: 'ERR_CORRUPT', message: expect.stringContaining('pack x') });
  });
});
