/** Keys and plaintexts for the seal/open property tests. */
import fc from 'fast-check';
import type { MasterKey } from '../../src/crypto/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';

export const nonZeroBytes = (n: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: n, maxLength: n }).filter((b) => b.some((x) => x !== 0));

export const keyArb: fc.Arbitrary<MasterKey> = fc.record({ encrypt: nonZeroBytes(32), macK: nonZeroBytes(16), macR: nonZeroBytes(16) });

/** Plaintexts from empty to ~70 KiB: small ones drawn byte by byte, large ones from a seed. */
export const plaintextArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.record({ n: fc.integer({ min: 0, max: 70 * 1024 }), seed: fc.nat() }).map(({ n, seed }) => pseudoRandomBytes(n, seed)),
);
