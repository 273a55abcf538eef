/**
 * The parallel chunker gives exactly the serial boundaries (and hashes), whatever the number of
 * workers, block size, input length, input split, long zero runs and early stops.
 */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunkFile, chunkStream, createFastCdc, ParallelChunker, chunkStreamParallel, type ByteSource, type Chunk } from '../../src/chunker/index.js';
import { pseudoRandomBytes, splitAt } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const SEED = 424242;
const SMALL = { min: 256, avg: 1024, max: 4096, normalization: 2 };

async function collect(chunks: AsyncIterable<Pick<Chunk, 'offset' | 'length' | 'hash'>>): Promise<Array<[number, number, bigint | undefined]>> {
  const out: Array<[number, number, bigint | undefined]> = [];
  for await (const c of chunks) out.push([c.offset, c.length, c.hash]);
  return out;
}

/** Random data with some long zero runs (where chains started at different places never meet). */
function mixed(len: number, seed: number, zeroRuns: number): Uint8Array {
  const data = pseudoRandomBytes(len, seed);
  for (let i = 0; i < zeroRuns; i++) {
    const start = Math.floor(((seed >>> 0) * (i + 1) * 2654435761) % Math.max(1, len));
    data.fill(0, start, Math.min(len, start + 30_000));
  }
  return data;
}

const pools: ParallelChunker[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

/** A chunker closed after the tests. */
function pool(options: ConstructorParameters<typeof ParallelChunker>[0]): ParallelChunker {
  const p = new ParallelChunker(options);
  pools.push(p);
  return p;
}

describe('parallel FastCDC == serial FastCDC', () => {
  it('for any length, split, worker count and block size', async () => {
    const byWorkers = [1, 2, 3].map((w) => pool({ ...SMALL, workers: w, blockSize: 8200 + 8 * w * 300 }));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 250_000 }),
        fc.integer(),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 2 }),
        async (len, seed, zeroRuns, fractions, w) => {
          const data = mixed(len, seed, zeroRuns);
          const serial = await collect(chunkStream(createFastCdc(SMALL), [data], { withHash: true }));
          const par = await collect(byWorkers[w]!.chunks(splitAt(data, fractions), { withHash: true }));
          expect(par).toEqual(serial);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('for lengths at block boundaries', async () => {
    const p = pool({ ...SMALL, workers: 2, blockSize: 8200 });
    for (const blocks of [1, 2, 3, 5]) {
      for (const delta of [-1, 0, 1, -4097, 4097]) {
        const len = Math.max(0, blocks * 8200 + delta);
        const data = pseudoRandomBytes(len, len);
        const serial = await collect(chunkStream(createFastCdc(SMALL), [data]));
        expect(await collect(p.chunks([data]))).toEqual(serial);
      }
    }
  });

  it('with the repository defaults on 80 MiB, and most chunks come from workers', async () => {
    const data = pseudoRandomBytes(80 << 20, 99);
    const serial = await collect(chunkStream(createFastCdc(), [data]));
    const p = pool({ workers: 2, blockSize: 16 << 20 });
    const pieces = splitAt(data, Array.from({ length: 80 }, (_, i) => i / 80));
    expect(await collect(p.chunks(pieces))).toEqual(serial);
    const stats = p.lastStats();
    expect(stats.fromWorkers + stats.resynced).toBe(serial.length);
    expect(stats.fromWorkers).toBeGreaterThan(stats.resynced);
  });

  it('chunk data views hold the chunk bytes', async () => {
    const data = mixed(300_000, 5, 2);
    const p = pool({ ...SMALL, workers: 2, blockSize: 8200 });
    for await (const c of p.chunks([data])) expect(Buffer.from(c.data).equals(data.subarray(c.offset, c.offset + c.length))).toBe(true);
  });

  it('a stream stopped early leaves the chunker usable; a failing source reports its error', async () => {
    const p = pool({ ...SMALL, workers: 2, blockSize: 8200 });
    const data = pseudoRandomBytes(200_000, 11);
    let n = 0;
    for await (const c of p.chunks([data])) {
      void c;
      if (++n === 5) break;
    }
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 50_000);
      throw new Error('disk on fire');
    }
    await expect(collect(p.chunks(failing() as ByteSource))).rejects.toThrow('disk on fire');
    const serial = await collect(chunkStream(createFastCdc(SMALL), [data]));
    expect(await collect(p.chunks([data]))).toEqual(serial);
  });

  it('chunkStreamParallel (temporary pool) equals serial on empty and tiny input', async () => {
    for (const len of [0, 1, 255, 256, 257, 5000]) {
      const data = pseudoRandomBytes(len, 3);
      const serial = await collect(chunkStream(createFastCdc(SMALL), [data]));
      expect(await collect(chunkStreamParallel([data], { ...SMALL, workers: 2 }))).toEqual(serial);
    }
  });
});

describe('parallel FastCDC boundaries of files (workers chunk regions)', () => {
  const dir = tempDir('cairn-par-');
  const withFile = async <T>(data: Uint8Array, fn: (fd: number) => Promise<T>): Promise<T> => {
    const path = join(dir, `f${data.length}`);
    writeFileSync(path, data);
    const fd = openSync(path, 'r');
    try {
      return await fn(fd);
    } finally {
      closeSync(fd);
    }
  };

  it('equal serial chunkFile for any length, region size and worker count (with hashes)', async () => {
    const byWorkers = [1, 2, 3].map((w) => pool({ ...SMALL, workers: w }));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 250_000 }),
        fc.integer(),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 8194, max: 60_000 }),
        async (len, seed, zeroRuns, w, regionSize) => {
          const data = mixed(len, seed, zeroRuns);
          const stream = await collect(chunkStream(createFastCdc(SMALL), [data], { withHash: true }));
          await withFile(data, async (fd) => {
            expect(await collect(chunkFile(createFastCdc(SMALL), fd, { withHash: true }))).toEqual(stream);
            expect(await collect(byWorkers[w]!.boundariesOfFile(fd, { withHash: true, regionSize }))).toEqual(stream);
          });
        },
      ),
      { seed: SEED, numRuns: 50 },
    );
  });

  it('with the repository defaults on a 100 MiB file, most chunks from workers', async () => {
    const data = pseudoRandomBytes(100 << 20, 17);
    const p = pool({ workers: 2 });
    const serial = (await collect(chunkStream(createFastCdc(), [data]))).map(([o, l]) => [o, l]);
    await withFile(data, async (fd) => {
      expect((await collect(p.boundariesOfFile(fd, { regionSize: 16 << 20 }))).map(([o, l]) => [o, l])).toEqual(serial);
      expect(p.lastStats().fromWorkers).toBeGreaterThan(10 * p.lastStats().resynced);
    });
  });

  it('reports a file that is shorter than it should be (shrank while read), serial and parallel', async () => {
    const data = pseudoRandomBytes(100_000, 23);
    const p = pool({ ...SMALL, workers: 2 });
    await withFile(data, async (fd) => {
      await expect(collect(p.boundariesOfFile(fd, { size: 150_000, name: 'model.bin', regionSize: 10_000 }))).rejects.toThrow(/model\.bin ended at byte 100000.*shrank/);
      await expect(collect(chunkFile(createFastCdc(SMALL), fd, { size: 150_000, name: 'model.bin' }))).rejects.toThrow(/model\.bin ended at byte 100000.*shrank/);
      // the chunker is still usable afterwards
      expect(await collect(p.boundariesOfFile(fd, { regionSize: 10_000 }))).toEqual(await collect(chunkStream(createFastCdc(SMALL), [data])));
    });
  });
});
