import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { base64Decode, base64Encode, compactJson, goJsonBytes, goJsonString, JsonReader } from '../../src/util/index.js';

describe('Go JSON strings', () => {
  it.each<[string, string]>([
    ['plain', '"plain"'],
    ['<a&b>', '"\\u003ca\\u0026b\\u003e"'],
    ['q"b\\s', '"q\\"b\\\\s"'],
    ['\n\r\t', '"\\n\\r\\t"'],
    ['\b\f\x00\x1f', '"\\u0008\\u000c\\u0000\\u001f"'],
    ['\x7f/é😀', '"\x7f/é😀"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
  ])('goJsonString(%j) is %s', (s, json) => {
    expect(goJsonString(s)).toBe(json);
  });

  it('writes every byte of invalid UTF-8 as \\ufffd', () => {
    expect(goJsonBytes(new Uint8Array([0x61, 0xff, 0xf0, 0x9f, 0x98, 0x3c]))).toBe('"a\\ufffd\\ufffd\\ufffd\\ufffd\\u003c"');
    expect(goJsonBytes(new TextEncoder().encode('é\u2028'))).toBe('"é\\u2028"');
  });
});

describe('base64 as Go encodes []byte', () => {
  it('encodes with padding', () => {
    expect(base64Encode(new TextEncoder().encode('val'))).toBe('dmFs');
    expect(base64Encode(new Uint8Array([0xff]))).toBe('/w==');
    expect(base64Encode(new Uint8Array([0xff, 0xfe]))).toBe('//4=');
    expect(base64Encode(new Uint8Array(0))).toBe('');
  });

  it('decodes what Go decodes', () => {
    expect(base64Decode('dmFs')).toEqual(new TextEncoder().encode('val'));
    expect(base64Decode('dm\r\nFs')).toEqual(new TextEncoder().encode('val'));
    expect(base64Decode('/w==')).toEqual(new Uint8Array([0xff]));
    expect(base64Decode('/x==')).toEqual(new Uint8Array([0xff])); // unused bits are not checked
    expect(base64Decode('')).toEqual(new Uint8Array(0));
    for (const bad of ['/w', '/w=', 'dmF', 'dm=s', '====', 'dmFs!', 'a===']) expect(base64Decode(bad)).toBeUndefined();
  });
});

describe('compactJson (json.Compact with HTML escaping)', () => {
  it('drops whitespace between tokens and escapes HTML characters inside strings', () => {
    expect(compactJson(' { "a b" : [ 1 , "<\\"x\\" >" ] , "\u2028":null }\n')).toBe('{"a b":[1,"\\u003c\\"x\\" \\u003e"],"\\u2028":null}');
  });
});

describe('JsonReader', () => {
  const read = (text: string, f: (r: JsonReader) => unknown): unknown => {
    const r = new JsonReader(text, 'test doc');
    const v = f(r);
    r.end();
    return v;
  };

  it('reads unsigned integers exactly, up to 2^64-1', () => {
    expect(read('18446744073709551615', (r) => r.uint64())).toBe(18446744073709551615n);
    expect(read('9007199254740993', (r) => r.uint64())).toBe(9007199254740993n);
    expect(read('4294967295', (r) => r.uint(0xffffffff))).toBe(4294967295);
  });

  it.each(['18446744073709551616', '-1', '1.0', '1e3', '01', '4294967296', '"1"', ''])('refuses %j as an unsigned integer', (text) => {
    expect(() => read(text, (r) => (text === '4294967296' ? r.uint(0xffffffff) : r.uint64()))).toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPT' }),
    );
  });

  it('reads exactly the unsigned integers Go would, whatever the token (seeded)', () => {
    // A model of Go's rule: a JSON number made of digits only (no leading zero), within range.
    const token = fc.oneof(
      fc.stringMatching(/^[1-9][0-9]{0,24}$/),
      fc.constantFrom('0', '00', '01', '-0', '-1', '1.0', '1.', '1e3', '1E3', '0e1', '0.5', '9007199254740991', '9007199254740992', '18446744073709551615', '18446744073709551616'),
      fc.tuple(fc.constantFrom('', '-', '0', ' ', '\n'), fc.stringMatching(/^[0-9]{1,20}$/), fc.constantFrom('', '.5', 'e2', 'E-1', '.')).map(([a, b, c]) => `${a}${b}${c}`),
    );
    const maxes = [0, 255, 0xffffffff, Number.MAX_SAFE_INTEGER];
    fc.assert(
      fc.property(token, fc.constantFrom(...maxes), fc.boolean(), (text, max, wide) => {
        const digits = text.trim();
        const valid = /^(0|[1-9][0-9]*)$/.test(digits);
        const limit = wide ? 2n ** 64n - 1n : BigInt(max);
        const expected = valid && BigInt(digits) <= limit ? (wide ? BigInt(digits) : Number(digits)) : 'refused';
        let got: unknown;
        try {
          got = read(`${text},`, (r) => {
            const v = wide ? r.uint64() : r.uint(max);
            // The token must end where the number does (a leading zero stops the number early).
            if (r.peek() !== 0x2c) throw Object.assign(new Error('trailing'), { code: 'ERR_CORRUPT' });
            r.pos++;
            return v;
          });
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ERR_CORRUPT');
          got = 'refused';
        }
        expect(got).toBe(expected);
      }),
      { seed: 20261125, numRuns: 3000 },
    );
  });

  it('unescapes strings as Go does (unpaired surrogate escapes become U+FFFD)', () => {
    expect(read('"a\\u00e9\\ud83d\\ude00\\/\\b"', (r) => r.string())).toBe('aé😀/\b');
    expect(read('"\\ud800x\\udc00"', (r) => r.string())).toBe('\ufffdx\ufffd');
    expect(read('"\\udc00\\ud83d\\ude00"', (r) => r.string())).toBe('\ufffd😀');
  });

  it('returns the raw text of skipped values and checks their syntax', () => {
    expect(read(' {"a": [1, -2.5e+3, true, false, null, {"b": "c\\n"}], "d": {}} ', (r) => r.skipValue())).toBe(
      '{"a": [1, -2.5e+3, true, false, null, {"b": "c\\n"}], "d": {}}',
    );
    for (const bad of ['{"a" 1}', '[1,]', '{"a":1,}', '[1 2]', '"\u0001"', '"\\x"', 'nul', '[', '{"a":-}', '1.', '.5', 'tru']) {
      let err: unknown;
      try {
        read(bad, (r) => r.skipValue());
      } catch (e) {
        err = e;
      }
      expect(isCairnError(err, 'ERR_CORRUPT'), bad).toBe(true);
      expect((err as Error).message).toMatch(/^test doc: .* at offset \d+$/);
    }
  });

  it('caps nesting at Go’s 10000 without recursing', () => {
    expect(() => read('['.repeat(200_000) + ']'.repeat(200_000), (r) => r.skipValue())).toThrow(/nesting too deep/);
    expect(read('['.repeat(9_999) + ']'.repeat(9_999), (r) => r.skipValue().length)).toBe(19_998);
  });
});
