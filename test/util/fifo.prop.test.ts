/** Fifo (seeded) against an array's push/shift, through the head's compactions (past 1,024 taken). */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Fifo } from '../../src/util/index.js';

it('Fifo takes items in the order pushed, like an array, however long it grows', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 1500 })), { maxLength: 12 }), (steps) => {
      const fifo = new Fifo<number>();
      const model: number[] = [];
      let next = 0;
      for (const [push, times] of steps) {
        for (let k = 0; k < times; k++) {
          if (push) {
            fifo.push(next);
            model.push(next++);
          } else {
            expect(fifo.shift()).toBe(model.shift());
          }
          expect(fifo.length).toBe(model.length);
        }
      }
    }),
    { seed: 20261125, numRuns: 60 },
  );
});
