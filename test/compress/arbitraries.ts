/**
 * Data to compress in property tests: random (incompressible), repetitive, or repetitive with a
 * random tail; and edits that damage a frame.
 */
import fc from 'fast-check';
import { pseudoRandomBytes } from '../helpers/fixtures.js';

/** Up to `maxRandom` random bytes, or a word repeated up to `maxRepeats` times and 100 random bytes. */
export function dataArb(maxRandom: number, maxRepeats: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.record({ n: fc.integer({ min: 0, max: maxRandom }), seed: fc.nat() }).map(({ n, seed }) => pseudoRandomBytes(n, seed)),
    fc
      .record({ word: fc.uint8Array({ minLength: 1, maxLength: 40 }), times: fc.integer({ min: 1, max: maxRepeats }), seed: fc.nat() })
      .map(({ word, times, seed }) => {
        const out = new Uint8Array(word.length * times + 100);
        for (let i = 0; i < times; i++) out.set(word, i * word.length);
        out.set(pseudoRandomBytes(100, seed), word.length * times);
        return out;
      }),
  );
}

/** One edit of a frame: flip a bit, cut it short, or append a byte. */
export const editArb = fc.record({ at: fc.nat(), op: fc.constantFrom('flip', 'truncate', 'append'), byte: fc.integer({ min: 0, max: 255 }) });

/** `z` with the edits applied in order (never changed in place). */
export function applyEdits(z: Uint8Array, edits: ReadonlyArray<{ at: number; op: string; byte: number }>): Uint8Array {
  for (const { at, op, byte } of edits) {
    if (op === 'flip') {
      z = z.slice();
      z[at % z.length]! ^= 1 << (byte & 7);
    } else if (op === 'truncate') {
      z = z.subarray(0, at % z.length);
    } else {
      z = new Uint8Array([...z, byte]);
    }
  }
  return z;
}
