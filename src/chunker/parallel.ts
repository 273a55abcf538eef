/**
 * Parallel FastCDC for one large input, with boundaries identical to the serial chunker.
 *
 * Why not candidate marking (SS-CDC)? Marking computes the gear hash at every byte, while the
 * serial chunker skips the first `min` bytes of every chunk: at 512 KiB/1 MiB/8 MiB that is ~40%
 * of the input, so marking on two cores would beat one serial core by only ~1.2×. Instead:
 *
 * 1. Input is cut into blocks (default 32 MiB). Each block sits in its own slot of one shared wasm
 *    memory, with room after it for a tail: the first bytes of the next block, fetched only as far
 *    as a cut needs them (usually about a chunk). A worker runs the ordinary serial chain (with
 *    min-skip) over the block, starting at its first byte as if a chunk began there, up to its
 *    first boundary at or past the block's end.
 * 2. The main thread stitches. It knows the true boundary `t` (initially 0). If `t` is one of the
 *    boundaries the worker found for t's block, every later boundary of that worker's chain is
 *    true as well (a cut depends only on the bytes from its chunk start), so they are taken as
 *    they are. Otherwise the main thread cuts serially from `t` until it lands on one of the
 *    worker's boundaries. Chains from different starts usually meet within a few chunks because,
 *    past `min`, a cut depends only on the last 48 bytes; a long run without cut points (zeros)
 *    is where they don't, and there the main thread cuts at serial speed. Exactness never
 *    depends on the chains meeting.
 *
 * That is the byte-stream path (`chunks`): the main thread copies the pieces into the slots, and a
 * tail is copied from the next block's slot. Chunks come with their bytes.
 *
 * Files take another path (`boundariesOfFile`): boundaries only. A file is cut into large regions
 * (default 128 MiB); a worker chunks a region serially through its own small workspace with
 * positional reads, and goes on a few chunks past the region's end, so that the stitcher can
 * follow that chain into the next region until it meets the next worker's chain (and cuts on the
 * main thread only if they have not met by then). Memory stays small whatever the region size,
 * and the cost of meeting is paid once per region instead of once per 32 MiB. Consumers that need
 * the bytes (hashing) read each chunk themselves, in parallel, from the page cache.
 */
import { fstat, read } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { CairnError, messageOf } from '../errors.js';
import { workerScriptUrl } from '../util/index.js';
import type { ByteSource, Chunk, Chunker } from './types.js';
import { publicGearTable, type GearTable } from './gear.js';
import { fastCdcParams, gearHashOf, lookaheadOf, type FastCdcParams } from './fastcdc-params.js';
import { createFastCdc, type CreateFastCdcOptions } from './fastcdc.js';
import { chunkFile } from './stream.js';
import { createWasmMemory, fastCdcWasmModule, instantiateScan, wasmGearScan, writeGearTable, WASM_DATA_BASE } from './fastcdc-wasm.js';
import { blockCutter, chain, fetchTailSync, lengthToEof, tailWanted, type BlockCut, type ChainJob, type ChainResult, type RegionJob, type TailSource } from './parallel-worker.js';

const readAsync = promisify(read);
const fstatAsync = promisify(fstat);

export interface ParallelChunkerOptions extends Omit<CreateFastCdcOptions, 'engine'> {
  /** Worker threads. @default os.availableParallelism() */
  readonly workers?: number;
  /** Bytes per block (one worker job); at least 2 × lookahead. @default 32 MiB */
  readonly blockSize?: number;
}

export interface ParallelChunkStats {
  /** Chunks taken from worker chains. */
  readonly fromWorkers: number;
  /** Chunks cut by the main thread to rejoin a worker chain. */
  readonly resynced: number;
}

export interface FileBoundariesOptions {
  /** Bytes to chunk from position 0. @default the file's size (fstat) */
  readonly size?: number;
  /** Name used in error messages. @default `fd <n>` */
  readonly name?: string;
  readonly withHash?: boolean;
  /** Bytes per worker job. @default size / (4 × workers), within 32..256 MiB */
  readonly regionSize?: number;
}

/** A chunk's place in a file (no bytes): what `boundariesOfFile` yields. */
export interface ChunkBoundary {
  readonly offset: number;
  readonly length: number;
  readonly hash?: bigint;
}

interface Block {
  readonly index: number;
  /** Offset of the block's first byte in the input. */
  readonly x: number;
  readonly len: number;
  /** The chain job (addresses, length to end of input, tail source); set when scheduled. */
  job?: ChainJob;
  /** Tail bytes present after the block in its slot. */
  have: number;
  /** The worker chain's boundaries, as input offsets. */
  result?: Promise<Float64Array>;
}

/** Hands blocks to the stitcher in order, and takes slots back. */
interface Feeder {
  block(index: number): Promise<Block | undefined>;
  /** Makes the bytes of `blk`'s slot present up to address `q` (fetching tail bytes). */
  ensure(blk: Block, q: number): Promise<void>;
  release(index: number): void;
  close(): Promise<void>;
}

interface Pending {
  readonly job: ChainJob | RegionJob;
  readonly resolve: (r: { boundaries: Float64Array; tailHave: number; hashes?: BigUint64Array }) => void;
  readonly reject: (e: unknown) => void;
}

/** Parallel chunker with a pool of workers, reusable for many inputs (one at a time). */
export class ParallelChunker {
  readonly params: FastCdcParams;
  readonly workerCount: number;
  readonly blockSize: number;
  readonly lookahead: number;
  /** Room after each block in its slot for its tail (the head of the next block). */
  readonly tail: number;
  /** Tail bytes fetched up front and beyond each need. */
  readonly tailStep: number;
  readonly slots: number;
  private readonly memory: WebAssembly.Memory;
  private readonly gearTable: GearTable;
  private readonly gear: BigUint64Array;
  private serial: Chunker | undefined;
  private readonly cut: BlockCut;
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private nextJob = 0;
  private busy = false;
  private closed = false;
  private failure: unknown;
  private stats = { fromWorkers: 0, resynced: 0 };

  constructor(options: ParallelChunkerOptions = {}) {
    this.params = fastCdcParams(options);
    this.workerCount = Math.max(1, options.workers ?? availableParallelism());
    this.lookahead = lookaheadOf(this.params);
    const block = Math.max(options.blockSize ?? 32 << 20, 2 * this.lookahead);
    this.blockSize = Math.ceil(block / 8) * 8; // keeps 8-aligned input aligned: fast copies
    this.tail = Math.ceil((this.lookahead + 8) / 8) * 8;
    this.tailStep = Math.ceil(this.lookahead / 64) * 8;
    this.slots = this.workerCount + 2;
    this.memory = createWasmMemory(this.slots * (this.blockSize + this.tail), true);
    const gear = options.gear ?? publicGearTable();
    this.gearTable = gear;
    this.gear = gear.values;
    writeGearTable(this.memory, gear);
    this.cut = blockCutter(wasmGearScan(instantiateScan(this.memory, fastCdcWasmModule(true)), this.params), this.params);
  }

  /** Counters of the last input: chunks taken from workers, and chunks the main thread cut. */
  lastStats(): ParallelChunkStats {
    return { ...this.stats };
  }

  /** Stops the workers; the chunker cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers;
    this.workers = [];
    this.idle = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }

  /** Address of the first byte of block `index`'s slot. */
  slotAddr(index: number): number {
    return WASM_DATA_BASE + (index % this.slots) * (this.blockSize + this.tail);
  }

  /** A view of the shared memory (valid until the memory grows, which it never does). */
  bytes(addr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, addr, len);
  }

  /**
   * Chunks a byte stream. Chunk `data` views point into shared memory and stay valid until the
   * next chunk is asked for. One input at a time per chunker.
   */
  chunks(source: ByteSource, options: { readonly withHash?: boolean } = {}): AsyncGenerator<Chunk, void, undefined> {
    return this.run(() => new StreamFeeder(this, source), options.withHash === true);
  }

  /**
   * The chunk boundaries (and gear hashes, when asked) of the first `size` bytes of an open file,
   * computed by workers over large regions; no bytes are kept. The file must not shrink meanwhile
   * (ERR_FILE_READ if it does); bytes appended after `size` are ignored.
   */
  async *boundariesOfFile(fd: number, options: FileBoundariesOptions = {}): AsyncGenerator<ChunkBoundary, void, undefined> {
    if (this.busy) throw new CairnError('ERR_INTERNAL', 'a ParallelChunker chunks one input at a time; wait for the previous one to finish or use another chunker');
    if (this.closed) throw new CairnError('ERR_INTERNAL', 'this ParallelChunker was closed');
    if (this.failure !== undefined) throw this.failure;
    this.busy = true;
    this.stats = { fromWorkers: 0, resynced: 0 };
    const name = options.name ?? `fd ${fd}`;
    const withHash = options.withHash === true;
    const pending = new Map<number, Promise<{ boundaries: Float64Array; hashes?: BigUint64Array }>>();
    try {
      const size = options.size ?? (await fstatAsync(fd)).size;
      const region = Math.max(2 * this.lookahead, options.regionSize ?? Math.min(256 << 20, Math.max(32 << 20, Math.ceil(size / (4 * this.workerCount)))));
      const count = Math.ceil(size / region);
      // A chain goes this far past its region's end, to meet the next region's chain.
      const overlap = 4 * this.params.avg + this.params.min;
      this.serial ??= createFastCdc({ ...this.params, gear: this.gearTable });
      const serial = this.serial;
      if (count <= 1) {
        for await (const c of chunkFile(serial, fd, { size, name, withHash })) {
          this.stats.resynced++;
          yield withHash ? { offset: c.offset, length: c.length, hash: c.hash! } : { offset: c.offset, length: c.length };
        }
        return;
      }
      let next = 0;
      const dispatch = (upTo: number): void => {
        for (; next < Math.min(count, upTo); next++) {
          const start = next * region;
          const job: RegionJob = { kind: 'region', id: this.nextJob++, fd, name, start, until: Math.min(size, start + region + overlap), size, withHash };
          const p = this.runJob(job);
          p.catch(() => undefined);
          pending.set(next, p);
        }
      };
      const chainOf = (k: number): Promise<{ boundaries: Float64Array; hashes?: BigUint64Array }> | undefined => {
        if (k < 0 || k >= count) return undefined;
        dispatch(k + this.workerCount + 1); // keep workers busy a little ahead of the stitcher
        return pending.get(k);
      };
      let t = 0;
      while (t < size) {
        const k = Math.floor(t / region);
        for (const old of pending.keys()) if (old < k - 1) pending.delete(old);
        let len = -1;
        let hash: bigint | undefined;
        for (const c of [chainOf(k), chainOf(k - 1)]) {
          if (c === undefined) continue;
          const { boundaries, hashes } = await c;
          const i = search(boundaries, t);
          if (i >= 0 && i + 1 < boundaries.length) {
            len = boundaries[i + 1]! - t;
            hash = hashes?.[i];
            break;
          }
        }
        if (len > 0) {
          this.stats.fromWorkers++;
        } else {
          // Not on a worker's chain yet: cut here, reading one lookahead from the file.
          const n = Math.min(this.lookahead, size - t);
          const buf = serial.workspace(n);
          let got = 0;
          while (got < n) {
            let r: number;
            try {
              r = (await readAsync(fd, buf, got, n - got, t + got)).bytesRead;
            } catch (e) {
              throw new CairnError('ERR_FILE_READ', `reading ${name} at byte ${t + got} failed: ${messageOf(e)}`, { cause: e, data: { at: t + got } });
            }
            if (r === 0) throw new CairnError('ERR_FILE_READ', `${name} ended at byte ${t + got}, before the ${size} bytes it had when chunking began: it shrank while being read; read it again`, { data: { at: t + got, size, shrank: true } });
            got += r;
          }
          const eof = t + n === size;
          len = serial.cut(buf, 0, n, eof);
          if (withHash) hash = serial.gearHash!(buf, 0, len, n, eof);
          this.stats.resynced++;
        }
        yield withHash ? { offset: t, length: len, hash: hash! } : { offset: t, length: len };
        t += len;
      }
    } finally {
      this.dropQueued();
      await Promise.all([...pending.values()].map((p) => p.then(() => undefined, () => undefined)));
      this.busy = false;
    }
  }

  private async *run(makeFeeder: () => Feeder, withHash: boolean): AsyncGenerator<Chunk, void, undefined> {
    if (this.busy) throw new CairnError('ERR_INTERNAL', 'a ParallelChunker chunks one input at a time; wait for the previous one to finish or use another chunker');
    if (this.closed) throw new CairnError('ERR_INTERNAL', 'this ParallelChunker was closed');
    if (this.failure !== undefined) throw this.failure;
    this.busy = true;
    this.stats = { fromWorkers: 0, resynced: 0 };
    const feeder = makeFeeder();
    try {
      yield* this.stitch(feeder, withHash);
    } finally {
      await feeder.close();
      this.busy = false;
    }
  }

  private async *stitch(feeder: Feeder, withHash: boolean): AsyncGenerator<Chunk, void, undefined> {
    let t = 0;
    for (let j = 0; ; ) {
      const blk = await feeder.block(j);
      if (blk === undefined) return;
      if (t >= blk.x + blk.len) {
        feeder.release(j);
        j++;
        continue;
      }
      const boundaries = await blk.result!;
      const job = blk.job!;
      const base = job.start - blk.x; // address of input offset o: base + o
      const emit = async (len: number): Promise<Chunk> => {
        const addr = base + t;
        await feeder.ensure(blk, addr + len);
        const data = this.bytes(addr, len);
        if (!withHash) return { offset: t, length: len, data };
        return { offset: t, length: len, data, hash: gearHashOf(this.params, this.gear, new Uint8Array(this.memory.buffer), addr, len, lengthToEof(job, addr) ?? this.lookahead) };
      };
      let i = search(boundaries, t);
      if (i >= 0) {
        for (i++; i < boundaries.length; i++) {
          const len = boundaries[i]! - t;
          this.stats.fromWorkers++;
          yield await emit(len);
          t += len;
        }
      } else {
        const addr = base + t;
        let r: number;
        while ((r = this.cut(addr, job.stop + blk.have, lengthToEof(job, addr))) < 0) {
          const before = blk.have;
          await feeder.ensure(blk, job.stop + before + 1);
          if (blk.have <= before) throw new CairnError('ERR_INTERNAL', `a cut at ${t} needs bytes past the end of its block's tail`);
        }
        this.stats.resynced++;
        yield await emit(r);
        t += r;
      }
    }
  }

  /**
   * Computes block `blk`'s chain: on a worker, or on this thread when the input is a single block
   * (not worth waking a worker).
   */
  schedule(blk: Block, toEof: number, tail: TailSource): Promise<void> {
    const start = this.slotAddr(blk.index);
    const job: ChainJob = { kind: 'block', id: this.nextJob++, start, stop: start + blk.len, toEof, tail };
    blk.job = job;
    const toOffsets = (b: Float64Array): Float64Array => b.map((a) => a - start + blk.x);
    let result: Promise<{ boundaries: Float64Array; tailHave: number }>;
    if (blk.index === 0 && tail.max === 0) {
      const r = chain(this.cut, job, job.stop, () => job.stop);
      result = Promise.resolve({ boundaries: r.boundaries, tailHave: 0 });
    } else {
      result = this.runJob(job);
    }
    blk.result = result.then((r) => {
      blk.have = r.tailHave;
      return toOffsets(r.boundaries);
    });
    blk.result.catch(() => undefined); // the stitcher observes it; no unhandled-rejection noise
    return result.then(() => undefined, () => undefined);
  }

  /** Makes tail bytes of `blk` present up to address `q` (in steps), copied from the next slot. */
  fetchTail(blk: Block, q: number): void {
    const job = blk.job!;
    while (q > job.stop + blk.have && blk.have < job.tail.max) blk.have = fetchTailSync(this.memory, job, blk.have, tailWanted(job, blk.have));
  }

  /** Drops jobs not yet started (their input was abandoned). */
  dropQueued(): void {
    for (const p of this.queue) p.reject(new CairnError('ERR_INTERRUPTED', 'chunking stopped before this block was processed'));
    this.queue = [];
  }

  private runJob(job: ChainJob | RegionJob): Promise<{ boundaries: Float64Array; tailHave: number; hashes?: BigUint64Array }> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.startWorkers();
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.drain();
    });
  }

  private startWorkers(): void {
    if (this.workers.length > 0) return;
    const url = workerScriptUrl(import.meta.url, '../chunker/parallel-worker.js');
    for (let i = 0; i < this.workerCount; i++) {
      const w = new Worker(url, {
        workerData: { kind: 'cairn-chunk-chain', module: fastCdcWasmModule(true), memory: this.memory, params: this.params, gear: this.gearTable },
      });
      w.unref();
      w.on('message', (r: ChainResult) => {
        const p = this.running.get(w);
        this.running.delete(w);
        this.idle.push(w);
        if (p !== undefined) {
          if ('boundaries' in r) p.resolve(r);
          else p.reject(r.code === 'ERR_FILE_READ' ? new CairnError('ERR_FILE_READ', r.error, { data: r.data ?? {} }) : new CairnError('ERR_WORKER', `a chunker worker failed: ${r.error}`, { data: r.data ?? {} }));
        }
        this.drain();
      });
      w.on('error', (e) => this.fail(new CairnError('ERR_WORKER', `a chunker worker thread failed: ${messageOf(e)}`, { cause: e })));
      w.on('exit', (code) => {
        if (this.workers.includes(w)) this.fail(new CairnError('ERR_WORKER', `a chunker worker thread exited unexpectedly (code ${code})`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    for (const p of [...this.running.values(), ...this.queue]) p.reject(e);
    this.running.clear();
    this.queue = [];
  }

  private drain(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.running.set(w, p);
      w.ref(); // a job in flight keeps the process alive
      w.postMessage(p.job);
    }
    for (const w of this.idle) w.unref();
  }
}

/** Index of `v` in the sorted array, or -1. */
function search(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[mid]!;
    if (x === v) return mid;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Shared by both feeders: blocks by index, slot accounting, change notification, jobs in flight. */
abstract class BaseFeeder implements Feeder {
  abstract ensure(blk: Block, q: number): Promise<void>;

  protected readonly blocks = new Map<number, Block>();
  protected released = 0;
  /** Index of the last block once known; -2 for empty input. */
  protected lastBlock = -1;
  protected cancelled = false;
  protected error: unknown;
  protected readonly inFlight = new Set<Promise<void>>();
  private wake: () => void = () => undefined;
  protected changed: Promise<void> = this.renew();

  constructor(protected readonly owner: ParallelChunker) {}

  async block(index: number): Promise<Block | undefined> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const b = this.blocks.get(index);
      if (b?.result !== undefined) return b;
      if (this.lastBlock === -2 || (this.lastBlock >= 0 && index > this.lastBlock)) return undefined;
      await this.changed;
    }
  }

  release(index: number): void {
    this.blocks.delete(index);
    this.released = Math.max(this.released, index + 1);
    this.notify();
  }

  async close(): Promise<void> {
    this.cancelled = true;
    this.notify();
    this.owner.dropQueued();
    // A job still running may write into slots (file reads): let it finish before the slots are reused.
    await Promise.all(this.inFlight);
  }

  protected slotFree(index: number): boolean {
    return index - this.released < this.owner.slots;
  }

  protected schedule(blk: Block, toEof: number, tail: TailSource): void {
    const p = this.owner.schedule(blk, toEof, tail);
    this.inFlight.add(p);
    void p.then(() => this.inFlight.delete(p));
  }

  protected notify(): void {
    const w = this.wake;
    this.changed = this.renew();
    w();
  }

  private renew(): Promise<void> {
    return new Promise((r) => {
      this.wake = r;
    });
  }
}

/** Fills slots from a byte stream: the main thread copies pieces in, in the background. */
class StreamFeeder extends BaseFeeder {
  private readonly readerDone: Promise<void>;

  constructor(owner: ParallelChunker, source: ByteSource) {
    super(owner);
    this.readerDone = this.read(source).catch((e: unknown) => {
      this.error = e;
      this.notify();
    });
  }

  override async close(): Promise<void> {
    this.cancelled = true;
    this.notify();
    await this.readerDone;
    await super.close();
  }

  private async read(source: ByteSource): Promise<void> {
    const { blockSize, tail } = this.owner;
    const it = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
    let piece: Uint8Array | undefined;
    let pos = 0;
    let x = 0;
    let done = false;
    try {
      for (let j = 0; !done; j++) {
        while (!this.slotFree(j)) {
          if (this.cancelled) return;
          await this.changed;
        }
        if (this.cancelled) return;
        const slot = this.owner.slotAddr(j);
        let len = 0;
        while (len < blockSize) {
          if (piece === undefined || pos === piece.length) {
            const r = await it.next();
            if (this.cancelled) return;
            if (r.done === true) {
              done = true;
              break;
            }
            piece = r.value;
            pos = 0;
            continue;
          }
          const n = Math.min(blockSize - len, piece.length - pos);
          this.owner.bytes(slot + len, n).set(piece.subarray(pos, pos + n));
          len += n;
          pos += n;
        }
        const prev = this.blocks.get(j - 1);
        if (done && len === 0) {
          // Input ended exactly at a block boundary: the previous block is the last.
          if (prev === undefined) {
            this.lastBlock = -2;
          } else {
            this.lastBlock = j - 1;
            this.schedule(prev, prev.len, { max: 0, step: 0, from: slot });
          }
        } else {
          // The previous block's tail is the head of this one, copied from this slot on demand.
          if (prev !== undefined) this.schedule(prev, done ? prev.len + len : -1, { max: Math.min(tail, len), step: this.owner.tailStep, from: slot });
          const blk: Block = { index: j, x, len, have: 0 };
          this.blocks.set(j, blk);
          x += len;
          if (done) {
            this.lastBlock = j;
            this.schedule(blk, len, { max: 0, step: 0, from: slot });
          }
        }
        this.notify();
      }
    } finally {
      if (!done) await (it as AsyncIterator<Uint8Array>).return?.();
    }
  }

  override ensure(blk: Block, q: number): Promise<void> {
    this.owner.fetchTail(blk, q);
    return Promise.resolve();
  }
}

/** Chunks one stream in parallel with a temporary pool (for a single large input). */
export async function* chunkStreamParallel(source: ByteSource, options: ParallelChunkerOptions & { readonly withHash?: boolean } = {}): AsyncGenerator<Chunk, void, undefined> {
  const chunker = new ParallelChunker(options);
  try {
    yield* chunker.chunks(source, { withHash: options.withHash === true });
  } finally {
    await chunker.close();
  }
}

