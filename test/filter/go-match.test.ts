/**
 * The Go pieces restic's patterns stand on: filepath.Match (the vectors of Go's own match_test.go,
 * including which patterns are ErrBadPattern), filepath.Clean and strings.ToLower.
 */
import { describe, expect, it } from 'vitest';
import { goClean, goMatch, goToLower, invalidPatterns } from '../../src/filter/index.js';

// Go's path/filepath match_test.go: pattern, name, match, bad pattern.
const GO_MATCH: readonly [string, string, boolean, boolean][] = [
  ['abc', 'abc', true, false], ['*', 'abc', true, false], ['*c', 'abc', true, false], ['a*', 'a', true, false],
  ['a*', 'abc', true, false], ['a*', 'ab/c', false, false], ['a*/b', 'abc/b', true, false], ['a*/b', 'a/c/b', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true, false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false, false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false, false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true, false], ['a*b?c*x', 'abxbbxdbxebxczzy', false, false],
  ['ab[c]', 'abc', true, false], ['ab[b-d]', 'abc', true, false], ['ab[e-g]', 'abc', false, false],
  ['ab[^c]', 'abc', false, false], ['ab[^b-d]', 'abc', false, false], ['ab[^e-g]', 'abc', true, false],
  ['a\\*b', 'a*b', true, false], ['a\\*b', 'ab', false, false], ['a?b', 'a☺b', true, false], ['a[^a]b', 'a☺b', true, false],
  ['a???b', 'a☺b', false, false], ['a[^a][^a][^a]b', 'a☺b', false, false], ['[a-ζ]*', 'α', true, false],
  ['*[a-ζ]', 'A', false, false], ['a?b', 'a/b', false, false], ['a*b', 'a/b', false, false],
  ['[\\]a]', ']', true, false], ['[\\-]', '-', true, false], ['[x\\-]', 'x', true, false], ['[x\\-]', '-', true, false],
  ['[x\\-]', 'z', false, false], ['[\\-x]', 'x', true, false], ['[\\-x]', '-', true, false], ['[\\-x]', 'a', false, false],
  ['[]a]', ']', false, true], ['[-]', '-', false, true], ['[x-]', 'x', false, true], ['[x-]', '-', false, true],
  ['[x-]', 'z', false, true], ['[-x]', 'x', false, true], ['[-x]', '-', false, true], ['[-x]', 'a', false, true],
  ['\\', 'a', false, true], ['[a-b-c]', 'a', false, true], ['[', 'a', false, true], ['[^', 'a', false, true],
  ['[^bc', 'a', false, true], ['a[', 'a', false, true], ['a[', 'ab', false, true], ['a[', 'x', false, true],
  ['a/b[', 'x', false, true], ['*x', 'xxx', true, false],
];

describe('goMatch (filepath.Match)', () => {
  it.each(GO_MATCH)('Match(%j, %j) = %s (bad pattern: %s)', (pattern, name, want, bad) => {
    expect(goMatch(pattern, name)).toBe(want);
    // restic validates each component of a pattern; a one-component pattern stands for Go's check.
    if (!pattern.includes('/')) expect(invalidPatterns([pattern]).length === 1).toBe(bad);
  });

  it('a bad part after a mismatch is still bad (Go 1.16+)', () => {
    expect(invalidPatterns(['x[', 'b*[', 'ok*'])).toEqual(['x[', 'b*[']);
  });
});

describe('goClean (filepath.Clean)', () => {
  it.each([
    ['', '.'], ['.', '.'], ['/', '/'], ['//', '/'], ['a/', 'a'], ['a//b', 'a/b'], ['./a', 'a'], ['a/./b', 'a/b'],
    ['a/../b', 'b'], ['a/..', '.'], ['../a', '../a'], ['a/../..', '..'], ['/..', '/'], ['/../a', '/a'], ['/a/b/../../..', '/'],
    ['**/', '**'],
  ])('Clean(%j) = %j', (input, want) => {
    expect(goClean(input)).toBe(want);
  });
});

describe('goToLower (strings.ToLower)', () => {
  it('maps rune by rune with simple case mapping', () => {
    expect(goToLower('ABC.Txt')).toBe('abc.txt');
    expect(goToLower('ÜNÏCODE')).toBe('ünïcode');
    expect(goToLower('İ')).toBe('i'); // JavaScript gives "i̇" (two code points)
    expect(goToLower('ΟΔΟΣ')).toBe('οδοσ'); // no final-sigma rule
    expect(goToLower('ǅ')).toBe('ǆ');
  });
});
