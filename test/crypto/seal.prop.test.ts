/**
 * seal/open against an independent implementation: @noble/ciphers' AES-CTR (full 128-bit
 * big-endian counter), AES-ECB and Poly1305 recompute every sealed object cairn makes, and objects
 * built with noble alone (including IVs whose counter wraps around 2^128) open with cairn. Then
 * tampering: any single flipped bit, truncation or extension makes `open` throw, never return.
 * Everything runs twice: with the native addon's seal (Node's OpenSSL, one call) and with the
 * fallback (node:crypto AES + libsodium Poly1305).
 */
import { ctr, ecb } from '@noble/ciphers/aes.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { clampR, nativeSeal, open, seal, sealInto, type MasterKey } from '../../src/crypto/index.js';
import { keyArb, nonZeroBytes, plaintextArb } from './arbitraries.js';
import { expectBytes } from './bytes.js';
import { describeEachSeal } from './implementations.js';

const SEED = 20261124;


/** IVs: random, or with a run of 0xff at the end so the counter carries (or wraps past 2^128). */
const ivArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  nonZeroBytes(16),
  fc.record({ prefix: nonZeroBytes(16), ones: fc.integer({ min: 1, max: 16 }), last: fc.integer({ min: 0xf0, max: 0xff }) }).map(
    ({ prefix, ones, last }) => {
      const iv = prefix.slice();
      iv.fill(0xff, 16 - ones);
      iv[15] = last;
      return iv;
    },
  ),
);

function nobleMac(key: MasterKey, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  const s = ecb(key.macK, { disablePadding: true }).encrypt(iv);
  const oneTime = new Uint8Array(32);
  oneTime.set(clampR(key.macR));
  oneTime.set(s, 16);
  return poly1305(ct, oneTime);
}

function nobleSeal(key: MasterKey, iv: Uint8Array, pt: Uint8Array): Uint8Array {
  const ct = ctr(key.encrypt, iv).encrypt(pt);
  const out = new Uint8Array(pt.length + 32);
  out.set(iv);
  out.set(ct, 16);
  out.set(nobleMac(key, iv, ct), 16 + ct.length);
  return out;
}

it('the native seal is built on Linux (so the runs below test it)', () => {
  expect(nativeSeal()).toBe(process.platform === 'linux');
});

describeEachSeal(() => {

  it('sealInto writes into a reused, larger buffer what seal returns, and opens', () => {
    const out = new Uint8Array(100_000).fill(0xee);
    fc.assert(
      fc.property(keyArb, plaintextArb.filter((p) => p.length <= 90_000), (key, pt) => {
        const sealed = sealInto(key, pt, out);
        expect(sealed.buffer).toBe(out.buffer);
        expect(sealed.length).toBe(pt.length + 32);
        const iv = sealed.subarray(0, 16);
        expectBytes(sealed, nobleSeal(key, iv, pt), 'sealed');
        expectBytes(open(key, sealed), pt, 'plaintext');
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  describe('seal/open against @noble/ciphers', () => {
    it('every sealed object is IV || noble AES-256-CTR || noble Poly1305-AES, and opens to the plaintext', () => {
      fc.assert(
        fc.property(keyArb, plaintextArb, (key, pt) => {
          const sealed = seal(key, pt);
          expect(sealed.length).toBe(pt.length + 32);
          const iv = sealed.subarray(0, 16);
          const ct = sealed.subarray(16, 16 + pt.length);
          expectBytes(ct, ctr(key.encrypt, iv).encrypt(pt), 'ciphertext');
          expectBytes(sealed.subarray(16 + pt.length), nobleMac(key, iv, ct), 'MAC');
          expectBytes(open(key, sealed), pt, 'plaintext');
        }),
        { seed: SEED, numRuns: 120 },
      );
    });
  
    it('objects sealed by noble alone open with cairn, including counters that carry and wrap', () => {
      fc.assert(
        fc.property(keyArb, ivArb, plaintextArb, (key, iv, pt) => {
          expectBytes(open(key, nobleSeal(key, iv, pt)), pt, 'plaintext');
        }),
        { seed: SEED, numRuns: 120 },
      );
    });
  });
  
  describe('tampering', () => {
    const smallPlaintext = fc.uint8Array({ maxLength: 2048 });
  
    it('any single flipped bit makes open throw ERR_AUTH_FAILED, and nothing is returned', () => {
      fc.assert(
        fc.property(keyArb, smallPlaintext, fc.nat(), (key, pt, r) => {
          const sealed = seal(key, pt);
          const bit = r % (sealed.length * 8);
          sealed[bit >>> 3]! ^= 1 << (bit & 7);
          let returned: Uint8Array | undefined;
          let error: unknown;
          try {
            returned = open(key, sealed, 'blob');
          } catch (e) {
            error = e;
          }
          expect(returned).toBeUndefined();
          expect(isCairnError(error, 'ERR_AUTH_FAILED')).toBe(true);
        }),
        { seed: SEED, numRuns: 500 },
      );
    });
  
    it('truncated or extended objects never open', () => {
      fc.assert(
        fc.property(keyArb, smallPlaintext, fc.integer({ min: -64, max: 64 }).filter((d) => d !== 0), (key, pt, delta) => {
          const sealed = seal(key, pt);
          const changed =
            delta < 0 ? sealed.subarray(0, Math.max(0, sealed.length + delta)) : new Uint8Array([...sealed, ...new Uint8Array(delta)]);
          let error: unknown;
          try {
            open(key, changed);
          } catch (e) {
            error = e;
          }
          expect(isCairnError(error, 'ERR_AUTH_FAILED') || isCairnError(error, 'ERR_CORRUPT')).toBe(true);
        }),
        { seed: SEED, numRuns: 300 },
      );
    });
  });
});
