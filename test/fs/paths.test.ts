/** Paths in messages: readable, and never a way for a crafted name to reach the terminal raw. */
import { describe, expect, it } from 'vitest';
import { displayPath, joinPath } from '../../src/fs/paths.js';

const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('displayPath', () => {
  it('shows valid UTF-8 without controls as it is', () => {
    expect(displayPath(bytes('/home/ann/café ☃ 日本.txt'))).toBe('/home/ann/café ☃ 日本.txt');
    expect(displayPath(bytes('/back\\slash'))).toBe('/back\\slash');
  });

  it('escapes controls (newline, ESC, DEL, C1) so that no name can inject terminal sequences', () => {
    const shown = displayPath(bytes('/x\n\x1b[31mred\x7f', [0xc2, 0x85]));
    expect(shown).toBe('/x\\x0a\\x1b[31mred\\x7f\\xc2\\x85');
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('escapes invalid UTF-8 bytes, keeps valid non-ASCII, doubles backslashes once escaping', () => {
    expect(displayPath(bytes('/a', [0xff, 0xfe], '\\', [0xc3, 0xa9]))).toBe('/a\\xff\\xfe\\\\é');
    // A truncated sequence at the end.
    expect(displayPath(bytes('/z', [0xe2, 0x98]))).toBe('/z\\xe2\\x98');
  });

  it('passes strings through and handles a view into a larger buffer', () => {
    expect(displayPath('as typed')).toBe('as typed');
    const big = bytes('junk/', [0xff], '/ok');
    expect(displayPath(big.subarray(5))).toBe('\\xff/ok');
  });
});

describe('joinPath', () => {
  it('joins with exactly one slash, bytes untouched', () => {
    expect(joinPath(bytes('/a'), bytes([0xff]))).toEqual(bytes('/a/', [0xff]));
    expect(joinPath(bytes('/'), bytes('b'))).toEqual(bytes('/b'));
    expect(joinPath(bytes(''), bytes('b'))).toEqual(bytes('b'));
  });
});
