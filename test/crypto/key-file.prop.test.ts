/**
 * Key file codec properties: encode/decode round-trips any field values (any Unicode text, any
 * valid scrypt parameters, any salt and data), the output is standard JSON without raw `<`, `>`,
 * `&`, U+2028 or U+2029 (Go's escaping), and damaged input only ever fails with a CairnError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { decodeKeyFile, encodeKeyFile, type KeyFile } from '../../src/crypto/index.js';
import { expectBytes } from './bytes.js';

const SEED = 20261124;

const timeArb = fc
  .record({
    ms: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) }),
    frac: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,9}$/)),
    zone: fc.oneof(fc.constant('Z'), fc.stringMatching(/^[+-]\d\d:\d\d$/)),
  })
  .map(({ ms, frac, zone }) => new Date(ms).toISOString().slice(0, 19) + frac + zone);

const keyFileArb: fc.Arbitrary<KeyFile> = fc.record({
  created: timeArb,
  username: fc.string({ unit: 'binary', maxLength: 40 }),
  hostname: fc.string({ unit: 'binary', maxLength: 40 }),
  kdf: fc.constant('scrypt' as const),
  N: fc.integer({ min: 1, max: 16 }).map((e) => 2 ** e),
  r: fc.integer({ min: 1, max: 8 }),
  p: fc.integer({ min: 1, max: 16 }),
  salt: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  data: fc.uint8Array({ minLength: 32, maxLength: 300 }),
});

describe('key file codec', () => {
  it('decode(encode(k)) is k, and encoding again gives the same bytes', () => {
    fc.assert(
      fc.property(keyFileArb, (k) => {
        const bytes = encodeKeyFile(k);
        const back = decodeKeyFile(bytes);
        expect(back).toEqual(k);
        expectBytes(encodeKeyFile(back), bytes);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('writes standard JSON with Go’s HTML-safe escaping', () => {
    fc.assert(
      fc.property(keyFileArb, (k) => {
        const text = new TextDecoder().decode(encodeKeyFile(k));
        expect(text).not.toMatch(/[<>&\u2028\u2029\u0000-\u001f]/);
        const o = JSON.parse(text) as Record<string, unknown>;
        expect(Object.keys(o)).toEqual(['created', 'username', 'hostname', 'kdf', 'N', 'r', 'p', 'salt', 'data']);
        expect([o['username'], o['hostname']]).toEqual([k.username, k.hostname]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('damaged key files fail with ERR_CORRUPT or ERR_UNSUPPORTED, nothing else', () => {
    fc.assert(
      fc.property(
        keyFileArb,
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('set', 'delete', 'insert') }), {
          minLength: 1,
          maxLength: 4,
        }),
        (k, edits) => {
          const bytes = [...encodeKeyFile(k)];
          for (const { at, byte, op } of edits) {
            const i = at % (bytes.length + 1);
            if (op === 'set') bytes[Math.min(i, bytes.length - 1)] = byte;
            else if (op === 'delete') bytes.splice(i, 1);
            else bytes.splice(i, 0, byte);
          }
          try {
            decodeKeyFile(new Uint8Array(bytes), 'key file keys/x');
          } catch (e) {
            expect(isCairnError(e, 'ERR_CORRUPT') || isCairnError(e, 'ERR_UNSUPPORTED'), String(e)).toBe(true);
            expect((e as Error).message).toContain('key file keys/x');
          }
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
