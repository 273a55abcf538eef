/**
 * Hostile index files (spec/hostile-input.md). The JSON decoder meets arbitrary bytes, byte-level
 * mutations and structural ones (any value replaced by a wrong type, huge, negative or fractional
 * numbers, NaN-like strings, long strings, nesting 50,000 deep; keys deleted, re-cased, repeated)
 * with ERR_CORRUPT or a valid index; the sealed layer (openUnpacked) meets random and damaged
 * files with ERR_CORRUPT/ERR_AUTH_FAILED, and well-sealed garbage reaches the decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newMasterKey } from '../../src/crypto/index.js';
import { decodeIndex, encodeIndex, type IndexFile } from '../../src/index/index.js';
import { hashId, idFromBytes, type BlobType } from '../../src/model/index.js';
import { openUnpacked, sealUnpacked } from '../../src/repository/index.js';
import { bytesArb, byteEditsArb, deepArray, deepObject, editBytes, editJson, jsonEditsArb, SEED, typedOnly } from './fuzz-helpers.js';

const enc = new TextEncoder();
const key = newMasterKey();
const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(idFromBytes);
const indexArb: fc.Arbitrary<IndexFile> = fc.record({
  supersedes: fc.array(idArb, { maxLength: 2 }),
  packs: fc.array(
    fc.record({
      id: idArb,
      blobs: fc.array(
        fc.record({
          id: idArb,
          type: fc.constantFrom<BlobType>('data', 'tree'),
          offset: fc.integer({ min: 0, max: 0xffffffff }),
          length: fc.integer({ min: 0, max: 0xffffffff }),
          uncompressedLength: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
        }),
        { maxLength: 4 },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

const ID = /^[0-9a-f]{64}$/;
const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** A decoded index must hold only what the format allows. */
function checkIndex(idx: IndexFile | undefined): void {
  if (idx === undefined) return;
  const bad: unknown[] = idx.supersedes.filter((s) => !ID.test(s));
  for (const p of idx.packs) {
    if (!ID.test(p.id)) bad.push(p);
    for (const b of p.blobs) {
      if (!ID.test(b.id) || (b.type !== 'data' && b.type !== 'tree') || !u32(b.offset) || !u32(b.length) || !u32(b.uncompressedLength)) bad.push(b);
    }
  }
  expect(bad).toEqual([]);
}

const decode = (bytes: Uint8Array): IndexFile | undefined =>
  typedOnly(() => decodeIndex(bytes, 'index/x'), ['ERR_CORRUPT'], { input: bytes, what: 'index/x' });

describe('index JSON (decodeIndex)', () => {
  it('arbitrary bytes and text: ERR_CORRUPT or a valid index', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.string({ maxLength: 80 }).map((s) => enc.encode(s))), (bytes) => checkIndex(decode(bytes))),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('byte-level mutations of valid index files: ERR_CORRUPT or a valid index', () => {
    fc.assert(
      fc.property(indexArb, byteEditsArb, (idx, edits) => checkIndex(decode(editBytes(encodeIndex(idx), edits)))),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('structural mutations (wrong types, huge/negative/fractional numbers, NaN-like strings, deep nesting): ERR_CORRUPT or a valid index', () => {
    fc.assert(
      fc.property(indexArb, jsonEditsArb, fc.boolean(), (idx, edits, legacy) => {
        let doc = new TextDecoder().decode(encodeIndex(idx));
        if (legacy) doc = JSON.stringify(JSON.parse(doc).packs);
        checkIndex(decode(enc.encode(editJson(doc, edits))));
      }),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('targeted: every field nested 50,000 deep, 10 MB strings, 2^32, 2^53+1, 1e999, -0, 200,000 packs', () => {
    const id = 'a'.repeat(64);
    const blob = (f: Partial<Record<string, string>>): string =>
      `{"id":${f.id ?? `"${id}"`},"type":${f.type ?? '"data"'},"offset":${f.offset ?? '0'},"length":${f.length ?? '40'}${f.ul === undefined ? '' : `,"uncompressed_length":${f.ul}`}}`;
    const deep = [deepArray(50_000), deepObject(50_000)];
    const docs: string[] = [
      ...deep,
      ...deep.flatMap((d) => [
        `{"packs":${d}}`,
        `{"supersedes":${d},"packs":[]}`,
        `{"supersedes":[${d}],"packs":[]}`,
        `{"packs":[{"id":${d},"blobs":[]}]}`,
        `{"packs":[{"id":"${id}","blobs":${d}}]}`,
        ...['id', 'type', 'offset', 'length', 'ul'].map((k) => `{"packs":[{"id":"${id}","blobs":[${blob({ [k]: d })}]}]}`),
      ]),
      `{"supersedes":["${'x'.repeat(10_000_000)}"]}`,
      `{"packs":[{"id":"${id}","blobs":[${blob({ type: JSON.stringify('y'.repeat(10_000_000)) })}]}]}`,
      ...['4294967296', '9007199254740993', '1e999', '-1e999', '-0', '-1', '0.5', '"5"', 'true'].flatMap((n) => [
        `{"packs":[{"id":"${id}","blobs":[${blob({ offset: n })}]}]}`,
        `{"packs":[{"id":"${id}","blobs":[${blob({ length: n })}]}]}`,
        `{"packs":[{"id":"${id}","blobs":[${blob({ ul: n })}]}]}`,
      ]),
      `{"packs":[${`{"id":"${id}","blobs":[]},`.repeat(200_000)}{"id":"${id}","blobs":[]}]}`,
      `{"PACKS":[],"Supersedes":null,"packs":"x"}`,
      `{"__proto__":{"packs":[1]},"packs":[{"__proto__":{"blobs":5},"id":"${id}"}]}`,
    ];
    for (const doc of docs) checkIndex(typedOnly(() => decodeIndex(enc.encode(doc), 'index/x'), ['ERR_CORRUPT'], { input: doc, what: 'index/x', ms: 3000, bytes: 256 << 20 }));
  });
});

describe('sealed index files (openUnpacked, then decodeIndex)', () => {
  const load = (version: 1 | 2, bytes: Uint8Array, id = hashId(bytes)): IndexFile | undefined =>
    typedOnly(() => decodeIndex(openUnpacked(key, version, id, bytes, 'index/x'), 'index/x'), ['ERR_CORRUPT', 'ERR_AUTH_FAILED'], { input: bytes, what: 'index/x' });

  it('random bytes, under their own name or another: ERR_CORRUPT (name) or ERR_AUTH_FAILED (MAC)', () => {
    fc.assert(
      fc.property(bytesArb, fc.constantFrom<1 | 2>(1, 2), fc.boolean(), (bytes, version, ownName) => {
        expect(load(version, bytes, ownName ? hashId(bytes) : hashId(new Uint8Array(1)))).toBeUndefined();
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('damaged sealed files never decode', () => {
    fc.assert(
      fc.property(indexArb, byteEditsArb, fc.constantFrom<1 | 2>(1, 2), (idx, edits, version) => {
        const { bytes } = sealUnpacked(key, version, encodeIndex(idx));
        const bad = editBytes(bytes, edits);
        if (Buffer.from(bad).equals(Buffer.from(bytes))) return;
        expect(load(version, bad)).toBeUndefined();
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('well-sealed hostile JSON (the key holder wrote garbage) reaches the decoder and fails typed', () => {
    fc.assert(
      fc.property(indexArb, jsonEditsArb, fc.constantFrom<1 | 2>(1, 2), (idx, edits, version) => {
        const json = enc.encode(editJson(new TextDecoder().decode(encodeIndex(idx)), edits));
        checkIndex(load(version, sealUnpacked(key, version, json).bytes));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
