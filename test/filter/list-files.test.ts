/**
 * The list files restic 0.14 reads: --exclude-file (trim, comments, os.Expand; checked against
 * restic: BOM, CRLF, `$$`, `${VAR}`, `~` kept), --files-from (trim, comments, filepath.Glob),
 * --files-from-verbatim and --files-from-raw, and the text decoding restic applies to them.
 */
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeTextFile, expandGlob, goExpand, goTrimSpace, parseExcludeFile, parseFilesFrom, parseFilesFromRaw, parseFilesFromVerbatim,
  scanLines, type GlobFs,
} from '../../src/filter/index.js';
import { codeOf } from '../helpers/errors.js';

const enc = new TextEncoder();

describe('goExpand (os.Expand)', () => {
  // Go's os/env_test.go vectors with its test mapping.
  const env: Record<string, string> = {
    '*': 'all the args', '#': 'NARGS', $: 'PID', '1': 'ARGUMENT1', HOME: '/usr/gopher', H: '(Value of H)', home_1: '/usr/foo', _: 'underscore',
  };
  it.each([
    ['', ''], ['$*', 'all the args'], ['$$', 'PID'], ['${*}', 'all the args'], ['$1', 'ARGUMENT1'], ['${1}', 'ARGUMENT1'],
    ['now is the time', 'now is the time'], ['$HOME', '/usr/gopher'], ['$home_1', '/usr/foo'], ['${HOME}', '/usr/gopher'],
    ['${H}OME', '(Value of H)OME'], ['A$$$#$1$H$home_1*B', 'APIDNARGSARGUMENT1(Value of H)/usr/foo*B'],
    ['start$+middle$^end$', 'start$+middle$^end$'], ['mixed$|bag$$$', 'mixed$|bagPID$'], ['$', '$'], ['$}', '$}'],
    ['${', ''], ['${}', ''], ['$_x', ''], ['${_}x', 'underscorex'],
  ])('Expand(%j) = %j', (input, want) => {
    expect(goExpand(input, (k) => env[k] ?? '')).toBe(want);
  });
});

describe('parseExcludeFile', () => {
  it('trims, skips blank and # lines, expands $VAR and ${VAR}, $$ is $, ~ stays (as restic 0.14 does)', () => {
    const text = '\ufeff  *.go  \r\n   # comment\r\n\r\n\t\n$$x\n~/h\n$NAME/keep.txt\n${NAME2}.TXT\n\\#c\n!$NAME/*.o\n$UNSET\nlast';
    expect(parseExcludeFile(text, { NAME: 'a', NAME2: 'A' })).toEqual(['*.go', '$x', '~/h', 'a/keep.txt', 'A.TXT', '\\#c', '!a/*.o', 'last']);
  });

  it('reads bytes as restic reads a file: UTF-8 BOM dropped, UTF-16 with a BOM decoded', () => {
    expect(parseExcludeFile(Uint8Array.from([0xef, 0xbb, 0xbf, ...enc.encode('a\nb')]), {})).toEqual(['a', 'b']);
    const utf16le = Uint8Array.from([0xff, 0xfe, ...Buffer.from('x*\r\n# c\r\ny\r\n', 'utf16le')]);
    expect(parseExcludeFile(utf16le, {})).toEqual(['x*', 'y']);
    const utf16be = Buffer.from('x*\ny', 'utf16le').swap16();
    expect(parseExcludeFile(Uint8Array.from([0xfe, 0xff, ...utf16be]), {})).toEqual(['x*', 'y']);
  });

  it('trims Unicode space as Go does (not U+FEFF inside the text)', () => {
    expect(goTrimSpace('\u00a0\u2003a b\u3000\u0085')).toBe('a b');
    expect(goTrimSpace('\ufeffa')).toBe('\ufeffa');
  });
});

describe('scanLines (bufio.ScanLines)', () => {
  it.each([
    ['', []], ['a', ['a']], ['a\n', ['a']], ['a\n\n', ['a', '']], ['a\r\nb\r', ['a', 'b']], ['\r\n', ['']], ['a\r\r\n', ['a\r']],
  ])('%j', (text, want) => {
    expect(scanLines(text)).toEqual(want);
  });
});

describe('--files-from and friends', () => {
  it('--files-from: trimmed patterns, blank and # lines skipped', () => {
    expect(parseFilesFrom('  t/a/*.txt  \r\n# t/d\n\n t/d/b\n#x\nt/~\n')).toEqual(['t/a/*.txt', 't/d/b', 't/~']);
  });

  it('--files-from-verbatim: every non-empty line as is', () => {
    expect(parseFilesFromVerbatim('  t/a/x.txt\n#t/d\n\nt/A.TXT\r\n* [x]\n')).toEqual(['  t/a/x.txt', '#t/d', 't/A.TXT', '* [x]']);
  });

  it('--files-from-raw: NUL-terminated raw names; a missing NUL or an empty name is an error', () => {
    const names = parseFilesFromRaw(Uint8Array.from([0x61, 0x0a, 0x62, 0, 0xff, 0]));
    expect(names.map((n) => [...n])).toEqual([[0x61, 0x0a, 0x62], [0xff]]);
    expect(parseFilesFromRaw(new Uint8Array(0))).toEqual([]);
    expect(codeOf(() => parseFilesFromRaw(enc.encode('a\0b')))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => parseFilesFromRaw(enc.encode('a\0\0')))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('decodeTextFile keeps invalid bytes as U+FFFD, one per byte (Go)', () => {
    expect(decodeTextFile(Uint8Array.from([0x61, 0xe2, 0x82, 0x62]))).toBe('a\ufffd\ufffdb');
  });
});

/** A tiny in-memory file system: paths of files, and directories ending in '/'. */
function memFs(entries: readonly string[]): GlobFs {
  const dirs = new Set<string>(['.', '/']);
  const files = new Set<string>();
  for (const e of entries) {
    const p = e.replace(/\/$/, '');
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') || '/');
    (e.endsWith('/') ? dirs : files).add(p);
  }
  const norm = (p: string): string => posix.normalize(p).replace(/(.)\/$/, '$1');
  return {
    exists: async (p) => dirs.has(norm(p)) || files.has(norm(p)),
    isDirectory: async (p) => dirs.has(norm(p)),
    readdir: async (p) => {
      const d = norm(p);
      const prefix = d === '.' ? '' : d === '/' ? '/' : `${d}/`;
      return [...dirs, ...files].filter((x) => x.startsWith(prefix) && x !== d && x.length > prefix.length && !x.slice(prefix.length).includes('/')).map((x) => x.slice(prefix.length));
    },
  };
}

describe('expandGlob (filepath.Glob)', () => {
  const fs = memFs(['t/a/x.txt', 't/a/keep.txt', 't/a/.h.txt', 't/b/y.txt', 't/~/h', 'match.go', 'ü.txt', 'Z.txt', 'empty/']);

  it('expands each wildcard level, names sorted by bytes, dot files included', async () => {
    expect(await expandGlob('t/a/*.txt', fs)).toEqual(['t/a/.h.txt', 't/a/keep.txt', 't/a/x.txt']);
    expect(await expandGlob('t/*/*.txt', fs)).toEqual(['t/a/.h.txt', 't/a/keep.txt', 't/a/x.txt', 't/b/y.txt']);
    expect(await expandGlob('*.txt', fs)).toEqual(['Z.txt', 'ü.txt']);
  });

  it('a plain path is kept as written if it exists (not cleaned); glob results are cleaned', async () => {
    expect(await expandGlob('./t//a/x.txt', fs)).toEqual(['./t//a/x.txt']);
    expect(await expandGlob('./t/a/k*', fs)).toEqual(['t/a/keep.txt']);
    expect(await expandGlob('t/~', fs)).toEqual(['t/~']);
    expect(await expandGlob('t/nope', fs)).toEqual([]);
    expect(await expandGlob('t/n*', fs)).toEqual([]);
  });

  it('a backslash makes a pattern (Go: Glob(`\\match.go`) = [match.go])', async () => {
    expect(await expandGlob('\\match.go', fs)).toEqual(['match.go']);
  });

  it('a malformed pattern is an error even where nothing could match', async () => {
    await expect(expandGlob('zz[', fs)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(expandGlob('nonexist/[]', fs)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(expandGlob('/*' + '/'.repeat(10001), fs)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
