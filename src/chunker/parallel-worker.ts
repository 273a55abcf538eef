/**
 * Worker side of the parallel chunker, and the pieces the main thread shares with it. Two kinds
 * of job (see parallel.ts): a chain over a block of a byte stream already in the shared memory,
 * fetching the block's tail (the bytes just past it, in the next block's slot) only as far as the
 * chain's last cut needs; and a chain over a region of a file, read by this worker through its own
 * small workspace in pieces that are still in cache when scanned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { instantiateScan, wasmGearScan } from './fastcdc-wasm.js';
import { fastCdcCut, type CutProgress, type FastCdcParams, type GearScan } from './fastcdc-params.js';
import { createFastCdc } from './fastcdc.js';
import { chunkFileSync } from './stream.js';
import type { Chunker } from './types.js';
import type { GearTable } from './gear.js';

/** Where the bytes after a block come from: the next block's slot. */
export interface TailSource {
  /** Tail bytes that exist (capacity, or fewer near the end of input). */
  readonly max: number;
  /** Bytes fetched at a time: about lookahead / 8 (most last chunks end well short of it). */
  readonly step: number;
  /** Address of the next block's first byte. */
  readonly from: number;
}

/** A chain over a block of a stream, in shared memory. */
export interface ChainJob {
  readonly kind: 'block';
  readonly id: number;
  /** Address where the chain starts (the block's first byte). */
  readonly start: number;
  /** The block's end: the chain stops at its first boundary at or past it. */
  readonly stop: number;
  /** Bytes from start to the end of input, or -1 if the input goes on past the tail. */
  readonly toEof: number;
  readonly tail: TailSource;
}

/** A chain over a file region: from `start` until the first boundary at or past `until`. */
export interface RegionJob {
  readonly kind: 'region';
  readonly id: number;
  readonly fd: number;
  readonly name: string;
  readonly start: number;
  readonly until: number;
  /** End of input (the file's size when chunking began). */
  readonly size: number;
  readonly withHash: boolean;
}

export type ChainResult =
  | { readonly id: number; readonly boundaries: Float64Array; readonly tailHave: number; readonly hashes?: BigUint64Array }
  | { readonly id: number; readonly error: string; readonly code?: string; readonly data?: Record<string, unknown> };

interface WorkerInit {
  readonly kind: 'cairn-chunk-chain';
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly params: FastCdcParams;
  readonly gear: GearTable;
}

/** Bytes read at a time by a region job: small enough to stay in cache until scanned. */
export const REGION_FILL = 1 << 20;

/** A resumable cut: `(b, avail, len) → length or -1`, with len undefined while unknown. */
export type BlockCut = (b: number, avail: number, len: number | undefined) => number;

/** A resumable FastCDC cut on a shared-memory scan. */
export function blockCutter(scan: GearScan, params: FastCdcParams): BlockCut {
  const progress: CutProgress = { next: -1 };
  return (b, avail, len) => fastCdcCut(params, scan, b, avail, len, progress);
}

/** Bytes from a cut at `b` to the end of input, or undefined while not known. */
export function lengthToEof(job: Pick<ChainJob, 'start' | 'toEof'>, b: number): number | undefined {
  return job.toEof < 0 ? undefined : job.toEof - (b - job.start);
}

/** Tail bytes to have after fetching one more step beyond `have`. */
export function tailWanted(job: Pick<ChainJob, 'tail'>, have: number): number {
  return Math.min(job.tail.max, have + job.tail.step);
}

/** Copies tail bytes [have, want) of `job` from the next block's slot to just after `job.stop`. */
export function fetchTailSync(memory: WebAssembly.Memory, job: Pick<ChainJob, 'stop' | 'tail'>, have: number, want: number): number {
  if (want <= have) return have;
  new Uint8Array(memory.buffer, job.stop + have, want - have).set(new Uint8Array(memory.buffer, job.tail.from + have, want - have));
  return want;
}

/**
 * The chain of cuts over a block already in memory, from `job.start` to its first boundary at or
 * past `job.stop`. `more(avail)` fetches more tail bytes and returns the new end of present bytes.
 */
export function chain(cut: BlockCut, job: ChainJob, avail: number, more: (avail: number) => number): { boundaries: Float64Array; avail: number } {
  const out: number[] = [job.start];
  let b = job.start;
  while (b < job.stop) {
    const r = cut(b, avail, lengthToEof(job, b));
    if (r < 0) {
      const next = more(avail);
      if (next <= avail) throw new Error(`internal: a cut at ${b} needs bytes past ${avail}, and the block's tail has no more`);
      avail = next;
      continue;
    }
    b += r;
    out.push(b);
  }
  return { boundaries: Float64Array.from(out), avail };
}

/**
 * The chain over a file region: the ordinary serial chunking from `job.start` (as if a chunk began
 * there), stopping at the first boundary at or past `job.until`. Returns the boundaries (file
 * offsets, starting with `start`) and, when asked, each chunk's gear hash.
 */
export function regionChain(chunker: Chunker, job: RegionJob): { boundaries: Float64Array; hashes?: BigUint64Array } {
  const out: number[] = [job.start];
  const hashes: bigint[] = [];
  let b = job.start;
  for (const c of chunkFileSync(chunker, job.fd, { start: job.start, size: job.size, name: job.name, withHash: job.withHash, fillSize: REGION_FILL })) {
    b += c.length;
    out.push(b);
    if (job.withHash) hashes.push(c.hash!);
    if (b >= job.until) break;
  }
  return { boundaries: Float64Array.from(out), ...(job.withHash ? { hashes: BigUint64Array.from(hashes) } : {}) };
}

if (parentPort !== null && (workerData as Partial<WorkerInit> | null)?.kind === 'cairn-chunk-chain') {
  const init = workerData as WorkerInit;
  const cut = blockCutter(wasmGearScan(instantiateScan(init.memory, init.module), init.params), init.params);
  let serial: Chunker | undefined;
  const port = parentPort;
  port.on('message', (job: ChainJob | RegionJob) => {
    let result: ChainResult;
    try {
      if (job.kind === 'region') {
        serial ??= createFastCdc({ ...init.params, gear: init.gear });
        const r = regionChain(serial, job);
        result = { id: job.id, boundaries: r.boundaries, tailHave: 0, ...(r.hashes ? { hashes: r.hashes } : {}) };
      } else {
        let have = fetchTailSync(init.memory, job, 0, tailWanted(job, 0));
        const r = chain(cut, job, job.stop + have, () => {
          have = fetchTailSync(init.memory, job, have, tailWanted(job, have));
          return job.stop + have;
        });
        result = { id: job.id, boundaries: r.boundaries, tailHave: have };
      }
    } catch (e) {
      const err = e as Error & { code?: string; data?: Record<string, unknown> };
      result = { id: job.id, error: err.message, ...(typeof err.code === 'string' ? { code: err.code } : {}), ...(err.data ? { data: err.data } : {}) };
    }
    const transfer: ArrayBuffer[] = 'boundaries' in result ? [result.boundaries.buffer as ArrayBuffer, ...(result.hashes ? [result.hashes.buffer as ArrayBuffer] : [])] : [];
    port.postMessage(result, transfer);
  });
}
