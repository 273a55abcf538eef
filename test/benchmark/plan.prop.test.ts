/**
 * `cairn plan`'s arithmetic, as properties (seeded): seconds × rate gives the bytes back, the
 * bandwidth cap never speeds anything up, and a size or rate written in any accepted unit parses
 * to the number it names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlanRate, parsePlanSize, predict } from '../../src/index.js';

const SEED = 0x9a11;
const flag = (text: string) => ({ kind: 'flag', flag: '--rate', text }) as const;

describe('plan arithmetic (properties)', () => {
  it('seconds × effective rate ≈ bytes, and the effective rate is min(rate, bandwidth)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ min: 1, max: 1e12, noNaN: true }),
      fc.option(fc.double({ min: 1, max: 1e12, noNaN: true })),
      (bytes, rate, bandwidth) => {
        const bw = bandwidth === null ? undefined : { value: bandwidth, text: 'bw' };
        const p = predict('transfer', { bytes }, { bytesPerSecond: rate, text: 'r', source: flag('r') }, bw);
        expect(p.rate_bytes_per_second).toBe(Math.min(rate, bandwidth ?? Infinity));
        expect(Math.abs(p.seconds * p.rate_bytes_per_second - bytes)).toBeLessThanOrEqual(Math.max(1e-6, bytes * 1e-12));
        const uncapped = predict('transfer', { bytes }, { bytesPerSecond: rate, text: 'r', source: flag('r') });
        expect(p.seconds).toBeGreaterThanOrEqual(uncapped.seconds);
      },
    ), { seed: SEED, numRuns: 300 });
  });

  it('sizes and rates in every unit parse to the number they name', () => {
    const units: [string, number][] = [['B', 1], ['kB', 1e3], ['MB', 1e6], ['GB', 1e9], ['TB', 1e12], ['KiB', 1024], ['MiB', 2 ** 20], ['GiB', 2 ** 30], ['TiB', 2 ** 40]];
    const bits: [string, number][] = [['kbit', 1e3], ['Mbit', 1e6], ['Gbit', 1e9], ['Mbps', 1e6], ['Gbps', 1e9]];
    fc.assert(fc.property(fc.integer({ min: 1, max: 4095 }), fc.constantFrom(...units), fc.constantFrom(...bits), fc.boolean(), (n, [u, scale], [b, bscale], space) => {
      const sp = space ? ' ' : '';
      expect(parsePlanSize(`${n}${sp}${u}`).value).toBe(n * scale);
      expect(parsePlanRate(`${n}${sp}${u}/s`).value).toBe(n * scale);
      expect(parsePlanRate(`${n}${sp}${b}`).value).toBeCloseTo((n * bscale) / 8, 6);
      if (!b.endsWith('ps')) expect(parsePlanRate(`${n}${b}/s`).value).toBeCloseTo((n * bscale) / 8, 6);
    }), { seed: SEED, numRuns: 300 });
  });
});
