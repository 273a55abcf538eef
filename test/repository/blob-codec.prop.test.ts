/**
 * openBlobInto against openBlob: stored blobs (compressed or not) open to the same plaintext
 * through reused scratch buffers of any size — a view of the scratch when it is long enough — and
 * damaged bytes, a wrong uncompressed length or a wrong ID fail with exactly openBlob's error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compress } from '../../src/compress/index.js';
import { seal, type MasterKey } from '../../src/crypto/index.js';
import { hashId, type BlobId } from '../../src/model/index.js';
import { openBlob, openBlobInto } from '../../src/repository/blob-codec.js';
import { expectBytes } from '../crypto/bytes.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { outcome } from '../helpers/outcome.js';

const SEED = 20261124;

const key: MasterKey = { encrypt: pseudoRandomBytes(32, 1), macK: pseudoRandomBytes(16, 2), macR: pseudoRandomBytes(16, 3) };

/** Plaintexts: random (incompressible) or repetitive, up to ~100 KiB. */
const plainArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.record({ n: fc.integer({ min: 0, max: 100_000 }), seed: fc.nat() }).map(({ n, seed }) => pseudoRandomBytes(n, seed)),
  fc.record({ n: fc.integer({ min: 1, max: 100_000 }), b: fc.integer({ min: 0, max: 255 }) }).map(({ n, b }) => new Uint8Array(n).fill(b)),
);


function stored(plain: Uint8Array, compressed: boolean): { bytes: Uint8Array; uncompressedLength: number } {
  return compressed ? { bytes: seal(key, compress(plain)), uncompressedLength: plain.length } : { bytes: seal(key, plain), uncompressedLength: 0 };
}

describe('openBlobInto', () => {
  it('opens into reused scratch of any size what openBlob opens; a view of the scratch when it fits', () => {
    const opened = new Uint8Array(120_000);
    const plainScratch = new Uint8Array(120_000);
    fc.assert(
      fc.property(plainArb, fc.boolean(), fc.nat(), fc.nat(), (plain, compressed, cutOpened, cutPlain) => {
        const { bytes, uncompressedLength } = stored(plain, compressed && plain.length > 0);
        const id = hashId(plain) as BlobId;
        const expected = openBlob(key, bytes, id, uncompressedLength, 'blob');
        expectBytes(expected, plain, 'openBlob');
        // Long enough: views of the scratch.
        const got = openBlobInto(key, bytes, id, uncompressedLength, 'blob', {}, { opened, plain: plainScratch });
        expectBytes(got, plain, 'openBlobInto');
        expect(got.buffer).toBe(uncompressedLength > 0 ? plainScratch.buffer : opened.buffer);
        // A decompression scratch shorter than the plaintext: a fresh array, the same bytes.
        const short = plainScratch.subarray(0, plain.length === 0 ? 0 : cutPlain % plain.length);
        const got2 = openBlobInto(key, bytes, id, uncompressedLength, 'blob', {}, { opened: opened.subarray(cutOpened % 1000), plain: short });
        expectBytes(got2, plain, 'openBlobInto, short scratch');
        if (uncompressedLength > 0) expect(got2.buffer).not.toBe(plainScratch.buffer);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('damaged bytes, a wrong length or a wrong ID fail exactly as openBlob fails', () => {
    const scratch = { opened: new Uint8Array(120_000), plain: new Uint8Array(120_000) };
    const damageArb = fc.record({
      flip: fc.option(fc.record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) })),
      cut: fc.option(fc.nat()),
      lengthDelta: fc.constantFrom(0, 0, -1, 1, 1000),
      wrongId: fc.boolean(),
    });
    let failures = 0;
    fc.assert(
      fc.property(plainArb, fc.boolean(), damageArb, (plain, compressed, d) => {
        let { bytes, uncompressedLength } = stored(plain, compressed && plain.length > 0);
        if (d.flip !== null) {
          bytes = bytes.slice();
          bytes[d.flip.at % bytes.length]! ^= d.flip.mask;
        }
        if (d.cut !== null) bytes = bytes.subarray(0, d.cut % bytes.length);
        if (uncompressedLength > 0) uncompressedLength = Math.max(1, uncompressedLength + d.lengthDelta);
        const id = (d.wrongId ? hashId(plain, new Uint8Array([1])) : hashId(plain)) as BlobId;
        const what = 'data blob 0123 in pack 4567';
        const expected = outcome(() => openBlob(key, bytes, id, uncompressedLength, what, { pack: '4567' }));
        const got = outcome(() => openBlobInto(key, bytes, id, uncompressedLength, what, { pack: '4567' }, scratch));
        if ('ok' in expected) {
          if (!('ok' in got)) expect.fail(`openBlobInto failed where openBlob did not: ${got.message}`);
          expectBytes(got.ok, expected.ok, 'plaintext');
        } else {
          failures++;
          expect(got).toEqual(expected);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(failures).toBeGreaterThan(250);
  });
});
