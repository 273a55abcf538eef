import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, fromHexInto, toHex } from '../../src/util/index.js';

describe('hex', () => {
  it('fromHex(toHex(b)) = b, in either case; Node agrees', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        const h = toHex(b);
        expect(h).toBe(Buffer.from(b).toString('hex'));
        expect(fromHex(h)).toEqual(b);
        expect(fromHex(h.toUpperCase())).toEqual(b);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('refuses odd lengths and any non-hex character, wherever it is', () => {
    expect(() => fromHex('abc')).toThrow(RangeError);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom('g', 'G', 'z', ' ', '-', 'é', '\u0000', 'x'), (b, at, bad) => {
        const h = toHex(b);
        const i = at % h.length;
        expect(() => fromHex(h.slice(0, i) + bad + h.slice(i + 1))).toThrow(/not a hex digit at/);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('fromHexInto writes the same bytes into a reused buffer, and refuses any other length', () => {
    const out = new Uint8Array(32);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 80 }), (b, len) => {
        const h = toHex(b);
        expect(fromHexInto(h, out)).toBe(out);
        expect(out).toEqual(b);
        if (len !== 64) expect(() => fromHexInto(h.padEnd(len, '0').slice(0, len), out)).toThrow(RangeError);
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});
