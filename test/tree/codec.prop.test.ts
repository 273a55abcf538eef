/**
 * Tree codec properties (seeded): any valid tree survives encode/decode unchanged (raw names,
 * non-UTF-8 link targets, 64-bit numbers near 2^64, xattrs, every node type, extra fields), the
 * encoding is canonical (re-encoding the decoded tree gives the same bytes), and the decoder
 * meets garbage and mutated trees with ERR_CORRUPT only, never another exception or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { decodeTree, encodeTree } from '../../src/tree/index.js';
import { mutate, mutationArb, treeArb } from './arbitraries.js';

const SEED = 20261124;
const enc = new TextEncoder();

function onlyCorrupt(bytes: Uint8Array): void {
  try {
    decodeTree(bytes, 'fuzzed tree');
  } catch (e) {
    if (!isCairnError(e, 'ERR_CORRUPT')) throw e;
    expect(e.message.startsWith('fuzzed tree: ')).toBe(true);
  }
}

describe('tree codec', () => {
  it('decode(encode(tree)) = tree and encoding is canonical', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const bytes = encodeTree(tree);
        const back = decodeTree(bytes);
        expect(back).toEqual(tree);
        expect(encodeTree(back)).toEqual(bytes);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('meets garbage with ERR_CORRUPT only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 64 }).map((s) => enc.encode(s))), onlyCorrupt),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('meets mutated trees with ERR_CORRUPT only', () => {
    fc.assert(
      fc.property(treeArb, mutationArb, (tree, edits) => onlyCorrupt(mutate(encodeTree(tree), edits))),
      { seed: SEED, numRuns: 1500 },
    );
  });
});
