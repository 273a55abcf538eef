/**
 * Hostile key files (spec/hostile-input.md). decodeKeyFile and decodeMasterKeyJson meet arbitrary
 * bytes, byte-level and structural mutations (any field a wrong type, nested 50,000 deep, huge,
 * negative or fractional scrypt parameters, bad base64, 4 MB strings) with ERR_CORRUPT or
 * ERR_UNSUPPORTED; scrypt parameters that would take gigabytes or minutes are refused before any
 * derivation; and the sealed layer (`data`, opened with the user key) meets random bytes with "not
 * this key" (undefined) and well-sealed garbage with ERR_CORRUPT.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKeyFile,
  decodeMasterKeyJson,
  deriveUserKey,
  encodeKeyFile,
  encodeMasterKeyJson,
  newMasterKey,
  seal,
  unlockKeyFile,
  type KeyFile,
} from '../../src/crypto/index.js';
import { bytesArb, byteEditsArb, deepArray, deepObject, editBytes, editJson, jsonEditsArb, SEED, typedOnly, typedOnlyAsync } from './fuzz-helpers.js';

const enc = new TextEncoder();

const keyFileArb: fc.Arbitrary<KeyFile> = fc.record({
  created: fc.constantFrom('2022-08-01T10:00:00.123+02:00', '0001-01-01T00:00:00Z'),
  username: fc.string({ maxLength: 12 }),
  hostname: fc.string({ maxLength: 12 }),
  kdf: fc.constant('scrypt' as const),
  N: fc.integer({ min: 1, max: 16 }).map((e) => 2 ** e),
  r: fc.integer({ min: 1, max: 8 }),
  p: fc.integer({ min: 1, max: 4 }),
  salt: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  data: fc.uint8Array({ minLength: 32, maxLength: 200 }),
});

const decodeKey = (bytes: Uint8Array, input: unknown = bytes): KeyFile | undefined =>
  typedOnly(() => decodeKeyFile(bytes, 'key file keys/k'), ['ERR_CORRUPT', 'ERR_UNSUPPORTED'], { input, what: 'key file keys/k' });

const decodeMaster = (bytes: Uint8Array, input: unknown = bytes): unknown =>
  typedOnly(() => decodeMasterKeyJson(bytes, 'key file keys/k'), ['ERR_CORRUPT'], { input, what: 'key file keys/k' });

const masterJson = (): string => new TextDecoder().decode(encodeMasterKeyJson(newMasterKey()));

describe('key file JSON (decodeKeyFile)', () => {
  it('arbitrary bytes and text: ERR_CORRUPT or ERR_UNSUPPORTED', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.string({ maxLength: 80 }).map((s) => enc.encode(s))), (bytes) => void decodeKey(bytes)),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('byte-level mutations: typed errors, or a key file within the caps', () => {
    fc.assert(
      fc.property(keyFileArb, byteEditsArb, (k, edits) => {
        const out = decodeKey(editBytes(encodeKeyFile(k), edits));
        if (out !== undefined) expect(out.salt.length).toBe(64);
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('structural mutations (wrong types, huge/negative/fractional N, r, p, bad base64, deep nesting): typed errors only', () => {
    fc.assert(
      fc.property(keyFileArb, jsonEditsArb, (k, edits) => void decodeKey(enc.encode(editJson(new TextDecoder().decode(encodeKeyFile(k)), edits)))),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('targeted: every field nested 50,000 deep, 4 MB values, scrypt parameters that would cost gigabytes are refused at once', () => {
    const base = { created: '"2022-08-01T10:00:00Z"', username: '"u"', hostname: '"h"', kdf: '"scrypt"', N: '1024', r: '8', p: '1', salt: JSON.stringify(Buffer.alloc(64, 1).toString('base64')), data: JSON.stringify(Buffer.alloc(160, 1).toString('base64')) };
    const doc = (f: Partial<Record<keyof typeof base, string>>): string => '{' + Object.entries({ ...base, ...f }).map(([k, v]) => `"${k}":${v}`).join(',') + '}';
    const docs: string[] = [];
    for (const d of [deepArray(50_000), deepObject(50_000)]) {
      docs.push(d);
      for (const k of Object.keys(base)) docs.push(doc({ [k]: d }));
    }
    for (const [N, r, p] of <[string, string, string][]>[
      ['1073741824', '8', '1'], ['2147483648', '1', '1'], ['4294967296', '1', '1'], ['9007199254740992', '1', '1'], ['1e999', '1', '1'],
      ['32768', '8', '1000000'], ['32768', '4294967295', '1'], ['3', '1', '1'], ['0', '1', '1'], ['-1024', '1', '1'], ['1024', '0', '1'],
      ['1024', '1', '-1'], ['1024.5', '1', '1'], ['"1024"', '1', '1'], ['1024', '1e308', '1e308'],
    ]) {
      docs.push(doc({ N, r, p }));
    }
    docs.push(doc({ kdf: '"argon2"' }), doc({ kdf: JSON.stringify('k'.repeat(4_000_000)) }), doc({ salt: '"not base64!"' }), doc({ salt: JSON.stringify(Buffer.alloc(63).toString('base64')) }));
    docs.push(doc({ created: JSON.stringify('2'.repeat(4_000_000)) }), doc({ username: JSON.stringify('u'.repeat(4_000_000)) }), doc({ data: JSON.stringify('A'.repeat(4_000_000)) }), doc({ data: '"AAAA"' }));
    for (const d of docs) decodeKey(enc.encode(d), d);
  });
});

describe('master key JSON inside a key file (decodeMasterKeyJson)', () => {
  it('arbitrary bytes, byte-level and structural mutations: ERR_CORRUPT only', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.string({ maxLength: 80 }).map((s) => enc.encode(s))), (bytes) => void decodeMaster(bytes)),
      { seed: SEED, numRuns: 400 },
    );
    fc.assert(
      fc.property(byteEditsArb, (edits) => void decodeMaster(editBytes(enc.encode(masterJson()), edits))),
      { seed: SEED, numRuns: 400 },
    );
    fc.assert(
      fc.property(jsonEditsArb, (edits) => void decodeMaster(enc.encode(editJson(masterJson(), edits)))),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('sealed master key (unlockKeyFile)', () => {
  const params = { N: 2, r: 1, p: 1 };
  const salt = new Uint8Array(64).fill(7);
  const file = (data: Uint8Array): KeyFile => ({ created: '2022-08-01T10:00:00Z', username: '', hostname: '', kdf: 'scrypt', ...params, salt, data });

  it('random `data`: not this key (undefined), or ERR_CORRUPT when too short or the IV is zero', async () => {
    await fc.assert(
      fc.asyncProperty(bytesArb, async (data) => {
        const out = await typedOnlyAsync(() => unlockKeyFile(file(data), 'pw', 'key file keys/k'), ['ERR_CORRUPT'], { input: data });
        expect(out).toBeUndefined();
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('well-sealed garbage (the right password, a damaged master key inside): ERR_CORRUPT', async () => {
    const user = await deriveUserKey('pw', salt, params);
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytesArb, jsonEditsArb.map((edits) => enc.encode(editJson(masterJson(), edits)))), async (plain) => {
        await typedOnlyAsync(() => unlockKeyFile(file(seal(user, plain)), 'pw', 'key file keys/k'), ['ERR_CORRUPT'], { input: plain, what: 'key file keys/k' });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
