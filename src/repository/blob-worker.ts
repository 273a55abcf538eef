/**
 * Worker side of the blob pool (blob-pool.ts): the CPU work on data blobs, off the main thread.
 *
 * - `hash`: reads a chunk of an open file (positional read, the file descriptor is the main
 *   thread's: one process) into a buffer it keeps, and returns the chunk's SHA-256 (its blob ID).
 * - `seal`: compresses (when that makes it smaller, version 2) and seals a kept chunk, and adds it
 *   to this worker's own pack in progress; once that pack reaches the target size it is finished
 *   here (header sealed, pack hashed) and handed to the main thread (transferred, not copied),
 *   which stores it. `flush` finishes the pack in progress. `drop` forgets a kept chunk (already
 *   stored: deduplicated). The main thread keeps every blob of an unfinished pack marked as
 *   pending, so nothing refers to a blob before its pack is durable.
 * - `unseal`: checks a stored blob's MAC, decrypts, decompresses and checks that the plaintext
 *   hashes to the blob's ID; the plaintext goes back only when every check passed.
 *
 * Every failure goes back as a message with an error code; a worker never dies on a bad input.
 */
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { compressToScratch } from '../compress/index.js';
import { seal, type MasterKey } from '../crypto/index.js';
import { CairnError, messageOf } from '../errors.js';
import { hashId, type BlobId } from '../model/index.js';
import { packTail, type FinishedPack, type PackedBlob } from '../pack/index.js';
import { openBlob } from './blob-codec.js';

export interface BlobWorkerData {
  readonly kind: 'cairn-blob-worker';
  readonly key: MasterKey;
  /** Repository version: 2 compresses data blobs when that makes them smaller. */
  readonly version: 1 | 2;
  /** Target pack size in bytes. */
  readonly packSize: number;
}

export type BlobJob =
  | { readonly op: 'hash'; readonly n: number; readonly fd: number; readonly offset: number; readonly length: number; readonly name: string }
  | { readonly op: 'seal'; readonly n: number }
  | { readonly op: 'drop'; readonly n: number }
  | { readonly op: 'flush'; readonly n: number }
  | { readonly op: 'recycle'; readonly n: number; readonly buffer: ArrayBuffer }
  | { readonly op: 'unseal'; readonly n: number; readonly bytes: Uint8Array; readonly id: string; readonly uncompressedLength: number; readonly what: string };

export type BlobReply =
  | { readonly n: number; readonly id: string }
  | { readonly n: number; readonly storedSize: number; readonly pack?: FinishedPack }
  | { readonly n: number; readonly flushed: true; readonly pack?: FinishedPack }
  | { readonly n: number; readonly plain: Uint8Array }
  | { readonly n: number; readonly dropped: true }
  | { readonly n: number; readonly error: string; readonly code: string; readonly data?: Record<string, unknown> };

/** Bytes a worker's pack buffer holds beyond the target size: the largest sealed blob, and the header. */
const PACK_SLACK = (8 << 20) + (1 << 20);

if (parentPort !== null && (workerData as BlobWorkerData | undefined)?.kind === 'cairn-blob-worker') {
  const port = parentPort;
  const { key, version, packSize } = workerData as BlobWorkerData;
  const kept = new Map<number, { readonly buf: Uint8Array; readonly id: BlobId }>();
  // Buffers are reused, not allocated per chunk: fresh pages cost page faults (system time) and
  // dead buffers wait for a collection that a worker with a tiny heap seldom runs (memory).
  const freeReads: ArrayBuffer[] = [];
  const readBuffer = (length: number): Uint8Array => {
    let best = -1;
    for (let i = 0; i < freeReads.length; i++) if (freeReads[i]!.byteLength >= length && (best < 0 || freeReads[i]!.byteLength < freeReads[best]!.byteLength)) best = i;
    const ab = best >= 0 ? freeReads.splice(best, 1)[0]! : new ArrayBuffer(Math.max(1 << 20, Math.ceil(length / (1 << 20)) << 20));
    return new Uint8Array(ab, 0, length);
  };
  const release = (buf: Uint8Array): void => {
    if (freeReads.length < 8) freeReads.push(buf.buffer as ArrayBuffer);
  };
  /** Compressed bytes of `plain` (a view of a reused buffer, sealed at once), or undefined when not smaller. */
  const compressed = (plain: Uint8Array): Uint8Array | undefined => {
    const z = compressToScratch(plain);
    return z.length < plain.length ? z : undefined;
  };
  // The pack in progress, assembled in place; finished packs go to the main thread and their
  // buffers come back (`recycle`) once saved.
  const freePacks: ArrayBuffer[] = [];
  let pack = new Uint8Array(0);
  let used = 0;
  let entries: PackedBlob[] = [];
  const room = (n: number): void => {
    if (used + n <= pack.length) return;
    const ab = freePacks.pop() ?? new ArrayBuffer(Math.max(packSize + PACK_SLACK, used + n));
    const grown = new Uint8Array(ab.byteLength >= used + n ? ab : new ArrayBuffer(used + n));
    grown.set(pack.subarray(0, used));
    pack = grown;
  };
  const finish = (): FinishedPack => {
    const tail = packTail(key, entries);
    room(tail.length);
    pack.set(tail, used);
    const bytes = pack.subarray(0, used + tail.length);
    const done: FinishedPack = { id: hashId(bytes), bytes, blobs: entries };
    pack = new Uint8Array(0);
    used = 0;
    entries = [];
    return done;
  };
  port.on('message', (job: BlobJob) => {
    try {
      if (job.op === 'hash') {
        const buf = readBuffer(job.length);
        let got = 0;
        try {
          while (got < job.length) {
            let r: number;
            try {
              r = readSync(job.fd, buf, got, job.length - got, job.offset + got);
            } catch (e) {
              throw new CairnError('ERR_FILE_READ', `reading ${job.name} at byte ${job.offset + got} failed: ${messageOf(e)}`, { data: { at: job.offset + got } });
            }
            if (r === 0) throw new CairnError('ERR_FILE_READ', `${job.name} ended at byte ${job.offset + got} while it was read: it shrank; read it again`, { data: { at: job.offset + got, shrank: true } });
            got += r;
          }
        } catch (e) {
          release(buf);
          throw e;
        }
        const id = hashId(buf);
        kept.set(job.n, { buf, id });
        port.postMessage({ n: job.n, id } satisfies BlobReply);
      } else if (job.op === 'seal') {
        const chunk = kept.get(job.n);
        kept.delete(job.n);
        if (chunk === undefined) throw new CairnError('ERR_INTERNAL', `blob worker: no chunk ${job.n} to seal`);
        const plain = chunk.buf;
        const z = version >= 2 && plain.length > 0 ? compressed(plain) : undefined;
        const sealed = seal(key, z ?? plain);
        release(plain);
        room(sealed.length);
        pack.set(sealed, used);
        entries.push({ id: chunk.id, type: 'data', offset: used, length: sealed.length, uncompressedLength: z === undefined ? 0 : plain.length });
        used += sealed.length;
        if (used + entries.length * 64 < packSize) {
          port.postMessage({ n: job.n, storedSize: sealed.length } satisfies BlobReply);
        } else {
          const done = finish();
          port.postMessage({ n: job.n, storedSize: sealed.length, pack: done } satisfies BlobReply, [done.bytes.buffer as ArrayBuffer]);
        }
      } else if (job.op === 'flush') {
        if (entries.length === 0) {
          port.postMessage({ n: job.n, flushed: true } satisfies BlobReply);
        } else {
          const done = finish();
          port.postMessage({ n: job.n, flushed: true, pack: done } satisfies BlobReply, [done.bytes.buffer as ArrayBuffer]);
        }
      } else if (job.op === 'recycle') {
        if (freePacks.length < 2) freePacks.push(job.buffer);
        port.postMessage({ n: job.n, dropped: true } satisfies BlobReply);
      } else if (job.op === 'drop') {
        const chunk = kept.get(job.n);
        kept.delete(job.n);
        if (chunk !== undefined) release(chunk.buf);
        port.postMessage({ n: job.n, dropped: true } satisfies BlobReply);
      } else {
        let plain = openBlob(key, job.bytes, job.id as BlobId, job.uncompressedLength, job.what);
        if (plain.byteOffset !== 0 || plain.byteLength !== plain.buffer.byteLength) plain = plain.slice();
        port.postMessage({ n: job.n, plain } satisfies BlobReply, [plain.buffer as ArrayBuffer]);
      }
    } catch (e) {
      const code = e instanceof CairnError ? e.code : 'ERR_WORKER';
      const data = e instanceof CairnError ? e.data : undefined;
      port.postMessage({ n: job.n, error: messageOf(e), code, ...(data === undefined ? {} : { data }) } satisfies BlobReply);
    }
  });
}
