import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { decodeUtf8, goQuote, goUnquote, isGoPrint, isValidUtf8 } from '../../src/util/index.js';

const enc = new TextEncoder();
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : p)));

describe('goQuote (strconv.Quote without the outer quotes)', () => {
  it.each<[string, Uint8Array, string]>([
    ['plain ASCII', bytes('hello world.txt'), 'hello world.txt'],
    ['quote, backslash and HTML characters', bytes('a"b\\c<>&'), 'a\\"b\\\\c<>&'],
    ["Go's documentation example", bytes('"Fran & Freddie\'s Diner\t☺"'), '\\"Fran & Freddie\'s Diner\\t☺\\"'],
    ['C escapes', bytes('\x07\b\f\n\r\t\v'), '\\a\\b\\f\\n\\r\\t\\v'],
    ['other control characters and DEL', bytes('\x00\x1b\x7f'), '\\x00\\x1b\\x7f'],
    ['an invalid byte', bytes('x', [0xff], 'y'), 'x\\xffy'],
    ['a UTF-8-encoded surrogate', bytes([0xed, 0xa0, 0x80]), '\\xed\\xa0\\x80'],
    ['an overlong slash', bytes([0xc0, 0xaf]), '\\xc0\\xaf'],
    ['above U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), '\\xf4\\x90\\x80\\x80'],
    ['a truncated sequence', bytes([0xe2, 0x82], 'a'), '\\xe2\\x82a'],
    ['printable Unicode', bytes('café 日本 😀 \ufffd'), 'café 日本 😀 \ufffd'],
    ['unprintable BMP runes', bytes('\u00a0\u2028\u2029\ufeff\u200b'), '\\u00a0\\u2028\\u2029\\ufeff\\u200b'],
    ['unprintable astral runes', bytes('\u{e0001}\u{10ffff}'), '\\U000e0001\\U0010ffff'],
    ['empty', bytes(''), ''],
  ])('%s', (_label, input, quoted) => {
    expect(goQuote(input)).toBe(quoted);
    expect(goUnquote(quoted)).toEqual(input);
  });

  it('follows Unicode 13 (Go 1.19, restic 0.14): runes added later are escaped', () => {
    // U+1FAE0 (melting face) arrived in Unicode 14; U+1F97B (sari) in 12.0.
    expect(goQuote(bytes('\u{1fae0}'))).toBe('\\U0001fae0');
    expect(goQuote(bytes('\u{1f97b}'))).toBe('\u{1f97b}');
    expect(isGoPrint(0x20)).toBe(true);
    expect(isGoPrint(0x3000)).toBe(false); // ideographic space (Zs)
    expect(isGoPrint(0xad)).toBe(false); // soft hyphen (Cf)
  });
});

describe('goUnquote (strconv.Unquote of "…")', () => {
  it.each<[string, string, Uint8Array]>([
    ['octal', '\\101\\000\\377', bytes('A', [0, 0xff])],
    ['hex, either case', '\\x41\\xfF', bytes('A', [0xff])],
    ['\\u and \\U', '\\u263a\\U0001F600', bytes('☺😀')],
    ['escaped printable characters', '\\u0041\\x2f', bytes('A/')],
    ['raw control characters other than newline', '\t\r\x01', bytes('\t\r\x01')],
    ['a raw single quote', "it's", bytes("it's")],
    ['raw Unicode', 'é\u2028', bytes('é\u2028')],
  ])('%s', (_label, quoted, expected) => {
    expect(goUnquote(quoted)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['raw double quote', 'a"b'],
    ['raw newline', 'a\nb'],
    ['escaped single quote (only valid in Go rune literals)', "\\'"],
    ['octal above 255', '\\400'],
    ['short octal', '\\12'],
    ['bad octal digit', '\\18x'],
    ['surrogate escape', '\\ud800'],
    ['escape above U+10FFFF', '\\U00110000'],
    ['unknown escape', '\\q'],
    ['JSON-only escape', '\\/'],
    ['trailing backslash', 'abc\\'],
    ['truncated hex', '\\x4'],
    ['bad hex digit', '\\xg0'],
  ])('refuses %s with ERR_CORRUPT', (_label, quoted) => {
    let err: unknown;
    try {
      goUnquote(quoted, 'node name');
    } catch (e) {
      err = e;
    }
    expect(isCairnError(err, 'ERR_CORRUPT')).toBe(true);
    expect((err as Error).message).toContain('node name');
  });
});

describe('UTF-8 as Go sees it', () => {
  it('validates like utf8.Valid', () => {
    expect(isValidUtf8(bytes('café 😀'))).toBe(true);
    expect(isValidUtf8(bytes([0xed, 0xa0, 0x80]))).toBe(false);
    expect(isValidUtf8(bytes([0xf0, 0x9f, 0x98]))).toBe(false);
  });

  it('replaces each byte of an invalid sequence with U+FFFD, as the JSON decoder does', () => {
    // TextDecoder would give a single U+FFFD for the truncated 4-byte sequence.
    expect(decodeUtf8(bytes('a', [0xf0, 0x9f, 0x98], 'b'))).toBe('a\ufffd\ufffd\ufffdb');
    expect(decodeUtf8(bytes('\ufeffx'))).toBe('\ufeffx'); // the BOM is kept (Go rejects it as JSON)
  });
});
