/**
 * `--read-data-subset` as restic 0.14 defines it: the groups n/t split the packs into t disjoint
 * parts covering them all (by the first byte of the ID, so the same on every run); P% reads
 * ⌊count × P/100⌋ distinct packs (at least one); SIZE reads the share SIZE / total; bad values
 * are refused with ERR_INVALID_ARGUMENT. And the pack table computes restic's pack size and finds
 * overlapping index entries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PackTable, parseReadDataSubset, selectPacks } from '../../src/checker/index.js';
import { isCairnError } from '../../src/errors.js';
import { MasterIndex } from '../../src/index/index.js';
import { idFromBytes, type PackId } from '../../src/model/index.js';

const SEED = 20261124;
const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(idFromBytes);
const packsArb = fc.uniqueArray(fc.tuple(idArb, fc.integer({ min: 73, max: 1 << 26 })), { maxLength: 120, selector: ([id]) => id }).map((l) => new Map<PackId, number>(l));

/** A seeded random source in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

describe('--read-data-subset', () => {
  it('n/t: the t groups are disjoint, cover every pack, and follow the first byte of the ID', () => {
    fc.assert(fc.property(packsArb, fc.integer({ min: 1, max: 256 }), (packs, t) => {
      const seen = new Map<PackId, number>();
      for (let n = 1; n <= t; n++) {
        for (const p of selectPacks(packs, parseReadDataSubset(`${n}/${t}`))) {
          expect(seen.has(p)).toBe(false);
          seen.set(p, n);
          expect(parseInt(p.slice(0, 2), 16) % t).toBe(n - 1);
        }
      }
      expect(seen.size).toBe(packs.size);
    }), { seed: SEED, numRuns: 100 });
  });

  it('P%: ⌊count × P/100⌋ distinct packs, at least one', () => {
    fc.assert(fc.property(packsArb, fc.integer({ min: 1, max: 1000 }), fc.integer(), (packs, tenths, seed) => {
      const percent = tenths / 10;
      const chosen = selectPacks(packs, parseReadDataSubset(`${percent}%`), rng(seed));
      const want = packs.size === 0 ? 0 : Math.max(1, Math.floor(packs.size * (percent / 100)));
      expect(chosen).toHaveLength(want);
      expect(new Set(chosen).size).toBe(chosen.length);
      for (const p of chosen) expect(packs.has(p)).toBe(true);
    }), { seed: SEED, numRuns: 200 });
  });

  it('SIZE: the same as the percentage SIZE / total; more than the total reads everything', () => {
    fc.assert(fc.property(packsArb, fc.integer({ min: 1, max: 1 << 30 }), fc.integer(), (packs, bytes, seed) => {
      const total = [...packs.values()].reduce((a, b) => a + b, 0);
      const chosen = selectPacks(packs, { kind: 'size', bytes }, rng(seed));
      const share = total === 0 ? 0 : Math.min(bytes, total) / total;
      const want = packs.size === 0 ? 0 : Math.max(1, Math.floor(packs.size * ((share * 100) / 100)));
      expect(chosen.length).toBe(want);
    }), { seed: SEED, numRuns: 200 });
  });

  it('parses restic\'s forms and refuses the rest', () => {
    expect(parseReadDataSubset('2/5')).toEqual({ kind: 'group', n: 2, t: 5 });
    expect(parseReadDataSubset('2.5%')).toEqual({ kind: 'percent', percent: 2.5 });
    expect(parseReadDataSubset('100%')).toEqual({ kind: 'percent', percent: 100 });
    expect(parseReadDataSubset('500M')).toEqual({ kind: 'size', bytes: 500 * 1024 * 1024 });
    expect(parseReadDataSubset('1g')).toEqual({ kind: 'size', bytes: 1024 ** 3 });
    expect(parseReadDataSubset('4096')).toEqual({ kind: 'size', bytes: 4096 });
    for (const bad of ['', '0/1', '3/2', '1/257', '1/0', '0%', '100.1%', '%', 'abc%', '1.5M', '10MiB', '-1', '0', '1/2/3', 'x/2']) {
      let err: unknown;
      try {
        parseReadDataSubset(bad);
      } catch (e) {
        err = e;
      }
      expect(isCairnError(err, 'ERR_INVALID_ARGUMENT'), bad).toBe(true);
    }
  });
});

describe('pack table', () => {
  const blobArb = fc.record({
    id: idArb,
    type: fc.constantFrom('data' as const, 'tree' as const),
    length: fc.integer({ min: 32, max: 100_000 }),
    uncompressedLength: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1 << 20 })),
  });

  it('a pack of contiguous blobs: size 36 + Σ (length + 37 or 41), no overlap; shifting one blob back makes one', () => {
    fc.assert(fc.property(idArb, fc.array(blobArb, { minLength: 1, maxLength: 30 }), fc.nat(), (pack, blobs, pick) => {
      let offset = 0;
      const placed = blobs.map((b) => {
        const p = { ...b, offset };
        offset += b.length;
        return p;
      });
      const index = new MasterIndex();
      index.addPack(pack, placed);
      const table = PackTable.from(index);
      const unique = new Map(placed.map((b) => [`${b.type}:${b.id}:${b.offset}`, b]));
      let size = 36;
      for (const b of unique.values()) size += b.length + (b.uncompressedLength > 0 ? 41 : 37);
      expect(table.expectedSize(pack)).toBe(size);
      expect([...table.overlaps()]).toEqual([]);
      expect(table.blobs(pack).map((b) => b.offset)).toEqual([...unique.values()].map((b) => b.offset).sort((a, b) => a - b));
      if (placed.length > 1) {
        const i = 1 + (pick % (placed.length - 1));
        const shifted = new MasterIndex();
        shifted.addPack(pack, placed.map((b, j) => (j === i ? { ...b, offset: b.offset - 1 } : b)));
        expect([...PackTable.from(shifted).overlaps()].length).toBeGreaterThan(0);
      }
    }), { seed: SEED, numRuns: 200 });
  });
});
