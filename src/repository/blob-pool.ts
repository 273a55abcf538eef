/**
 * A pool of worker threads for the CPU work on data blobs (see blob-worker.ts): hashing chunks
 * read straight from a file, compressing and sealing new ones, and checking and opening stored
 * ones. Each job goes to the worker with the fewest jobs; a chunk that was hashed is sealed or
 * dropped by the same worker (it keeps the bytes meanwhile). Idle workers do not keep the process
 * alive. Callers bound how many jobs and bytes they have in flight.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CairnError, messageOf, type ErrorCode } from '../errors.js';
import type { MasterKey } from '../crypto/index.js';
import type { BlobId } from '../model/index.js';
import { workerScriptUrl } from '../util/index.js';
import type { BlobJob, BlobReply, BlobWorkerData, RestoreBlobJob } from './blob-worker.js';
import type { SpilledPack } from './packer.js';

interface Slot {
  readonly worker: Worker;
  jobs: number;
}

interface Waiter {
  readonly slot: Slot;
  readonly resolve: (r: BlobReply) => void;
  readonly reject: (e: unknown) => void;
}

/** A chunk hashed by a worker that still holds its bytes: `seal` or `drop` it next. */
export interface HashedChunk {
  readonly id: BlobId;
  readonly n: number;
  readonly slot: Slot;
}

export class BlobPool {
  private slots: Slot[] = [];
  private readonly waiting = new Map<number, Waiter>();
  private next = 0;
  private failure: unknown;
  readonly size: number;

  constructor(
    private readonly key: MasterKey,
    private readonly version: 1 | 2,
    private readonly packSize: number,
    /** Where workers write their packs in progress (see BlobWorkerData.spillDir). */
    private readonly spillDir: string,
    workers = availableParallelism(),
  ) {
    this.size = Math.max(1, workers);
  }

  /** Reads `length` bytes of `fd` at `offset` in a worker and hashes them; the worker keeps them. */
  async hash(fd: number, offset: number, length: number, name: string): Promise<HashedChunk> {
    const slot = this.pick();
    const n = this.next++;
    const r = await this.send(slot, { op: 'hash', n, fd, offset, length, name });
    return { id: (r as { id: string }).id as BlobId, n, slot };
  }

  /**
   * Compresses (when that helps) and seals a hashed chunk into the worker's pack in progress;
   * returns its stored size, and the pack when this blob filled it (the caller stores it).
   */
  async seal(c: HashedChunk): Promise<{ storedSize: number; pack?: SpilledPack }> {
    return (await this.send(c.slot, { op: 'seal', n: c.n })) as { storedSize: number; pack?: SpilledPack };
  }

  /**
   * Compresses (when that helps) and seals blobs the caller read and hashed — blob i is
   * `bytes[ends[i-1], ends[i])`, handed over to the worker — in one worker, into its pack in
   * progress; their stored sizes, the packs they filled (the caller stores them), and `bytes`
   * handed back for reuse.
   */
  async sealMany(bytes: Uint8Array, ends: readonly number[], ids: readonly BlobId[]): Promise<{ storedSizes: number[]; packs: SpilledPack[]; bytes: Uint8Array }> {
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    const r = await this.send(this.pick(), { op: 'sealMany', n: this.next++, bytes: own, ends, ids }, [own.buffer as ArrayBuffer]);
    return r as { storedSizes: number[]; packs: SpilledPack[]; bytes: Uint8Array };
  }

  /** Finishes every worker's pack in progress; returns them (the caller stores them). */
  async flush(): Promise<SpilledPack[]> {
    const packs: SpilledPack[] = [];
    await Promise.all(this.slots.map(async (slot) => {
      const r = (await this.send(slot, { op: 'flush', n: this.next++ })) as { pack?: SpilledPack };
      if (r.pack !== undefined) packs.push(r.pack);
    }));
    return packs;
  }

  /** Forgets a hashed chunk (it was already stored). */
  async drop(c: HashedChunk): Promise<void> {
    await this.send(c.slot, { op: 'drop', n: c.n });
  }

  /** Checks and opens a stored blob (bytes = its exact stored range, handed over to the worker). */
  async unseal(bytes: Uint8Array, id: BlobId, uncompressedLength: number, what: string): Promise<Uint8Array> {
    const slot = this.pick();
    const n = this.next++;
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer) ? bytes : bytes.slice();
    const r = await this.send(slot, { op: 'unseal', n, bytes: own, id, uncompressedLength, what }, [own.buffer as ArrayBuffer]);
    return (r as { plain: Uint8Array }).plain;
  }

  /**
   * Restores one data blob in a worker (blob-worker.ts `restoreBlob`): the worker reads its stored
   * bytes through `packFd`, checks and opens them as `unseal` does, and only then writes the
   * plaintext to `target` at `targetOffset`; resolves to the bytes written. Every job for one blob
   * goes to the same worker, which keeps the plaintext of a blob needed again (`keep`). The
   * caller keeps both descriptors open until this settles.
   */
  async restoreBlob(job: Omit<RestoreBlobJob, 'op' | 'n'>): Promise<number> {
    this.pick(); // starts the workers, or throws the pool's failure
    const slot = this.slots[Number.parseInt(job.id.slice(0, 8), 16) % this.slots.length] ?? this.pick();
    const r = await this.send(slot, { ...job, op: 'restoreBlob', n: this.next++ });
    return (r as { written: number }).written;
  }

  /**
   * Stops the workers. Packs in progress are removed first (after `flush` there are none; after
   * a failure their blobs are still pending, so nothing refers to them).
   */
  async close(): Promise<void> {
    const slots = this.slots;
    let failure: unknown;
    if (this.failure === undefined) {
      await Promise.all(slots.map((slot) => this.send(slot, { op: 'discard', n: this.next++ }).catch((e: unknown) => (failure ??= e))));
    }
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
    if (failure !== undefined) throw failure;
  }

  private pick(): Slot {
    if (this.failure !== undefined) throw this.failure;
    if (this.slots.length === 0) this.start();
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.jobs < best.jobs) best = s;
    return best;
  }

  private send(slot: Slot, job: BlobJob, transfer: ArrayBuffer[] = []): Promise<BlobReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(job.n, { slot, resolve, reject });
      if (slot.jobs++ === 0) slot.worker.ref();
      slot.worker.postMessage(job, transfer);
    });
  }

  private start(): void {
    const url = workerScriptUrl(import.meta.url, '../repository/blob-worker.js');
    const data: BlobWorkerData = { kind: 'cairn-blob-worker', key: { encrypt: this.key.encrypt, macK: this.key.macK, macR: this.key.macR }, version: this.version, packSize: this.packSize, spillDir: this.spillDir };
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(url, { workerData: data });
      const slot: Slot = { worker, jobs: 0 };
      worker.unref();
      worker.on('message', (r: BlobReply) => {
        const w = this.waiting.get(r.n);
        if (w === undefined) return;
        this.waiting.delete(r.n);
        if (--slot.jobs === 0) worker.unref();
        if ('error' in r) w.reject(new CairnError(r.code as ErrorCode, r.error, { data: r.data ?? {} }));
        else w.resolve(r);
      });
      worker.on('error', (e) => this.fail(new CairnError('ERR_WORKER', `a blob worker thread failed: ${messageOf(e)}`, { cause: e })));
      worker.on('exit', (code) => {
        if (this.slots.includes(slot)) this.fail(new CairnError('ERR_WORKER', `a blob worker thread exited unexpectedly (code ${code})`));
      });
      this.slots.push(slot);
    }
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
