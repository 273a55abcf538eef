/**
 * Hostile repository config files (spec/hostile-input.md). decodeConfig meets arbitrary bytes,
 * byte-level and structural mutations (wrong types, versions like 2.5 or "2", polynomials that are
 * too long, negative or reducible, chunker sizes out of range, nesting 50,000 deep) with
 * ERR_CORRUPT or ERR_UNSUPPORTED; the sealed config (never compressed, opened with `open`) meets
 * random and damaged bytes with ERR_AUTH_FAILED/ERR_CORRUPT.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newMasterKey, open, seal } from '../../src/crypto/index.js';
import { decodeConfig, encodeConfig, newConfig, type ChunkerConfig, type RepoConfig } from '../../src/repository/index.js';
import { bytesArb, byteEditsArb, deepArray, deepObject, editBytes, editJson, jsonEditsArb, SEED, typedOnly } from './fuzz-helpers.js';

const enc = new TextEncoder();
const key = newMasterKey();
const chunkers: ChunkerConfig[] = [{ algorithm: 'rabin' }, { algorithm: 'fastcdc', min: 512 << 10, avg: 1 << 20, max: 8 << 20, normalization: 2 }];
const configs = chunkers.flatMap((c) => [newConfig(c), newConfig(c)]);
const configArb = fc.constantFrom(...configs);
const text = (c: RepoConfig): string => new TextDecoder().decode(encodeConfig(c));

const decode = (bytes: Uint8Array, input: unknown = bytes): RepoConfig | undefined =>
  typedOnly(() => decodeConfig(bytes, 'config of r'), ['ERR_CORRUPT', 'ERR_UNSUPPORTED'], { input, what: 'config of r' });

describe('config JSON (decodeConfig)', () => {
  it('arbitrary bytes and text: ERR_CORRUPT or ERR_UNSUPPORTED', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.string({ maxLength: 80 }).map((s) => enc.encode(s))), (bytes) => void decode(bytes)),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('byte-level mutations: typed errors, or a config with a valid chunker', () => {
    fc.assert(
      fc.property(configArb, byteEditsArb, (c, edits) => {
        const out = decode(editBytes(encodeConfig(c), edits));
        if (out !== undefined) expect(() => encodeConfig(out)).not.toThrow();
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('structural mutations (wrong types, out-of-range numbers, deep nesting, repeated keys): typed errors only', () => {
    fc.assert(
      fc.property(configArb, jsonEditsArb, (c, edits) => void decode(enc.encode(editJson(text(c), edits)))),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('targeted: deep nesting in every field, odd versions, hostile polynomials and chunker sizes', () => {
    const id = '"' + 'a'.repeat(64) + '"';
    const doc = (f: Record<string, string>): string =>
      '{' + Object.entries({ version: '2', id, chunker_polynomial: '"3da3358b4dc173"', ...f }).map(([k, v]) => `"${k}":${v}`).join(',') + '}';
    const fcdc = (f: Record<string, string>): string =>
      `{"chunker":{${Object.entries({ algorithm: '"fastcdc"', min: '524288', avg: '1048576', max: '8388608', normalization: '2', ...f }).map(([k, v]) => `"${k}":${v}`).join(',')}}}`;
    const docs: string[] = [];
    for (const d of [deepArray(50_000), deepObject(50_000)]) {
      docs.push(d, doc({ version: d }), doc({ id: d }), doc({ chunker_polynomial: d }), doc({ cairn: d }), doc({ cairn: `{"chunker":${d}}` }), doc({ cairn: fcdc({ algorithm: d }) }), doc({ cairn: fcdc({ min: d }) }));
    }
    for (const v of ['0', '3', '2.5', '-2', '"2"', 'null', '1e999', '9007199254740993']) docs.push(doc({ version: v }));
    for (const p of ['""', '"0"', '"1"', '"-3da3358b4dc173"', '"0x3da3358b4dc173"', '"3DA3358B4DC173"', '"ffffffffffffffff"', '"fffffffffffffffff"', JSON.stringify('f'.repeat(4_000_000)), '3', 'null']) {
      docs.push(doc({ chunker_polynomial: p }));
    }
    for (const [k, v] of [['min', '0'], ['min', '-1'], ['max', '4294967296'], ['avg', '1e999'], ['normalization', '99'], ['normalization', '1.5'], ['algorithm', '"rabin2"'], ['algorithm', JSON.stringify('a'.repeat(4_000_000))]]) {
      docs.push(doc({ cairn: fcdc({ [k!]: v! }) }));
    }
    docs.push(doc({ cairn: 'null' }), doc({ cairn: '5' }), doc({ cairn: '"x"' }), doc({ cairn: '[]' }), doc({ cairn: '{"chunker":{"algorithm":"rabin"}}' }), doc({ id: JSON.stringify('a'.repeat(4_000_000)) }));
    for (const d of docs) decode(enc.encode(d), d);
  });
});

describe('sealed config (open, then decodeConfig)', () => {
  const load = (bytes: Uint8Array): RepoConfig | undefined =>
    typedOnly(() => decodeConfig(open(key, bytes, 'config of r'), 'config of r'), ['ERR_CORRUPT', 'ERR_AUTH_FAILED', 'ERR_UNSUPPORTED'], { input: bytes, what: 'config of r' });

  it('random and damaged sealed configs: ERR_AUTH_FAILED, or ERR_CORRUPT when too short', () => {
    fc.assert(fc.property(bytesArb, (bytes) => {
      expect(load(bytes)).toBeUndefined();
    }), { seed: SEED, numRuns: 400 });
    fc.assert(
      fc.property(configArb, byteEditsArb, (c, edits) => {
        const sealed = seal(key, encodeConfig(c));
        const bad = editBytes(sealed, edits);
        if (!Buffer.from(bad).equals(Buffer.from(sealed))) expect(load(bad)).toBeUndefined();
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a well-sealed hostile config reaches the decoder and fails typed', () => {
    fc.assert(
      fc.property(configArb, jsonEditsArb, (c, edits) => void load(seal(key, enc.encode(editJson(text(c), edits))))),
      { seed: SEED, numRuns: 300 },
    );
  });
});
