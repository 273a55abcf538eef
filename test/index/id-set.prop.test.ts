/**
 * IdSet (seeded), against a Set of strings: membership, size, iteration in the order added, and
 * addBytes' member numbers (new: the next number; known: -1 - the number it had).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdSet } from '../../src/index/index.js';
import { hashId, idToBytes, type Id } from '../../src/model/index.js';

describe('IdSet', () => {
  it('behaves as a Set of IDs that numbers its members in the order added', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3000), { maxLength: 3000 }), fc.array(fc.boolean(), { maxLength: 3000 }), (ns, asBytes) => {
        const set = new IdSet();
        const order: Id[] = [];
        ns.forEach((n, k) => {
          const id = hashId(new Uint8Array([n & 255, n >> 8]));
          const at = order.indexOf(id);
          if (asBytes[k] === true) {
            expect(set.addBytes(idToBytes(id))).toBe(at >= 0 ? -1 - at : order.length);
          } else {
            expect(set.add(id)).toBe(at < 0);
          }
          if (at < 0) order.push(id);
        });
        expect(set.size).toBe(order.length);
        expect([...set]).toEqual(order);
        order.forEach((id, i) => {
          expect(set.at(i)).toBe(id);
          expect(set.has(id)).toBe(true);
        });
        expect(set.has(hashId(new Uint8Array([1, 2, 3])))).toBe(false);
      }),
      { seed: 20261125, numRuns: 30 },
    );
  });
});
