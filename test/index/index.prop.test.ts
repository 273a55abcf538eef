/**
 * Index properties: index files round-trip and reject malformed documents with ERR_CORRUPT only;
 * the compact master index answers `has` and `lookup` exactly like a plain Map model, with
 * duplicates (one blob in several packs) and both blob types.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCairnError } from '../../src/errors.js';
import { decodeIndex, encodeIndex, MasterIndex, type IndexFile } from '../../src/index/index.js';
import { idFromBytes, type BlobType, type Id } from '../../src/model/index.js';

const SEED = 20261124;
const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(idFromBytes);
const blobArb = fc.record({
  id: idArb,
  type: fc.constantFrom<BlobType>('data', 'tree'),
  offset: fc.integer({ min: 0, max: 0xffffffff }),
  length: fc.integer({ min: 0, max: 0xffffffff }),
  uncompressedLength: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
});
const indexArb: fc.Arbitrary<IndexFile> = fc.record({
  supersedes: fc.array(idArb, { maxLength: 3 }),
  packs: fc.array(fc.record({ id: idArb, blobs: fc.array(blobArb, { maxLength: 8 }) }), { maxLength: 6 }),
});

describe('index files', () => {
  it('round-trip', () => {
    fc.assert(fc.property(indexArb, (idx) => {
      expect(decodeIndex(encodeIndex(idx), 'i')).toEqual(idx);
    }), { seed: SEED, numRuns: 200 });
  });

  it('read the legacy array format', () => {
    fc.assert(fc.property(indexArb, (idx) => {
      const legacy = JSON.stringify(JSON.parse(new TextDecoder().decode(encodeIndex(idx))).packs);
      expect(decodeIndex(new TextEncoder().encode(legacy), 'i').packs).toEqual(idx.packs);
    }), { seed: SEED, numRuns: 50 });
  });

  it('reject mutated documents only with ERR_CORRUPT', () => {
    fc.assert(fc.property(indexArb, fc.nat(), fc.string({ maxLength: 3 }), (idx, at, junk) => {
      const text = new TextDecoder().decode(encodeIndex(idx));
      const i = at % (text.length + 1);
      try {
        decodeIndex(new TextEncoder().encode(text.slice(0, i) + junk + text.slice(i + 1)), 'i');
      } catch (e) {
        expect(isCairnError(e, 'ERR_CORRUPT')).toBe(true);
      }
    }), { seed: SEED, numRuns: 500 });
  });
});

describe('master index', () => {
  it('answers like a Map model, duplicates and both types included', () => {
    fc.assert(fc.property(fc.array(fc.record({ pack: idArb, blobs: fc.array(blobArb, { maxLength: 20 }) }), { maxLength: 40 }), fc.array(idArb, { maxLength: 20 }), (packs, strangers) => {
      const index = new MasterIndex();
      const model = new Map<string, Set<string>>();
      for (const p of packs) {
        index.addPack(p.pack, p.blobs);
        for (const b of p.blobs) {
          const k = `${b.type}:${b.id}`;
          const v = `${p.pack}:${b.offset}:${b.length}:${b.uncompressedLength}`;
          (model.get(k) ?? model.set(k, new Set()).get(k)!).add(v);
        }
      }
      for (const [k, places] of model) {
        const [type, id] = k.split(':') as [BlobType, Id];
        expect(index.has(id, type)).toBe(true);
        const got = new Set(index.lookup(id, type).map((e) => `${e.pack}:${e.offset}:${e.length}:${e.uncompressedLength}`));
        // Entries for the same pack and offset are one place (adding a pack twice changes nothing).
        const wantPlaces = new Set([...places].map((v) => v.split(':').slice(0, 2).join(':')));
        expect(new Set([...got].map((v) => v.split(':').slice(0, 2).join(':')))).toEqual(wantPlaces);
      }
      for (const id of strangers) {
        for (const type of ['data', 'tree'] as const) expect(index.has(id, type)).toBe(model.has(`${type}:${id}`));
      }
    }), { seed: SEED, numRuns: 100 });
  });

  it('holds 200,000 blobs in under 64 bytes each, at every size on the way', () => {
    const index = new MasterIndex();
    const blobs = Array.from({ length: 200_000 }, (_, i) => {
      const b = new Uint8Array(32);
      new DataView(b.buffer).setUint32(0, i * 2654435761);
      new DataView(b.buffer).setUint32(4, i);
      return { id: idFromBytes(b), type: 'data' as const, offset: i, length: 100, uncompressedLength: 0 };
    });
    let worst = 0;
    for (let i = 0; i < blobs.length; i += 1000) {
      const pack = new Uint8Array(32);
      new DataView(pack.buffer).setUint32(0, i);
      index.addPack(idFromBytes(pack), blobs.slice(i, i + 1000));
      if (index.size >= 20_000) worst = Math.max(worst, index.byteSize() / index.size);
    }
    expect(index.size).toBe(200_000);
    expect(worst).toBeLessThan(64);
    expect(index.has(blobs[123_456]!.id, 'data')).toBe(true);
  });
});
