/**
 * Hostile snapshot files (spec/hostile-input.md). decodeSnapshot meets arbitrary bytes, byte-level
 * and structural mutations (wrong types, out-of-range numbers, bad times and IDs, long strings,
 * nesting 50,000 deep, repeated and re-cased keys) and targeted monsters with ERR_CORRUPT or a
 * snapshot that encodes again; the sealed layer (openUnpacked) meets random and damaged files with
 * ERR_CORRUPT/ERR_AUTH_FAILED, and well-sealed garbage reaches the decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newMasterKey } from '../../src/crypto/index.js';
import { hashId } from '../../src/model/index.js';
import { openUnpacked, sealUnpacked } from '../../src/repository/index.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from '../../src/snapshot/index.js';
import { idArb, textArb, timeArb } from '../tree/arbitraries.js';
import { bytesArb, byteEditsArb, deepArray, deepObject, editBytes, editJson, jsonEditsArb, SEED, typedOnly } from './fuzz-helpers.js';

const enc = new TextEncoder();
const key = newMasterKey();

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    time: timeArb,
    parent: fc.option(idArb, { nil: undefined }),
    tree: idArb,
    paths: fc.array(textArb(12), { maxLength: 3 }),
    hostname: fc.option(textArb(8).filter((s) => s !== ''), { nil: undefined }),
    uid: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: undefined }),
    tags: fc.option(fc.array(textArb(6), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    original: fc.option(idArb, { nil: undefined }),
  })
  .map((r) => {
    const s: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (v !== undefined) s[k] = v;
    return s as unknown as Snapshot;
  });

function decode(bytes: Uint8Array, input: unknown = bytes): Snapshot | undefined {
  const s = typedOnly(() => decodeSnapshot(bytes, 'snapshots/s'), ['ERR_CORRUPT'], { input, what: 'snapshots/s' });
  // What decodes is a valid Snapshot: it encodes again without complaint.
  if (s !== undefined) expect(() => encodeSnapshot(s)).not.toThrow();
  return s;
}

const json = (s: Snapshot): string => new TextDecoder().decode(encodeSnapshot(s));

describe('snapshot JSON (decodeSnapshot)', () => {
  it('arbitrary bytes and text: ERR_CORRUPT or a valid snapshot', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.string({ maxLength: 80 }).map((s) => enc.encode(s))), (bytes) => void decode(bytes)),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('byte-level mutations: ERR_CORRUPT or a valid snapshot', () => {
    fc.assert(
      fc.property(snapshotArb, byteEditsArb, (s, edits) => void decode(editBytes(encodeSnapshot(s), edits))),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('structural mutations (wrong types, huge/negative numbers, NaN-like strings, deep nesting, repeated keys): ERR_CORRUPT or a valid snapshot', () => {
    fc.assert(
      fc.property(snapshotArb, jsonEditsArb, (s, edits) => void decode(enc.encode(editJson(json(s), edits)))),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('targeted: deep nesting in every field, numbers out of range, 4 MB strings, 100,000 paths', () => {
    const base = `"time":"2020-01-01T00:00:00Z","tree":"${'a'.repeat(64)}","paths":["/"]`;
    const fields = ['time', 'parent', 'tree', 'paths', 'hostname', 'username', 'uid', 'gid', 'excludes', 'tags', 'original', 'summary', 'program_version'];
    const docs: string[] = [];
    for (const d of [deepArray(50_000), deepObject(50_000), deepArray(10_001)]) {
      docs.push(d, `{${base},"x":${d}}`, `{"x":${d},${base}}`);
      for (const f of fields) docs.push(`{${base},"${f}":${d}}`, `{${base},"${f}":[${d}]}`);
    }
    for (const n of ['4294967296', '1e999', '-1', '1.5', '-0', '"1"', '18446744073709551616']) docs.push(`{${base},"uid":${n}}`, `{${base},"GID":${n}}`);
    for (const t of ['"10000-01-01T00:00:00Z"', '"2020-02-30T00:00:00Z"', '"2020-01-01T24:00:00Z"', '"2020-01-01T00:00:00+25:00"', '""', '"now"']) docs.push(`{${base},"time":${t}}`);
    docs.push(`{"time":"2020-01-01T00:00:00Z","paths":[]}`, `{${base},"tree":null}`, `{${base},"tree":"${'A'.repeat(64)}"}`, `{${base},"tree":"${'g'.repeat(64)}"}`);
    for (const doc of docs) decode(enc.encode(doc), doc);
    const heavy = [
      `{${base},"hostname":${JSON.stringify('h'.repeat(4_000_000))}}`,
      `{${base},"tree":${JSON.stringify('a'.repeat(4_000_000))}}`,
      `{${base},"uid":${'9'.repeat(4_000_000)}}`,
      `{${base},"time":${JSON.stringify('2'.repeat(4_000_000))}}`,
      `{${base},"tags":[${'"t",'.repeat(100_000)}"t"]}`,
      `{"time":"2020-01-01T00:00:00Z","tree":"${'a'.repeat(64)}","paths":[${'"/p",'.repeat(100_000)}"/p"]}`,
    ];
    for (const doc of heavy) typedOnly(() => decodeSnapshot(enc.encode(doc), 'snapshots/s'), ['ERR_CORRUPT'], { input: doc, what: 'snapshots/s', ms: 2000, bytes: 128 << 20 });
  });
});

describe('sealed snapshot files (openUnpacked, then decodeSnapshot)', () => {
  const load = (version: 1 | 2, bytes: Uint8Array, id = hashId(bytes)): Snapshot | undefined =>
    typedOnly(() => decodeSnapshot(openUnpacked(key, version, id, bytes, 'snapshots/s'), 'snapshots/s'), ['ERR_CORRUPT', 'ERR_AUTH_FAILED'], { input: bytes, what: 'snapshots/s' });

  it('random bytes: ERR_CORRUPT (name) or ERR_AUTH_FAILED (MAC)', () => {
    fc.assert(
      fc.property(bytesArb, fc.constantFrom<1 | 2>(1, 2), fc.boolean(), (bytes, version, ownName) => {
        expect(load(version, bytes, ownName ? hashId(bytes) : hashId(new Uint8Array(1)))).toBeUndefined();
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('damaged sealed files never decode', () => {
    fc.assert(
      fc.property(snapshotArb, byteEditsArb, fc.constantFrom<1 | 2>(1, 2), (s, edits, version) => {
        const { bytes } = sealUnpacked(key, version, encodeSnapshot(s));
        const bad = editBytes(bytes, edits);
        if (Buffer.from(bad).equals(Buffer.from(bytes))) return;
        expect(load(version, bad)).toBeUndefined();
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('well-sealed hostile JSON reaches the decoder and fails typed', () => {
    fc.assert(
      fc.property(snapshotArb, jsonEditsArb, fc.constantFrom<1 | 2>(1, 2), (s, edits, version) => {
        load(version, sealUnpacked(key, version, enc.encode(editJson(json(s), edits))).bytes);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
