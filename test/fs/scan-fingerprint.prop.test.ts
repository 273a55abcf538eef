/**
 * The directory cache's key of a scan (`scanFingerprint`): it changes when anything a node records
 * changes (a name, or any stat column but those below, or the owner names), and stays the same for
 * what no node records: blocks, block size, the xattr column (asked or not), and the atime unless
 * atimes are recorded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanFingerprint } from '../../src/fs/node.js';
import { STAT_ATIME, STAT_BLKSIZE, STAT_BLOCKS, STAT_STRIDE, STAT_XATTRS } from '../../src/fs/stats.js';

const NEVER = new Set([STAT_BLKSIZE, STAT_BLOCKS, STAT_XATTRS]);
const ATIME = new Set([STAT_ATIME, STAT_ATIME + 1]);

const scan = fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.array(fc.bigInt({ min: 0n, max: 1n << 40n }), { minLength: STAT_STRIDE, maxLength: STAT_STRIDE })), { minLength: 1, maxLength: 5 })
  .map((entries) => {
    const all = Buffer.concat(entries.map(([n]) => Buffer.from(n)));
    const ends = new Float64Array(entries.length);
    let end = 0;
    entries.forEach(([n], i) => (ends[i] = end += n.length));
    return { all, ends, rows: BigInt64Array.from(entries.flatMap(([, r]) => r)) };
  });

describe('scanFingerprint', () => {
  it('changes exactly when a recorded column or a name changes', () => {
    fc.assert(
      fc.property(scan, fc.nat(), fc.nat({ max: STAT_STRIDE - 1 }), fc.bigInt({ min: 1n, max: 1n << 40n }), fc.boolean(), ({ all, ends, rows }, row, col, delta, withAtime) => {
        const prefix = Buffer.from('prefix');
        const before = scanFingerprint(prefix, all, ends, rows, withAtime);
        const changed = rows.slice();
        changed[(row % ends.length) * STAT_STRIDE + col]! += delta;
        const after = scanFingerprint(prefix, all, ends, changed, withAtime);
        const recorded = !NEVER.has(col) && (withAtime || !ATIME.has(col));
        expect(after.equals(before)).toBe(!recorded);
        // A name's byte, the prefix.
        const renamed = Buffer.from(all);
        renamed[row % all.length]! ^= 1;
        expect(scanFingerprint(prefix, renamed, ends, rows, withAtime).equals(before)).toBe(false);
        expect(scanFingerprint(Buffer.from('prefiX'), all, ends, rows, withAtime).equals(before)).toBe(false);
      }),
      { seed: 20261125, numRuns: 3000 },
    );
  });
});
