/**
 * readRuns (seeded): the blobs of a pack, sorted by offset, split into reads that keep every blob
 * once and in order; a run's neighbours are at most `gap` apart and it spans at most `max` bytes
 * (unless one blob alone is larger); and a run ends only where the next blob could not join it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packReads, readRuns, type PackPlace } from '../../src/pack/index.js';
import type { PackId } from '../../src/model/index.js';

const placesArb = fc
  .array(fc.record({ skip: fc.integer({ min: 0, max: 3000 }), length: fc.integer({ min: 1, max: 2000 }) }), { maxLength: 40 })
  .map((xs) => {
    let offset = 0;
    return xs.map(({ skip, length }) => {
      const p: PackPlace = { offset: offset + skip, length };
      offset = p.offset + length;
      return p;
    });
  });

describe('readRuns', () => {
  it('keeps every blob once, in order, within the bounds, and cuts only where it must', () => {
    fc.assert(
      fc.property(placesArb, fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 1, max: 6000 }), (places, gap, max) => {
        const runs = readRuns(places, (p) => p, gap, max);
        expect(runs.flat()).toEqual(places);
        for (const run of runs) expect(run.length).toBeGreaterThan(0);
        const span = (run: PackPlace[]): number => run[run.length - 1]!.offset + run[run.length - 1]!.length - run[0]!.offset;
        for (const run of runs) {
          if (run.length > 1) expect(span(run)).toBeLessThanOrEqual(max);
          for (let i = 1; i < run.length; i++) expect(run[i]!.offset - (run[i - 1]!.offset + run[i - 1]!.length)).toBeLessThanOrEqual(gap);
        }
        for (let r = 1; r < runs.length; r++) {
          const prev = runs[r - 1]!;
          const next = runs[r]![0]!;
          const last = prev[prev.length - 1]!;
          const joins = next.offset - (last.offset + last.length) <= gap && next.offset + next.length - prev[0]!.offset <= max;
          expect(joins).toBe(false);
        }
      }),
      { seed: 20261125, numRuns: 500 },
    );
  });

  it('packReads: the items of each pack, sorted by offset, split as readRuns splits them; every item once; each read spans its items', () => {
    const itemsArb = fc.array(
      fc.record({ pack: fc.constantFrom('aa', 'bb', 'cc') as fc.Arbitrary<PackId>, offset: fc.integer({ min: 0, max: 20_000 }), length: fc.integer({ min: 1, max: 2000 }) }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 1, max: 6000 }), (items, gap, max) => {
        const reads = packReads(items, (i) => i, gap, max);
        expect(reads.flatMap((r) => r.items).length).toBe(items.length);
        expect(new Set(reads.flatMap((r) => r.items)).size).toBe(items.length);
        const packs = reads.map((r) => r.pack);
        expect(packs).toEqual([...packs].sort());
        for (const pack of new Set(packs)) {
          const mine = items.filter((i) => i.pack === pack).sort((a, b) => a.offset - b.offset);
          expect(reads.filter((r) => r.pack === pack).map((r) => r.items)).toEqual(readRuns(mine, (i) => i, gap, max));
        }
        for (const r of reads) {
          for (const i of r.items) expect(i.pack === r.pack && i.offset >= r.start && i.offset + i.length <= r.end).toBe(true);
          expect(r.start).toBe(Math.min(...r.items.map((i) => i.offset)));
          expect(r.end).toBe(Math.max(...r.items.map((i) => i.offset + i.length)));
        }
      }),
      { seed: 20261125, numRuns: 300 },
    );
  });
});
