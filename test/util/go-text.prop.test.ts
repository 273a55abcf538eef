/**
 * Properties of the Go text helpers (seeded): Unquote inverts Quote for any bytes, Quote's output
 * is printable text without raw quotes or newlines, and Unquote reads every other spelling Go
 * allows for the same bytes (hex, octal, \u escapes, raw characters).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { decodeUtf8, goQuote, goUnquote, isGoPrint } from '../../src/util/index.js';

const SEED = 20261124;
const enc = new TextEncoder();

describe('Go Quote/Unquote', () => {
  it('Unquote(Quote(b)) = b for any bytes, and Quote writes only printable text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }).map((s) => enc.encode(s))), (b) => {
        const q = goQuote(b);
        expect(goUnquote(q)).toEqual(b);
        expect(q).not.toMatch(/(^|[^\\])(\\\\)*"|\n/);
        for (const ch of q) expect(isGoPrint(ch.codePointAt(0)!)).toBe(true);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('Unquote accepts every spelling Go allows for the same bytes', () => {
    const spelled = fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 255 }).chain((v) =>
          fc.constantFrom<[string, number[]]>(
            [`\\x${v.toString(16).padStart(2, '0')}`, [v]],
            [`\\x${v.toString(16).toUpperCase().padStart(2, '0')}`, [v]],
            [`\\${v.toString(8).padStart(3, '0')}`, [v]],
          ),
        ),
        fc.integer({ min: 0x20, max: 0x7e })
          .filter((c) => c !== 0x22 && c !== 0x5c)
          .map((c): [string, number[]] => [String.fromCharCode(c), [c]]),
        fc.integer({ min: 0, max: 0x10ffff })
          .filter((r) => r < 0xd800 || r > 0xdfff)
          .chain((r) =>
            fc.constantFrom<[string, number[]]>(
              [r <= 0xffff ? `\\u${r.toString(16).padStart(4, '0')}` : `\\U${r.toString(16).padStart(8, '0')}`, [...enc.encode(String.fromCodePoint(r))]],
              [`\\U${r.toString(16).toUpperCase().padStart(8, '0')}`, [...enc.encode(String.fromCodePoint(r))]],
              [r === 0x0a || r === 0x22 || r === 0x5c ? `\\x${r.toString(16).padStart(2, '0')}` : String.fromCodePoint(r), [...enc.encode(String.fromCodePoint(r))]],
            ),
          ),
        fc.constantFrom<[string, number[]]>(['\\a', [7]], ['\\b', [8]], ['\\f', [12]], ['\\n', [10]], ['\\r', [13]], ['\\t', [9]], ['\\v', [11]], ['\\\\', [92]], ['\\"', [34]]),
      ),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(spelled, (parts) => {
        expect(goUnquote(parts.map((p) => p[0]).join(''))).toEqual(new Uint8Array(parts.flatMap((p) => p[1])));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('Unquote fails only with ERR_CORRUPT on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.uint8Array({ maxLength: 20 }).map(decodeUtf8)), (s) => {
        try {
          goUnquote(s);
        } catch (e) {
          expect(isCairnError(e, 'ERR_CORRUPT')).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
