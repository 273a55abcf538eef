/**
 * Hostile lock files (spec/hostile-input.md). decodeLock meets arbitrary bytes, byte-level and
 * structural mutations (wrong types, deep nesting, huge numbers, long strings) with ERR_CORRUPT or
 * a LockInfo of the right field types, and what it accepts can be aged and judged stale without
 * throwing; the sealed layer (openUnpacked) meets random and damaged files with
 * ERR_CORRUPT/ERR_AUTH_FAILED, and well-sealed garbage reaches the decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newMasterKey } from '../../src/crypto/index.js';
import { hashId, type Id } from '../../src/model/index.js';
import { decodeLock, describeLock, encodeLock, isStale, openUnpacked, sealUnpacked, type LockInfo } from '../../src/repository/index.js';
import { bytesArb, byteEditsArb, deepArray, deepObject, editBytes, editJson, jsonEditsArb, SEED, typedOnly } from './fuzz-helpers.js';

const enc = new TextEncoder();
const key = newMasterKey();

const lockArb: fc.Arbitrary<LockInfo> = fc.record({
  time: fc.constantFrom('2026-11-24T07:19:03.10753+01:00', '2020-01-01T00:00:00Z'),
  exclusive: fc.boolean(),
  hostname: fc.string({ maxLength: 10 }),
  username: fc.string({ maxLength: 10 }),
  pid: fc.integer({ min: 1, max: 4_000_000 }),
  uid: fc.integer({ min: 1, max: 70000 }),
  gid: fc.integer({ min: 1, max: 70000 }),
});

function check(l: LockInfo | undefined): void {
  if (l === undefined) return;
  expect(typeof l.time).toBe('string');
  expect(typeof l.exclusive).toBe('boolean');
  expect(typeof l.hostname).toBe('string');
  expect(typeof l.username).toBe('string');
  expect(typeof l.pid).toBe('number');
  // Whatever was accepted can be judged (an unreadable time is "not stale", never an exception).
  expect(typeof isStale(l, 'this-host')).toBe('boolean');
  expect(describeLock({ id: 'a'.repeat(64) as Id, lock: l, stale: false }).length).toBeGreaterThan(0);
}

const decode = (bytes: Uint8Array, input: unknown = bytes): LockInfo | undefined =>
  typedOnly(() => decodeLock(bytes, 'locks/l'), ['ERR_CORRUPT'], { input, what: 'locks/l' });

describe('lock JSON (decodeLock)', () => {
  it('arbitrary bytes and text: ERR_CORRUPT or a well-typed lock', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.string({ maxLength: 80 }).map((s) => enc.encode(s))), (bytes) => check(decode(bytes))),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('byte-level and structural mutations: ERR_CORRUPT or a well-typed lock', () => {
    fc.assert(fc.property(lockArb, byteEditsArb, (l, edits) => check(decode(editBytes(encodeLock(l), edits)))), { seed: SEED, numRuns: 500 });
    fc.assert(
      fc.property(lockArb, jsonEditsArb, (l, edits) => check(decode(enc.encode(editJson(new TextDecoder().decode(encodeLock(l)), edits))))),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('targeted: deep nesting in every field, huge numbers and strings', () => {
    const base = { time: '"2020-01-01T00:00:00Z"', exclusive: 'true', hostname: '"h"', username: '"u"', pid: '1' };
    const doc = (f: Record<string, string>): string => '{' + Object.entries({ ...base, ...f }).map(([k, v]) => `"${k}":${v}`).join(',') + '}';
    const docs: string[] = [];
    for (const d of [deepArray(50_000), deepObject(50_000)]) {
      docs.push(d);
      for (const k of [...Object.keys(base), 'uid', 'gid']) docs.push(doc({ [k]: d }));
    }
    for (const n of ['1e308', '-1', '1.5', '1e999', '9007199254740993', '"1"']) docs.push(doc({ pid: n }), doc({ uid: n }));
    docs.push(doc({ time: '"yesterday"' }), doc({ time: JSON.stringify('2'.repeat(4_000_000)) }), doc({ hostname: JSON.stringify('h'.repeat(4_000_000)) }), 'null', '[]', '"lock"', '7');
    for (const d of docs) check(decode(enc.encode(d), d));
  });
});

describe('sealed lock files (openUnpacked, then decodeLock)', () => {
  const load = (version: 1 | 2, bytes: Uint8Array, id = hashId(bytes)): LockInfo | undefined =>
    typedOnly(() => decodeLock(openUnpacked(key, version, id, bytes, 'locks/l'), 'locks/l'), ['ERR_CORRUPT', 'ERR_AUTH_FAILED'], { input: bytes, what: 'locks/l' });

  it('random and damaged files never decode; well-sealed garbage fails typed', () => {
    fc.assert(fc.property(bytesArb, fc.constantFrom<1 | 2>(1, 2), (bytes, v) => {
      expect(load(v, bytes)).toBeUndefined();
    }), { seed: SEED, numRuns: 300 });
    fc.assert(
      fc.property(lockArb, byteEditsArb, fc.constantFrom<1 | 2>(1, 2), (l, edits, v) => {
        const { bytes } = sealUnpacked(key, v, encodeLock(l));
        const bad = editBytes(bytes, edits);
        if (!Buffer.from(bad).equals(Buffer.from(bytes))) expect(load(v, bad)).toBeUndefined();
      }),
      { seed: SEED, numRuns: 200 },
    );
    fc.assert(
      fc.property(lockArb, jsonEditsArb, fc.constantFrom<1 | 2>(1, 2), (l, edits, v) => {
        check(load(v, sealUnpacked(key, v, enc.encode(editJson(new TextDecoder().decode(encodeLock(l)), edits))).bytes));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
