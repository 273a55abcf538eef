/**
 * openInto against open: on any input, valid or damaged (flipped bytes, truncation, extension, an
 * all-zero IV), openInto into a reused buffer of any larger size returns the same plaintext as a
 * view of that buffer, or throws exactly the error open throws (code, message, data) and leaves
 * the buffer untouched. Both with the native addon and with the fallback.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { open, openInto, seal, type MasterKey } from '../../src/crypto/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { outcome } from '../helpers/outcome.js';
import { keyArb, plaintextArb } from './arbitraries.js';
import { expectBytes } from './bytes.js';
import { describeEachSeal } from './implementations.js';

const SEED = 20261124;



/** Damage: flip bytes, cut, extend, or zero the IV. */
const damageArb = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('cut' as const), keep: fc.nat() }),
  fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ op: fc.constant('zeroIv' as const) }),
);
type Damage = typeof damageArb extends fc.Arbitrary<infer T> ? T : never;

function damage(sealed: Uint8Array, d: Damage): Uint8Array {
  if (d.op === 'flip') {
    const s = sealed.slice();
    s[d.at % s.length]! ^= d.mask;
    return s;
  }
  if (d.op === 'cut') return sealed.slice(0, d.keep % sealed.length);
  if (d.op === 'extend') return new Uint8Array([...sealed, ...d.bytes]);
  const s = sealed.slice();
  s.fill(0, 0, 16);
  return s;
}

describeEachSeal(() => {

  it('openInto a reused, larger buffer gives what open gives, as a view of the buffer', () => {
    const out = new Uint8Array(100_000);
    fc.assert(
      fc.property(keyArb, plaintextArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (key, pt, offset, fill) => {
        const sealed = seal(key, pt);
        const at = offset % (out.length - pt.length + 1);
        out.fill(fill);
        const got = openInto(key, sealed, out.subarray(at), 'blob');
        expect(got.buffer).toBe(out.buffer);
        expect(got.byteOffset).toBe(at);
        expectBytes(got, open(key, sealed, 'blob'), 'plaintext');
        expectBytes(got, pt, 'plaintext');
        // Nothing beyond the plaintext is written.
        expect(out.subarray(at + pt.length).every((b) => b === fill)).toBe(true);
        expect(out.subarray(0, at).every((b) => b === fill)).toBe(true);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('damaged input fails exactly as open fails, and the buffer is left untouched', () => {
    fc.assert(
      fc.property(keyArb, fc.uint8Array({ maxLength: 3000 }), fc.array(damageArb, { minLength: 1, maxLength: 3 }), (key, pt, damages) => {
        let sealed = seal(key, pt);
        for (const d of damages) sealed = damage(sealed, d);
        const expected = outcome(() => open(key, sealed, 'data blob 1234'));
        const out = new Uint8Array(sealed.length + 17).fill(0xa5);
        const got = outcome(() => openInto(key, sealed, out, 'data blob 1234'));
        if ('ok' in expected) {
          // Some damage leaves an object that still opens (e.g. a cut or extension made by chance): same plaintext.
          expect('ok' in got).toBe(true);
          if ('ok' in got) expectBytes(got.ok, expected.ok, 'plaintext');
        } else {
          expect(got).toEqual(expected);
          expect(['ERR_AUTH_FAILED', 'ERR_CORRUPT']).toContain(expected.code);
          expect(out.every((b) => b === 0xa5)).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('the default name, and inputs too short for IV and MAC (any output), fail as open does', () => {
    const key: MasterKey = { encrypt: new Uint8Array(32).fill(1), macK: new Uint8Array(16).fill(2), macR: new Uint8Array(16).fill(3) };
    for (let n = 0; n < 32; n++) {
      const sealed = new Uint8Array(n).fill(7);
      const expected = outcome(() => open(key, sealed));
      expect(expected).toMatchObject({ code: 'ERR_CORRUPT' });
      expect(outcome(() => openInto(key, sealed, new Uint8Array(0)))).toEqual(expected);
      expect(outcome(() => openInto(key, sealed, new Uint8Array(64)))).toEqual(expected);
    }
    const flipped = seal(key, new Uint8Array(10));
    flipped[20]! ^= 1;
    expect(outcome(() => openInto(key, flipped, new Uint8Array(10)))).toEqual(outcome(() => open(key, flipped)));
  });

  it('an output too short for the plaintext, or overlapping the sealed bytes, is ERR_INTERNAL', () => {
    const key: MasterKey = { encrypt: new Uint8Array(32).fill(1), macK: new Uint8Array(16).fill(2), macR: new Uint8Array(16).fill(3) };
    const sealed = seal(key, pseudoRandomBytes(1000, 1));
    let error: unknown;
    try {
      openInto(key, sealed, new Uint8Array(999), 'blob x');
    } catch (e) {
      error = e;
    }
    expect(isCairnError(error, 'ERR_INTERNAL')).toBe(true);
    expect(String(error)).toContain('blob x');
    const shared = new Uint8Array(2132);
    shared.set(sealed, 100);
    for (const at of [0, 50, 1000, 1131]) {
      error = undefined;
      try {
        openInto(key, shared.subarray(100, 1132), shared.subarray(at, at + 1000), 'blob y');
      } catch (e) {
        error = e;
      }
      expect(isCairnError(error, 'ERR_INTERNAL'), `output at ${at}`).toBe(true);
    }
    // Right behind the sealed bytes is no overlap.
    expectBytes(openInto(key, shared.subarray(100, 1132), shared.subarray(1132)), pseudoRandomBytes(1000, 1), 'plaintext');
  });
});
