/**
 * restic's pattern semantics as tables: the vectors of restic 0.14's internal/filter tests
 * (Match, ChildMatch, List/ListWithChild), the examples of doc/040_backup.rst ("Excluding Files"),
 * case-insensitive lists, negation, malformed patterns, byte paths that are not UTF-8, and the two
 * predicates built on them (backup excludes, restore selection).
 */
import { describe, expect, it } from 'vitest';
import {
  childMatchPattern, compileExcludes, compilePatterns, invalidPatterns, matchPattern, restoreSelector,
} from '../../src/filter/index.js';
import { codeOf } from '../helpers/errors.js';

// restic 0.14 internal/filter/filter_test.go, matchTests (pattern, path, match); the c:/ rows
// are Windows-only there and behave the same on Unix.
const MATCH: readonly [string, string, boolean][] = [
  ['', '', true], ['', 'foo', true], ['', '/x/y/z/foo', true],
  ['*.go', '/foo/bar/test.go', true], ['*.c', '/foo/bar/test.go', false], ['*', '/foo/bar/test.go', true],
  ['**', '/foo/bar/test.go', true], ['foo*', '/foo/bar/test.go', true], ['bar*', '/foo/bar/test.go', true],
  ['/bar*', '/foo/bar/test.go', false], ['bar/*', '/foo/bar/test.go', true], ['baz/*', '/foo/bar/test.go', false],
  ['bar/test.go', '/foo/bar/test.go', true], ['bar/*.go', '/foo/bar/test.go', true], ['ba*/*.go', '/foo/bar/test.go', true],
  ['bb*/*.go', '/foo/bar/test.go', false], ['test.*', '/foo/bar/test.go', true], ['tesT.*', '/foo/bar/test.go', false],
  ['bar/*', '/foo/bar/baz', true], ['bar', '/foo/bar', true], ['/foo/bar', '/foo/bar', true], ['/foo/bar/', '/foo/bar', true],
  ['/foo/bar', '/foo/baz', false], ['/foo/bar', '/foo/baz/', false], ['/foo///bar', '/foo/bar', true],
  ['/foo/../bar', '/foo/bar', false], ['/foo/../bar', '/bar', true], ['/foo', '/foo/baz', true], ['/foo/', '/foo/baz', true],
  ['/foo/*', '/foo', false], ['/foo/*', '/foo/baz', true], ['bar', '/foo/bar/baz', true], ['bar', '/foo/bar/test.go', true],
  ['/foo/*test.*', '/foo/bar/test.go', false], ['/foo/*/test.*', '/foo/bar/test.go', true],
  ['/foo/*/bar/test.*', '/foo/bar/test.go', false], ['/*/*/bar/test.*', '/foo/bar/test.go', false],
  ['/*/*/bar/test.*', '/foo/bar/baz/test.go', false], ['/*/*/baz/test.*', '/foo/bar/baz/test.go', true],
  ['/*/foo/bar/test.*', '/foo/bar/baz/test.go', false], ['/foo/bar/test.*', 'bar/baz/test.go', false],
  ['/x/y/bar/baz/test.*', 'bar/baz/test.go', false], ['/x/y/bar/baz/test.c', 'bar/baz/test.go', false],
  ['baz/test.*', 'bar/baz/test.go', true], ['baz/tesT.*', 'bar/baz/test.go', false], ['test.go', 'bar/baz/test.go', true],
  ['*.go', 'bar/baz/test.go', true], ['*.c', 'bar/baz/test.go', false], ['sdk', '/foo/bar/sdk', true],
  ['sdk', '/foo/bar/sdk/test/sdk_foo.go', true],
  ['sdk/*/cpp/*/*vars*.html', '/usr/share/doc/libreoffice/sdk/docs/cpp/ref/a00517.html', false],
  ['foo/**/bar/*.go', '/home/user/foo/work/special/project/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/bar/test.go', true], ['foo/**/bar/*.go', 'x/foo/bar/test.go', true],
  ['foo/**/bar/*.go', 'foo/bar/test.go', true], ['foo/**/bar/*.go', 'foo/bar/baz/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/test.c', false], ['foo/**/bar/*.go', 'bar/foo/main.go', false],
  ['foo/**/bar/*.go', '/foo/bar/main.go', true], ['foo/**/bar/*.go', 'bar/main.go', false],
  ['foo/**/bar', '/home/user/foo/x/y/bar', true], ['foo/**/bar', '/home/user/foo/x/y/bar/main.go', true],
  ['foo/**/bar/**/x', '/home/user/foo/bar/x', true], ['foo/**/bar/**/x', '/home/user/foo/blaaa/blaz/bar/shared/work/x', true],
  ['user/**/important*', '/home/user/work/x/y/hidden/x', false], ['user/**/hidden*/**/c', '/home/user/work/x/y/hidden/z/a/b/c', true],
  ['c:/foo/*test.*', 'c:/foo/bar/test.go', false], ['c:/foo', 'c:/foo/bar', true], ['c:/foo/', 'c:/foo/bar', true],
  ['c:/foo/*/test.*', 'c:/foo/bar/test.go', true], ['c:/foo/*/bar/test.*', 'c:/foo/bar/test.go', false],
  // restic's examples (ExampleMatch, ExampleMatch_wildcards).
  ['*.go', '/home/user/file.go', true], ['/home/[uU]ser/?.go', '/home/user/F.go', true],
];

// childMatchTests of the same file.
const CHILD: readonly [string, string, boolean][] = [
  ['', '', true], ['', '/foo', true], ['', '/x/y/z/foo', true], ['foo/bar', '/foo', true], ['baz/bar', '/foo', true],
  ['foo', '/foo/bar', true], ['bar', '/foo', true], ['baz', '/foo/bar', true], ['*', '/foo', true], ['*', '/foo/bar', true],
  ['/foo/bar', '/foo', true], ['/foo/bar/baz', '/foo', true], ['/foo/bar/baz', '/foo/bar', true], ['/foo/bar/baz', '/foo/baz', false],
  ['/foo/**/baz', '/foo/bar/baz', true], ['/foo/**/baz', '/foo/bar/baz/blah', true], ['/foo/**/qux', '/foo/bar/baz/qux', true],
  ['/foo/**/qux', '/foo/bar/baz', true], ['/foo/**/qux', '/foo/bar/baz/boo', true], ['/foo/**', '/foo/bar/baz', true],
  ['/foo/**', '/foo/bar', true], ['foo/**/bar/**/x', '/home/user/foo', true], ['foo/**/bar/**/x', '/home/user/foo/bar', true],
  ['foo/**/bar/**/x', '/home/user/foo/blaaa/blaz/bar/shared/work/x', true], ['/foo/*/qux', '/foo/bar', true],
  ['/foo/*/qux', '/foo/bar/boo', false], ['/foo/*/qux', '/foo/bar/boo/xx', false], ['/baz/bar', '/foo', false],
  ['/foo', '/foo/bar', true], ['/*', '/foo', true], ['/*', '/foo/bar', true], ['/**', '/foo', true], ['/*/**', '/foo', true],
  ['/*/**', '/foo/bar', true], ['/*/bar', '/foo', true], ['/bar/*', '/foo', false], ['/foo/*/baz', '/foo/bar', true],
  ['/foo/*/baz', '/foo/baz', true], ['/foo/*/baz', '/bar/baz', false], ['/**/*', '/foo', true], ['/**/bar', '/foo/bar', true],
];

// filterListTests: patterns, path, List result, ListWithChild's childMayMatch.
const LIST: readonly [string[], string, boolean, boolean][] = [
  [[], '/foo/bar/test.go', false, false],
  [['*.go'], '/foo/bar/test.go', true, true], [['*.go'], '/foo/bar', false, true], [['*.c'], '/foo/bar/test.go', false, true],
  [['*.go', '*.c'], '/foo/bar/test.go', true, true], [['*'], '/foo/bar/test.go', true, true], [['x'], '/foo/bar/test.go', false, true],
  [['?'], '/foo/bar/test.go', false, true], [['?', 'x'], '/foo/bar/x', true, true],
  [['/*/*/bar/test.*'], '/foo/bar/test.go', false, false], [['/*/*/bar/test.*'], '/foo/bar/bar', false, true],
  [['/*/*/bar/test.*', '*.go'], '/foo/bar/test.go', true, true], [['', '*.c'], '/foo/bar/test.go', false, true],
  [['!**', '*.go'], '/foo/bar/test.go', true, true], [['!**', '*.c'], '/foo/bar/test.go', false, true],
  [['/foo/*/test.*', '!*.c'], '/foo/bar/test.c', false, false], [['/foo/*/test.*', '!*.c'], '/foo/bar/test.go', true, true],
  [['/foo/*/*', '!test.*', '*.c'], '/foo/bar/test.go', false, true], [['/foo/*/*', '!test.*', '*.c'], '/foo/bar/test.c', true, true],
  [['/foo/*/*', '!test.*', '*.c'], '/foo/bar/file.go', true, true],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar'], '/foo/other/test.go', true, true],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar'], '/foo/bar', false, false],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar'], '/foo/bar/test.go', false, false],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar'], '/foo/bar/test.go/child', false, false],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar', '/foo/bar/test*'], '/foo/bar/test.go/child', true, true],
  [['/foo/bar/*'], '/foo', false, true], [['/foo/bar/*', '!/foo/bar/[a-m]*'], '/foo', false, true],
  [['/foo/**/test.c'], '/foo/bar/foo/bar/test.c', true, true], [['/foo/*/test.c'], '/foo/bar/foo/bar/test.c', false, false],
];

describe('restic patterns: restic 0.14 filter tests', () => {
  it.each(MATCH)('Match(%j, %j) = %s', (pattern, path, want) => {
    expect(matchPattern(pattern, path)).toBe(want);
  });

  it.each(CHILD)('ChildMatch(%j, %j) = %s', (pattern, path, want) => {
    expect(childMatchPattern(pattern, path)).toBe(want);
  });

  it.each(LIST)('List(%j, %j) = %s, child %s', (patterns, path, match, child) => {
    const set = compilePatterns(patterns);
    expect(set.matches(path)).toBe(match);
    expect(set.verdict(path)).toEqual({ matched: match, childMayMatch: child });
    expect(set.childMayMatch(path)).toBe(child);
  });

  it('an empty path matches nothing in a list', () => {
    expect(compilePatterns(['test']).matches('')).toBe(false);
  });
});

describe('restic patterns: doc/040_backup.rst examples', () => {
  it('a pattern matches whole components, anywhere for a relative one', () => {
    const foo = compilePatterns(['foo']);
    expect(foo.matches('/dir1/foo/dir2/file')).toBe(true);
    expect(foo.matches('/dir/foo')).toBe(true);
    expect(foo.matches('/dir/foobar')).toBe(false);
    expect(foo.matches('/dir/barfoo')).toBe(false);
  });

  it('a leading / anchors at the root; a trailing / is ignored', () => {
    const bin = compilePatterns(['/bin']);
    expect(bin.matches('/bin/bash')).toBe(true);
    expect(bin.matches('/usr/bin/restic')).toBe(false);
    expect(compilePatterns(['bin/']).matches('/usr/bin')).toBe(true);
  });

  it('* does not cross a slash, ** spans directories', () => {
    const bash = compilePatterns(['b*ash']);
    expect(bash.matches('/bin/bash')).toBe(true);
    expect(bash.matches('/bin/ash')).toBe(false);
    const fb = compilePatterns(['foo/**/bar']);
    for (const p of ['/dir1/foo/dir2/bar/file', '/foo/bar/file', '/tmp/foo/bar']) expect(fb.matches(p)).toBe(true);
  });

  it('the excludes.txt example: *.c, *.go and foo/**/bar', () => {
    const ex = compileExcludes({ exclude: ['*.c', '*.go', 'foo/**/bar'] });
    expect(ex.excludes('/home/u/work/main.c')).toBe(true);
    expect(ex.excludes('/home/u/work/main.go')).toBe(true);
    expect(ex.excludes('/home/u/work/foo/x/y/z/bar')).toBe(true);
    expect(ex.excludes('/home/u/work/foo/bar')).toBe(true);
    expect(ex.excludes('/home/u/work/bar')).toBe(false);
    expect(ex.excludes('/home/u/work/main.rs')).toBe(false);
  });

  it('negation: exclude everything in $HOME, then bring back some directories', () => {
    const ex = compileExcludes({ exclude: ['/home/ann/**/*', '!/home/ann/Documents', '!/home/ann/code', 'node_modules', '*.o'] });
    expect(ex.excludes('/home/ann/Downloads')).toBe(true);
    expect(ex.excludes('/home/ann/Documents')).toBe(false);
    expect(ex.excludes('/home/ann/Documents/cv.pdf')).toBe(false);
    expect(ex.excludes('/home/ann/code/x/node_modules')).toBe(true);
    expect(ex.excludes('/home/ann/code/x/main.o')).toBe(true);
    expect(ex.excludes('/home/ann')).toBe(false);
  });
});

describe('restic patterns: details', () => {
  it('a negation cannot bring back what lies below a left-out directory (a/** matches a itself)', () => {
    const set = compilePatterns(['foo/**', '!foo/bar']);
    expect(set.matches('/x/foo')).toBe(true);
    expect(set.matches('/x/foo/bar')).toBe(false);
  });

  it("restic's bound on ** expansion: /**/b/** matches /x/b/c but not /x/b or /b", () => {
    const set = compilePatterns(['/**/b/**']);
    expect(set.matches('/x/b')).toBe(false);
    expect(set.matches('/x/b/c')).toBe(true);
    expect(set.matches('/b')).toBe(false);
    expect(set.matches('/b/c')).toBe(true);
  });

  it('the pattern "/" (or "/..") matches every absolute path', () => {
    expect(compilePatterns(['/']).matches('/a/b')).toBe(true);
    expect(compilePatterns(['/..']).matches('/a')).toBe(true);
  });

  it('Go class syntax: [^x] negates, [!x] is a set of ! and x; escapes', () => {
    expect(matchPattern('*[^x].md', '/README.md')).toBe(true);
    expect(matchPattern('*[!x].md', '/README.md')).toBe(false);
    expect(matchPattern('*[!x].md', '/a!.md')).toBe(true);
    expect(matchPattern('\\[a\\]', '/[a]')).toBe(true);
    expect(matchPattern('star\\*', '/star*')).toBe(true);
    expect(matchPattern('star\\*', '/starx')).toBe(false);
  });

  it('case-insensitive lists lower-case pattern and path (Unicode, simple mapping)', () => {
    const set = compilePatterns(['*.JPG', 'ÜBER', 'İ'], { caseInsensitive: true });
    expect(set.matches('/Photos/A.jpg')).toBe(true);
    expect(set.matches('/x/über/y')).toBe(true);
    expect(set.matches('/x/i')).toBe(true);
    expect(compilePatterns(['*.JPG']).matches('/a.jpg')).toBe(false);
  });

  it('byte paths: ? and * see an invalid byte as one rune', () => {
    const bad = Uint8Array.from([0x2f, 0x62, 0x61, 0x64, 0xff, 0x2e, 0x74]); // "/bad\xff.t"
    expect(compilePatterns(['bad?.t']).matches(bad)).toBe(true);
    expect(compilePatterns(['bad*']).matches(bad)).toBe(true);
    expect(compilePatterns(['bad.t']).matches(bad)).toBe(false);
    expect(compilePatterns(['BAD?.T'], { caseInsensitive: true }).matches(bad)).toBe(true);
  });

  it('malformed patterns are refused up front, all of them named', () => {
    expect(invalidPatterns(['ok', 'test/[', 'a\\', '[]a]', '', '[a-]', '!x/[^'])).toEqual(['test/[', 'a\\', '[]a]', '[a-]', '!x/[^']);
    expect(codeOf(() => compilePatterns(['*.go', 'test/**/[']))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => compilePatterns(['a[', 'b\\'])).toThrow(expect.objectContaining({ data: { patterns: ['a[', 'b\\'] } }));
  });
});

describe('backup excludes and restore selection', () => {
  it('--exclude and --iexclude are separate lists: a negation in one does not undo the other', () => {
    const ex = compileExcludes({ exclude: ['docs/*', '!docs/a.txt'], iexclude: ['DOCS/A.TXT'] });
    expect(ex.excludes('/r/docs/a.txt')).toBe(true);
    expect(ex.excludes('/r/docs/b.txt')).toBe(true);
    expect(ex.excludes('/r/docs')).toBe(false);
    expect(compileExcludes({}).isEmpty).toBe(true);
  });

  it('restore --include: selected when matched, descend where something below may match', () => {
    const sel = restoreSelector({ include: ['/home/ann/docs/*.md'] })!;
    expect(sel('/home', true)).toEqual({ selected: false, descend: true });
    expect(sel('/home/ann/docs', true)).toEqual({ selected: false, descend: true });
    expect(sel('/home/ann/docs/a.md', false)).toEqual({ selected: true, descend: false });
    expect(sel('/home/bob', true)).toEqual({ selected: false, descend: false });
    const rel = restoreSelector({ include: ['*.md'] })!;
    expect(rel('/anything', true)).toEqual({ selected: false, descend: true });
  });

  it('restore --exclude: a left-out directory is not entered', () => {
    const sel = restoreSelector({ exclude: ['cache'], iexclude: ['*.TMP'] })!;
    expect(sel('/x/cache', true)).toEqual({ selected: false, descend: false });
    expect(sel('/x/a.tmp', false)).toEqual({ selected: false, descend: false });
    expect(sel('/x/src', true)).toEqual({ selected: true, descend: true });
  });

  it('no patterns: no selector; includes with excludes: refused', () => {
    expect(restoreSelector({})).toBeUndefined();
    expect(codeOf(() => restoreSelector({ include: ['a'], iexclude: ['b'] }))).toBe('ERR_INVALID_ARGUMENT');
    // As restic: --include '' is an include list that matches nothing.
    expect(restoreSelector({ include: [''] })!('/a', true)).toEqual({ selected: false, descend: false });
  });
});

describe('spec/patterns.md examples', () => {
  const cases: readonly [string[], string[], string[]][] = [
    [['*.go'], ['/src/main.go', '/x.go'], ['/src/main.c']],
    [['/home/*/.cache'], ['/home/ann/.cache', '/home/ann/.cache/x'], ['/home/ann/src/.cache']],
    [['.*'], ['/p/.git', '/p/.git/config', '/.env'], ['/p/a.b']],
    [['src/*.go'], ['/p/src/a.go'], ['/p/src/sub/b.go']],
    [['**/test'], ['/p/test', '/p/a/test/x'], ['/p/tests']],
    [['[a-c]*.txt'], ['/b.txt', '/d/apple.txt'], ['/d.txt']],
    [['*.txt', '!a.txt'], ['/x/b.txt'], ['/x/a.txt']],
    [['foo/**', '!foo/bar'], ['/foo', '/foo/x'], ['/food']], // /foo/bar alone is not matched, but the walk never gets there
    [['\\[draft\\]*'], ['/[draft] notes'], ['/d notes']],
  ];
  it.each(cases)('%j', (patterns, out, kept) => {
    const set = compilePatterns(patterns);
    for (const p of out) expect(set.matches(p)).toBe(true);
    for (const p of kept) expect(set.matches(p)).toBe(false);
  });

  it('the pattern-file example', async () => {
    const { parseExcludeFile } = await import('../../src/filter/index.js');
    const text = '# build output\n*.o\n$HOME/.cache\n!$HOME/.cache/keep\n${PROJECT}/tmp\nprice$$list.txt\n';
    const patterns = parseExcludeFile(text, { HOME: '/home/ann', PROJECT: 'web' });
    expect(patterns).toEqual(['*.o', '/home/ann/.cache', '!/home/ann/.cache/keep', 'web/tmp', 'price$list.txt']);
    const set = compilePatterns(patterns);
    expect(set.matches('/home/ann/.cache/x')).toBe(true);
    expect(set.matches('/home/ann/.cache/keep')).toBe(false);
    expect(set.matches('/srv/web/tmp/a')).toBe(true);
    expect(set.matches('/d/price$list.txt')).toBe(true);
  });

  it('the negation example', () => {
    const set = compilePatterns(['/home/ann/**/*', '!/home/ann/Documents', '!/home/ann/code', 'node_modules', '*.o']);
    expect(set.matches('/home/ann/Music')).toBe(true);
    expect(set.matches('/home/ann/Documents/cv.pdf')).toBe(false);
    expect(set.matches('/home/ann/code/app/node_modules')).toBe(true);
  });
});
