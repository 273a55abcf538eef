/**
 * Repository-level codecs: config and lock round trips and fuzzing; sealed unpacked files
 * round-trip, and any damage (a flipped byte, a wrong name) is refused before a byte is used.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCairnError } from '../../src/errors.js';
import { newMasterKey } from '../../src/crypto/index.js';
import { decodeConfig, decodeLock, encodeConfig, encodeLock, newConfig, openUnpacked, sealUnpacked, type ChunkerConfig } from '../../src/repository/index.js';
import { hashId } from '../../src/model/index.js';

const SEED = 20261124;

describe('config', () => {
  it('round-trips, for both chunkers', () => {
    fc.assert(fc.property(fc.oneof(
      fc.constant<ChunkerConfig>({ algorithm: 'rabin' }),
      fc.record({ min: fc.integer({ min: 64, max: 4096 }), avg: fc.integer({ min: 4096, max: 65536 }), max: fc.integer({ min: 65536, max: 1 << 20 }), normalization: fc.integer({ min: 0, max: 3 }) }).map((c): ChunkerConfig => ({ algorithm: 'fastcdc', ...c })),
    ), (chunker) => {
      const c = newConfig(chunker);
      expect(decodeConfig(encodeConfig(c))).toEqual(c);
    }), { seed: SEED, numRuns: 20 });
  });

  it('restic ignores cairn\'s field: the JSON keeps restic\'s three fields first', () => {
    const text = new TextDecoder().decode(encodeConfig(newConfig({ algorithm: 'fastcdc', min: 512 << 10, avg: 1 << 20, max: 8 << 20, normalization: 2 })));
    expect(Object.keys(JSON.parse(text))).toEqual(['version', 'id', 'chunker_polynomial', 'cairn']);
  });

  it('rejects garbage with typed errors only', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      try {
        decodeConfig(new TextEncoder().encode(s));
      } catch (e) {
        expect(isCairnError(e, 'ERR_CORRUPT') || isCairnError(e, 'ERR_UNSUPPORTED')).toBe(true);
      }
    }), { seed: SEED, numRuns: 300 });
  });
});

describe('locks', () => {
  it('round-trip', () => {
    fc.assert(fc.property(fc.record({
      time: fc.constant('2026-11-24T07:19:03.10753+01:00'),
      exclusive: fc.boolean(),
      hostname: fc.string(),
      username: fc.string(),
      pid: fc.integer({ min: 1, max: 4_000_000 }),
      uid: fc.integer({ min: 1, max: 70000 }),
      gid: fc.integer({ min: 1, max: 70000 }),
    }), (l) => {
      expect(decodeLock(encodeLock(l), 'l')).toEqual(l);
    }), { seed: SEED, numRuns: 100 });
  });
});

describe('unpacked files', () => {
  const key = newMasterKey();

  it('round-trip in both versions, and any flipped byte is refused', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.constantFrom<1 | 2>(1, 2), fc.nat(), (v, version, at) => {
      const json = new TextEncoder().encode(JSON.stringify({ v }));
      const { id, bytes } = sealUnpacked(key, version, json);
      expect(id).toBe(hashId(bytes));
      expect(openUnpacked(key, version, id, bytes, 'f')).toEqual(json);
      const bad = bytes.slice();
      bad[at % bad.length]! ^= 0x40;
      expect(() => openUnpacked(key, version, id, bad, 'f')).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT' }));
      // Right name for the damaged bytes: the MAC catches it.
      expect(() => openUnpacked(key, version, hashId(bad), bad, 'f')).toThrow(expect.objectContaining({ code: 'ERR_AUTH_FAILED' }));
    }), { seed: SEED, numRuns: 100 });
  });
});
