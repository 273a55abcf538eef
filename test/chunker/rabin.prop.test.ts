/**
 * Seeded properties of the Rabin chunker: streaming never moves a boundary, sizes stay within
 * bounds, chunks reassemble the input, and cuts equal a literal BigInt transcription of restic's
 * algorithm (window array, 0x01 slide-in, MinSize−64 skipped bytes) written here independently.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkBoundaries, chunkStream } from '../../src/chunker/stream.js';
import { createRabinChunker } from '../../src/chunker/rabin/index.js';
import { pseudoRandomBytes, splitAt } from '../helpers/fixtures.js';

/** Irreducible degree-53 polynomials from restic/chunker's tests. */
const POLYNOMIALS = [0x3da3358b4dc173n, 0x2482734cacca49n] as const;

/** Deterministic random bytes (AES-128-CTR keyed by `seed`). */
type Segment = { kind: 'random'; length: number; seed: number } | { kind: 'fill'; length: number; byte: number };

/** Input built from segments of random bytes and constant runs (zeros hit the MinSize cut path). */
const segmentArb = (maxLength: number): fc.Arbitrary<Segment> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('random' as const), length: fc.nat(maxLength), seed: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('fill' as const),
        length: fc.nat(maxLength),
        byte: fc.constantFrom(0, 0x61, 0xff),
      }),
    },
  );

function build(segments: readonly Segment[]): Uint8Array {
  const out = new Uint8Array(segments.reduce((n, s) => n + s.length, 0));
  let o = 0;
  for (const s of segments) {
    if (s.kind === 'random') out.set(pseudoRandomBytes(s.length, s.seed), o);
    else out.fill(s.byte, o, o + s.length);
    o += s.length;
  }
  return out;
}

async function streamBoundaries(
  chunker: ReturnType<typeof createRabinChunker>,
  pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  bufferSize: number | undefined,
): Promise<{ bounds: Array<[number, number]>; joined: Uint8Array }> {
  const bounds: Array<[number, number]> = [];
  const parts: Uint8Array[] = [];
  const opts = bufferSize === undefined ? {} : { bufferSize };
  for await (const c of chunkStream(chunker, pieces, opts)) {
    bounds.push([c.offset, c.length]);
    parts.push(c.data.slice());
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    joined.set(p, o);
    o += p.length;
  }
  return { bounds, joined };
}

// ---- An independent, literal BigInt model of restic's chunker. ----

function clmod(x: bigint, p: bigint): bigint {
  const dp = p.toString(2).length;
  let r = x;
  for (let d = r.toString(2).length; r !== 0n && d >= dp; d = r.toString(2).length) r ^= p << BigInt(d - dp);
  return r;
}

function referenceCuts(data: Uint8Array, pol: bigint, minSize: number, maxSize: number, averageBits: number): number[] {
  const deg = BigInt(pol.toString(2).length - 1);
  const out: bigint[] = [];
  const modT: bigint[] = [];
  for (let b = 0; b < 256; b++) {
    // b followed by 63 zero bytes, appended one byte at a time and reduced each time.
    let h = clmod(BigInt(b), pol);
    for (let i = 0; i < 63; i++) h = clmod(h << 8n, pol);
    out.push(h);
    modT.push(clmod(BigInt(b) << deg, pol) | (BigInt(b) << deg));
  }
  const splitMask = (1n << BigInt(averageBits)) - 1n;
  const lengths: number[] = [];
  let window = new Uint8Array(64);
  let wpos = 0;
  let digest = 0n;
  let count = 0;
  let pre = 0;
  const reset = (): void => {
    window = new Uint8Array(64);
    window[0] = 1;
    wpos = 1;
    digest = 1n;
    count = 0;
    pre = minSize - 64;
  };
  reset();
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    count++;
    if (pre > 0) {
      pre--;
      continue;
    }
    const o = window[wpos]!;
    window[wpos] = b;
    wpos = (wpos + 1) % 64;
    digest ^= out[o]!;
    const top = digest >> (deg - 8n);
    digest = ((digest << 8n) | BigInt(b)) ^ modT[Number(top)]!;
    if (count >= minSize && ((digest & splitMask) === 0n || count >= maxSize)) {
      lengths.push(count);
      reset();
    }
  }
  if (count > 0) lengths.push(count);
  return lengths;
}

describe('Rabin chunker properties', () => {
  it('re-splitting the input never moves a boundary; chunks are in bounds and reassemble the input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(segmentArb(60_000), { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        fc.constantFrom(...POLYNOMIALS),
        fc.constantFrom(10, 12, 20),
        fc.constantFrom(undefined, 2 * 65536, 3 * 65536 + 7),
        async (segments, cuts, pol, averageBits, bufferSize) => {
          const data = build(segments);
          const chunker = createRabinChunker(pol, { minSize: 4096, maxSize: 65536, averageBits });
          const whole = await chunkBoundaries(chunker, data);
          const pieces = splitAt(data, cuts);
          async function* slowly(): AsyncGenerator<Uint8Array> {
            for (const p of pieces) yield p;
          }
          const { bounds, joined } = await streamBoundaries(chunker, slowly(), bufferSize);
          expect(bounds).toEqual(whole);
          expect(Buffer.compare(joined, data)).toBe(0);
          let pos = 0;
          for (const [i, [offset, length]] of bounds.entries()) {
            expect(offset).toBe(pos);
            expect(length).toBeGreaterThan(0);
            expect(length).toBeLessThanOrEqual(65536);
            if (i < bounds.length - 1) expect(length).toBeGreaterThanOrEqual(4096);
            pos += length;
          }
          expect(pos).toBe(data.length);
          expect(bounds.length === 0).toBe(data.length === 0);
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  it('cuts where a literal BigInt model of restic’s algorithm cuts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(segmentArb(4000), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(...POLYNOMIALS),
        fc.integer({ min: 64, max: 600 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 3, max: 10 }),
        async (segments, pol, minSize, extra, averageBits) => {
          const data = build(segments);
          const maxSize = minSize + extra;
          const got = await chunkBoundaries(createRabinChunker(pol, { minSize, maxSize, averageBits }), data);
          expect(got.map(([, length]) => length)).toEqual(referenceCuts(data, pol, minSize, maxSize, averageBits));
        },
      ),
      { seed: 42, numRuns: 80 },
    );
  });

  it('matches the model with restic’s default sizes on a few MiB', async () => {
    // One run at full size: MinSize 512 KiB, MaxSize 8 MiB, 20 mask bits, zeros and random data.
    const data = build([
      { kind: 'random', length: 2_500_000, seed: 9 },
      { kind: 'fill', length: 600_000, byte: 0 },
      { kind: 'random', length: 1_200_000, seed: 10 },
    ]);
    const got = await chunkBoundaries(createRabinChunker(POLYNOMIALS[0]), data);
    expect(got.map(([, l]) => l)).toEqual(referenceCuts(data, POLYNOMIALS[0], 512 * 1024, 8 * 1024 * 1024, 20));
  });
});
