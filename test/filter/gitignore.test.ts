/**
 * .gitignore rules as git applies them: the examples of gitignore(5), parsing details (comments,
 * trailing spaces, escapes, CRLF, BOM), precedence (later rules, deeper files), the "cannot
 * re-include below an excluded directory" rule, and the push/pop stack a walker uses.
 */
import { describe, expect, it } from 'vitest';
import { GitIgnore, GitIgnoreStack, parseGitIgnore } from '../../src/filter/index.js';

/** A stack with one .gitignore per directory: [dir, text] pairs, top down. */
function stack(...files: [string, string | Uint8Array][]): GitIgnore {
  return files.reduce((g, [dir, text]) => g.with(dir, text), GitIgnore.EMPTY);
}

describe('gitignore(5) examples', () => {
  it('hello.* matches any file or directory whose name starts with hello.', () => {
    const g = stack(['/r', 'hello.*']);
    expect(g.ignored('/r/hello.txt', false)).toBe(true);
    expect(g.ignored('/r/a/b/hello.c', false)).toBe(true);
    expect(g.ignored('/r/a/hello.d', true)).toBe(true);
    expect(g.ignored('/r/hello', false)).toBe(false);
  });

  it('doc/frotz/ matches the directory doc/frotz but not a/doc/frotz; frotz/ matches frotz and a/frotz directories', () => {
    const g = stack(['/r', 'doc/frotz/']);
    expect(g.ignored('/r/doc/frotz', true)).toBe(true);
    expect(g.ignored('/r/doc/frotz', false)).toBe(false);
    expect(g.ignored('/r/a/doc/frotz', true)).toBe(false);
    const h = stack(['/r', 'frotz/']);
    expect(h.ignored('/r/frotz', true)).toBe(true);
    expect(h.ignored('/r/a/frotz', true)).toBe(true);
    expect(h.ignored('/r/a/frotz', false)).toBe(false);
  });

  it('doc/frotz and /doc/frotz have the same effect', () => {
    for (const p of ['doc/frotz', '/doc/frotz']) {
      const g = stack(['/r', p]);
      expect(g.ignored('/r/doc/frotz', false)).toBe(true);
      expect(g.ignored('/r/x/doc/frotz', false)).toBe(false);
    }
  });

  it('foo/* matches foo/test.json and foo/bar, not foo/bar/hello.c (the walker stops at foo/bar anyway)', () => {
    const g = stack(['/r', 'foo/*']);
    expect(g.ignored('/r/foo/test.json', false)).toBe(true);
    expect(g.ignored('/r/foo/bar', true)).toBe(true);
    expect(g.ignored('/r/foo/bar/hello.c', false)).toBe(false);
    expect(g.ignoredWithParents('/r/foo/bar/hello.c', false)).toBe(true);
    expect(g.ignored('/r/foo', true)).toBe(false);
  });

  it('**/foo matches foo anywhere; **/foo/bar matches bar directly under any foo', () => {
    const g = stack(['/r', '**/foo']);
    expect(g.ignored('/r/foo', false)).toBe(true);
    expect(g.ignored('/r/a/b/foo', true)).toBe(true);
    const h = stack(['/r', '**/foo/bar']);
    expect(h.ignored('/r/foo/bar', false)).toBe(true);
    expect(h.ignored('/r/x/foo/bar', false)).toBe(true);
    expect(h.ignored('/r/x/foo/y/bar', false)).toBe(false);
  });

  it('abc/** matches everything inside abc, not abc itself', () => {
    const g = stack(['/r', 'abc/**']);
    expect(g.ignored('/r/abc', true)).toBe(false);
    expect(g.ignored('/r/abc/x', false)).toBe(true);
    expect(g.ignored('/r/abc/x/y', false)).toBe(true);
  });

  it('a/**/b matches a/b, a/x/b, a/x/y/b', () => {
    const g = stack(['/r', 'a/**/b']);
    for (const p of ['/r/a/b', '/r/a/x/b', '/r/a/x/y/b']) expect(g.ignored(p, false)).toBe(true);
    expect(g.ignored('/r/a/xb', false)).toBe(false);
  });

  it('/* !/foo /foo/* !/foo/bar keeps only foo/bar', () => {
    const g = stack(['/r', '/*\n!/foo\n/foo/*\n!/foo/bar\n']);
    expect(g.ignored('/r/x', false)).toBe(true);
    expect(g.ignored('/r/foo', true)).toBe(false);
    expect(g.ignored('/r/foo/baz', false)).toBe(true);
    expect(g.ignored('/r/foo/bar', true)).toBe(false);
  });

  it('a file cannot be re-included if its parent directory is excluded', () => {
    const g = stack(['/r', 'build/\n!build/keep.txt\n']);
    expect(g.ignored('/r/build', true)).toBe(true);
    expect(g.ignored('/r/build/keep.txt', false)).toBe(false); // the rule alone…
    expect(g.ignoredWithParents('/r/build/keep.txt', false)).toBe(true); // …but git never gets there
    expect(g.explain('/r/build/keep.txt', false)?.rule.pattern).toBe('build');
  });

  it('*.html with !foo.html', () => {
    const g = stack(['/r', '*.html\n!foo.html\n']);
    expect(g.ignored('/r/a.html', false)).toBe(true);
    expect(g.ignored('/r/d/foo.html', false)).toBe(false);
  });
});

describe('gitignore parsing', () => {
  it('comments, blank lines, escapes, trailing spaces, CRLF, BOM', () => {
    const text = '\ufeff# comment\n\n\\#hash\n\\!bang\nsp  \nesc\\ \nesc2\\  \ntab\t\r\n  lead\n!\n/\n';
    expect(parseGitIgnore(text).map((r) => [r.pattern, r.line, r.negated, r.dirOnly, r.basename])).toEqual([
      ['\\#hash', 3, false, false, true],
      ['\\!bang', 4, false, false, true],
      ['sp', 5, false, false, true],
      ['esc\\ ', 6, false, false, true],
      ['esc2\\ ', 7, false, false, true],
      ['tab\t', 8, false, false, true],
      ['  lead', 9, false, false, true],
    ]);
    const g = stack(['/r', text]);
    expect(g.ignored('/r/#hash', false)).toBe(true);
    expect(g.ignored('/r/!bang', false)).toBe(true);
    expect(g.ignored('/r/sp', false)).toBe(true);
    expect(g.ignored('/r/esc ', false)).toBe(true);
    expect(g.ignored('/r/esc2 ', false)).toBe(true);
    expect(g.ignored('/r/tab\t', false)).toBe(true);
    expect(g.ignored('/r/  lead', false)).toBe(true);
    expect(g.ignored('/r/lead', false)).toBe(false);
  });

  it('a trailing backslash or an unclosed class matches nothing', () => {
    const g = stack(['/r', 'a\\\nb[\n']);
    expect(g.ignored('/r/a', false)).toBe(false);
    expect(g.ignored('/r/a\\', false)).toBe(false);
    expect(g.ignored('/r/b[', false)).toBe(false);
  });

  it('* and ? do not cross a slash in path rules; [...] does not match a slash', () => {
    const g = stack(['/r', 'a/*.c\nx?y/z\n']);
    expect(g.ignored('/r/a/b.c', false)).toBe(true);
    expect(g.ignored('/r/a/b/c.c', false)).toBe(false);
    expect(g.ignored('/r/xay/z', false)).toBe(true);
  });
});

describe('gitignore precedence', () => {
  it('the last matching rule wins; a deeper .gitignore is asked first', () => {
    const g = stack(['/r', '*.log\n!keep.log\n'], ['/r/sub', 'keep.log\n!*.log\n']);
    expect(g.ignored('/r/a.log', false)).toBe(true);
    expect(g.ignored('/r/keep.log', false)).toBe(false);
    expect(g.ignored('/r/sub/a.log', false)).toBe(false);
    expect(g.ignored('/r/sub/keep.log', false)).toBe(false);
    expect(g.explain('/r/sub/a.log', false)).toMatchObject({ dir: '/r/sub', source: '/r/sub/.gitignore', ignored: false, rule: { line: 2 } });
  });

  it('rules of a subdirectory are relative to it and do not apply elsewhere', () => {
    const g = stack(['/r', ''], ['/r/sub', '/x\ny/z\n']);
    expect(g.ignored('/r/sub/x', false)).toBe(true);
    expect(g.ignored('/r/sub/q/x', false)).toBe(false);
    expect(g.ignored('/r/sub/y/z', false)).toBe(true);
    expect(g.ignored('/r/x', false)).toBe(false);
    expect(g.ignored('/r/other/x', false)).toBe(false);
  });

  it('a directory\'s own .gitignore does not decide the directory itself', () => {
    const g = stack(['/r', ''], ['/r/d', 'd\n']);
    expect(g.ignoredWithParents('/r/d', true)).toBe(false);
    expect(g.ignored('/r/d/d', true)).toBe(true);
  });

  it('.git is an ordinary name', () => {
    expect(stack(['/r', '*.o']).ignored('/r/.git', true)).toBe(false);
    expect(stack(['/r', '.git/']).ignored('/r/.git', true)).toBe(true);
  });

  it('the root directory and byte paths work', () => {
    const g = stack(['/', 'tmp/\n']);
    expect(g.ignored('/tmp', true)).toBe(true);
    expect(g.ignored('/x/tmp', true)).toBe(true);
    const bad = Uint8Array.from([0x2f, 0x72, 0x2f, 0x61, 0xff]); // "/r/a\xff"
    expect(stack(['/r', 'a?']).ignored(bad, false)).toBe(true);
    expect(stack(['/r', Uint8Array.from([0x61, 0xff])]).ignored(bad, false)).toBe(true);
  });
});

describe('GitIgnoreStack', () => {
  it('push/pop pair per directory, with or without a .gitignore', () => {
    const s = new GitIgnoreStack();
    s.push('/r', '*.tmp\n');
    expect(s.ignored('/r/a.tmp', false)).toBe(true);
    s.push('/r/a', undefined);
    s.push('/r/a/b', '!x.tmp\n');
    expect(s.ignored('/r/a/b/x.tmp', false)).toBe(false);
    expect(s.current.depth).toBe(2);
    s.pop();
    expect(s.ignored('/r/a/x.tmp', false)).toBe(true);
    s.pop();
    s.pop();
    expect(s.ignored('/r/a.tmp', false)).toBe(false);
  });
});

describe('spec/patterns.md --git-ignore example', () => {
  it('applies as described', () => {
    const text = '# .gitignore at the root of the backup (comments are whole lines only)\n*.log\n!important.log\n# only the top-level build directory:\n/build/\n# node_modules directories at any depth:\nnode_modules/\ndocs/**/*.pdf\n';
    const g = stack(['/r', text]);
    expect(g.ignored('/r/a/x.log', false)).toBe(true);
    expect(g.ignored('/r/a/important.log', false)).toBe(false);
    expect(g.ignored('/r/build', true)).toBe(true);
    expect(g.ignored('/r/src/build', true)).toBe(false);
    expect(g.ignored('/r/src/node_modules', true)).toBe(true);
    expect(g.ignored('/r/docs/a/b/x.pdf', false)).toBe(true);
    expect(g.ignored('/r/docs/x.pdf', false)).toBe(true);
    expect(g.ignored('/r/.git', true)).toBe(false);
  });
});
