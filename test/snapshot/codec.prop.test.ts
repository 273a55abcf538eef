/**
 * Snapshot codec properties (seeded): any snapshot survives encode/decode unchanged and encodes
 * canonically (extra fields included), and the decoder meets garbage and mutated snapshot files
 * with ERR_CORRUPT only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import type { SnapshotId, TreeId } from '../../src/model/index.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from '../../src/snapshot/index.js';
import { idArb, mutate, mutationArb, rawJsonArb, textArb, timeArb } from '../tree/arbitraries.js';

const SEED = 20261124;
const enc = new TextEncoder();

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    time: timeArb,
    parent: opt(idArb),
    tree: idArb,
    paths: fc.array(textArb(16), { maxLength: 3 }),
    hostname: opt(textArb(10).filter((s) => s !== '')),
    username: opt(textArb(10).filter((s) => s !== '')),
    uid: opt(fc.integer({ min: 1, max: 0xffffffff })),
    gid: opt(fc.integer({ min: 1, max: 0xffffffff })),
    excludes: opt(fc.array(textArb(8), { minLength: 1, maxLength: 3 })),
    tags: opt(fc.array(textArb(8), { minLength: 1, maxLength: 3 })),
    original: opt(idArb),
    extra: opt(fc.dictionary(fc.constantFrom('program_version', 'summary', 'x-new', 'zz'), rawJsonArb, { minKeys: 1 })),
  })
  .map((r) => {
    const s: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (v !== undefined) s[k] = v;
    return s as unknown as Snapshot & { parent?: SnapshotId; tree: TreeId };
  });

describe('snapshot codec', () => {
  it('decode(encode(s)) = s and encoding is canonical', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const bytes = encodeSnapshot(s);
        const back = decodeSnapshot(bytes);
        expect(back).toEqual(s);
        expect(encodeSnapshot(back)).toEqual(bytes);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('meets garbage and mutated files with ERR_CORRUPT only', () => {
    const onlyCorrupt = (bytes: Uint8Array): void => {
      try {
        decodeSnapshot(bytes, 'fuzzed snapshot');
      } catch (e) {
        if (!isCairnError(e, 'ERR_CORRUPT')) throw e;
      }
    };
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 64 }).map((s) => enc.encode(s))), onlyCorrupt),
      { seed: SEED, numRuns: 1000 },
    );
    fc.assert(
      fc.property(snapshotArb, mutationArb, (s, edits) => onlyCorrupt(mutate(encodeSnapshot(s), edits))),
      { seed: SEED, numRuns: 1500 },
    );
  });
});
