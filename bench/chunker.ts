/**
 * Chunker throughput: each implementation on the same random data, against SHA-256 of that data
 * measured in the same run (ratios survive a noisy machine). Warm-up first, then the median of
 * several runs. Serial-versus-parallel comparisons alternate the two (A B A B …) and report the
 * median of the pairwise ratios, so that a noisy neighbour slows both sides alike.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chunkFile, chunkStream, createFastCdc, createRabinChunker, ParallelChunker, randomPolynomial, type Chunk,
} from '../src/index.js';

export interface ChunkerResult {
  implementation: string;
  input: string;
  mbPerSecond: number;
  /** MB/s divided by SHA-256's MB/s on the same data in the same run. */
  ratioToSha256: number;
  runs: number[];
  chunks: number;
}

export interface SpeedupResult {
  input: string;
  serial: string;
  parallel: string;
  /** Median of parallel/serial over alternating pairs of runs. */
  medianRatio: number;
  ratios: number[];
}

function randomData(bytes: number): Uint8Array {
  const key = randomBytes(32);
  return new Uint8Array(createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16)).update(new Uint8Array(bytes)));
}

function pieces(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function count(chunks: AsyncIterable<Pick<Chunk, 'offset' | 'length'>>): Promise<number> {
  let n = 0;
  for await (const c of chunks) {
    void c;
    n++;
  }
  return n;
}

/** MB/s of one run of `fn`, and what it returned. */
async function once(bytes: number, fn: () => Promise<number>): Promise<{ mbPerSecond: number; count: number }> {
  const t = performance.now();
  const n = await fn();
  return { mbPerSecond: bytes / ((performance.now() - t) / 1000) / 1e6, count: n };
}

type Run = () => Promise<number>;

export async function chunkerBench(options: { singleBytes: number; parallelBytes: number; repeats: number; log: (s: string) => void }): Promise<{ results: ChunkerResult[]; speedups: SpeedupResult[] }> {
  const { singleBytes, parallelBytes, repeats, log } = options;
  const results: ChunkerResult[] = [];
  const speedups: SpeedupResult[] = [];
  /** Runs the cases alternately `repeats` times after one warm-up round; records each. */
  const measure = async (input: string, bytes: number, sha: number | undefined, cases: Array<[string, Run]>): Promise<ChunkerResult[]> => {
    for (const [, fn] of cases) await fn();
    const runs = cases.map(() => [] as number[]);
    const counts = cases.map(() => 0);
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < cases.length; i++) {
        const o = await once(bytes, cases[i]![1]);
        runs[i]!.push(o.mbPerSecond);
        counts[i] = o.count;
      }
    }
    const out = cases.map(([name], i) => {
      const mb = median(runs[i]!);
      return { implementation: name, input, mbPerSecond: mb, ratioToSha256: mb / (sha ?? mb), runs: runs[i]!.map((x) => Math.round(x)), chunks: counts[i]! };
    });
    for (const r of out) log(`  ${r.implementation}, ${input}: ${r.mbPerSecond.toFixed(0)} MB/s`);
    results.push(...out);
    return out;
  };
  const pairRatio = (input: string, a: ChunkerResult, b: ChunkerResult): void => {
    const ratios = b.runs.map((x, i) => x / a.runs[i]!);
    speedups.push({ input, serial: a.implementation, parallel: b.implementation, medianRatio: median(ratios), ratios: ratios.map((x) => Math.round(x * 100) / 100) });
  };

  const small = randomData(singleBytes);
  const smallLabel = `${singleBytes >> 20} MiB random, 1 MiB pieces`;
  const [sha] = await measure(smallLabel, singleBytes, undefined, [['SHA-256 (node:crypto)', async () => (createHash('sha256').update(small).digest(), 0)]]);
  // Each chunker is made once and reused, as the archiver does: runs measure chunking, not setup.
  const wasm = createFastCdc({ engine: 'wasm' });
  const js = createFastCdc({ engine: 'js' });
  const rabin = createRabinChunker(randomPolynomial());
  const shaSmall = sha!.mbPerSecond;
  results[results.length - 1] = { ...sha!, ratioToSha256: 1 };
  await measure(smallLabel, singleBytes, shaSmall, [
    ['fastcdc wasm, 1 thread', () => count(chunkStream(wasm, pieces(small, 1 << 20)))],
    ['fastcdc TypeScript, 1 thread', () => count(chunkStream(js, pieces(small, 1 << 20)))],
    ['rabin (restic) TypeScript, 1 thread', () => count(chunkStream(rabin, pieces(small, 1 << 20)))],
  ]);

  // One large input, serial vs 2 workers on the same bytes, alternating: as a file (page cache;
  // workers chunk regions with their own reads) and as a stream of 1 MiB pieces (main thread copies).
  const big = randomData(parallelBytes);
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  const path = join(dir, 'big.bin');
  writeFileSync(path, big);
  const fd = openSync(path, 'r');
  const pool = new ParallelChunker({ workers: 2 });
  try {
    const fileLabel = `${parallelBytes >> 20} MiB random file (page cache)`;
    const streamLabel = `${parallelBytes >> 20} MiB random, one stream, 1 MiB pieces`;
    const [shaBig] = await measure(streamLabel, parallelBytes, undefined, [['SHA-256 (node:crypto)', async () => (createHash('sha256').update(big).digest(), 0)]]);
    const base = shaBig!.mbPerSecond;
    const [fs1, fs2] = await measure(fileLabel, parallelBytes, base, [
      ['fastcdc wasm, 1 thread', () => count(chunkFile(wasm, fd))],
      ['fastcdc wasm, 2 workers (boundaries)', () => count(pool.boundariesOfFile(fd))],
    ]);
    pairRatio(fileLabel, fs1!, fs2!);
    const [ss1, ss2] = await measure(streamLabel, parallelBytes, base, [
      ['fastcdc wasm, 1 thread', () => count(chunkStream(wasm, pieces(big, 1 << 20)))],
      ['fastcdc wasm, 2 workers', () => count(pool.chunks(pieces(big, 1 << 20)))],
    ]);
    pairRatio(streamLabel, ss1!, ss2!);
  } finally {
    await pool.close();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return { results, speedups };
}
