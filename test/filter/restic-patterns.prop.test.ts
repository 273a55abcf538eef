/**
 * Properties of the restic matcher (seeded): the `*literal` / `literal*` shortcuts agree with Go's
 * full filepath.Match on any bytes, and matching is unchanged by how a path is given (text or its
 * UTF-8 bytes) and by the equivalent spellings restic's cleaning accepts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePatterns, goMatch } from '../../src/filter/index.js';

const SEED = 20261124;
const enc = new TextEncoder();

const charArb = fc.constantFrom('a', 'b', '.', 'o', 'é', '☺', ' ', '-');
const litArb = fc.array(charArb, { minLength: 1, maxLength: 4 }).map((a) => a.join(''));
const nameArb = fc.array(charArb, { maxLength: 8 }).map((a) => a.join(''));

describe('restic matcher properties', () => {
  it('*literal and literal* agree with filepath.Match', () => {
    fc.assert(
      fc.property(litArb, nameArb, fc.boolean(), (lit, name, suffix) => {
        const pattern = suffix ? `*${lit}` : `${lit}*`;
        expect(compilePatterns([pattern]).matches(`/${name}`)).toBe(name !== '' && goMatch(pattern, name));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('text and byte paths match alike; a/./b, a//b and a/b/ patterns equal a/b', () => {
    const partArb = fc.constantFrom('a', 'b', '*', '?', '[ab]', '**', 'é*', 'x.o');
    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.array(fc.constantFrom('a', 'b', 'x.o', 'é', 'ab'), { minLength: 1, maxLength: 5 }), (parts, anchored, comps) => {
        const p = (anchored ? '/' : '') + parts.join('/');
        const path = '/' + comps.join('/');
        const want = compilePatterns([p]).matches(path);
        expect(compilePatterns([p]).matches(enc.encode(path))).toBe(want);
        expect(compilePatterns([(anchored ? '/' : '') + parts.join('/./')]).matches(path)).toBe(want);
        expect(compilePatterns([(anchored ? '/' : '') + parts.join('//') + '/']).matches(path)).toBe(want);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
