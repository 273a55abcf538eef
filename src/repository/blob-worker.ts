/**
 * Worker side of the blob pool (blob-pool.ts): the CPU work on data blobs, off the main thread.
 *
 * - `hash`: reads a chunk of an open file (positional read, the file descriptor is the main
 *   thread's: one process) into a buffer it keeps, and returns the chunk's SHA-256 (its blob ID).
 * - `sealMany`: the same as `seal` for a batch of blobs the main thread read and hashed itself
 *   (small files), handed over in one buffer.
 * - `seal`: compresses (when that makes it smaller, version 2) and seals a kept chunk, and appends
 *   it to this worker's own pack in progress, a temporary file in `spillDir` (restic writes its
 *   packs in progress to temporary files too: memory stays bounded whatever the pack size). The
 *   pack is hashed as it grows; once it reaches the target size its header is appended and the
 *   finished file handed to the main thread, which stores it (`Backend.saveFile` renames it into
 *   place where it can). `flush` finishes the pack in progress; `discard` removes it (the
 *   operation was abandoned). `drop` forgets a kept chunk (already stored: deduplicated). The main
 *   thread keeps every blob of an unfinished pack marked as pending, so nothing refers to a blob
 *   before its pack is durable.
 * - `unseal`: checks a stored blob's MAC, decrypts, decompresses and checks that the plaintext
 *   hashes to the blob's ID; the plaintext goes back only when every check passed.
 *
 * - `restoreBlob`: reads a stored blob through a pack's file descriptor (the backend lent it to
 *   the main thread: one process) into a reused buffer, makes exactly `unseal`'s checks (decrypting
 *   and decompressing into reused buffers too), and only then writes the plaintext at an offset of
 *   a target file (the restorer's descriptor); the reply
 *   is small (no plaintext goes back). A blob the main thread says is needed again is kept (a few
 *   MiB, least recently used dropped first): the main thread sends every job for one blob to the
 *   same worker, so a chunk two files share is read and opened once while both are restored.
 *
 * Every failure goes back as a message with an error code; a worker never dies on a bad input.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { compressToScratch } from '../compress/index.js';
import { sealInto, sealedLength, type MasterKey } from '../crypto/index.js';
import { CairnError, messageOf } from '../errors.js';
import { hashId, type BlobId, type PackId } from '../model/index.js';
import { packTail, type PackedBlob } from '../pack/index.js';
import { GrowingScratch, openBlob, openBlobInto } from './blob-codec.js';
import type { SpilledPack } from './packer.js';

export interface BlobWorkerData {
  readonly kind: 'cairn-blob-worker';
  readonly key: MasterKey;
  /** Repository version: 2 compresses data blobs when that makes them smaller. */
  readonly version: 1 | 2;
  /** Target pack size in bytes. */
  readonly packSize: number;
  /** Directory for the packs in progress (temporary files named `.tmp-pack-<random>`). */
  readonly spillDir: string;
}

export type BlobJob =
  | { readonly op: 'hash'; readonly n: number; readonly fd: number; readonly offset: number; readonly length: number; readonly name: string }
  | { readonly op: 'seal'; readonly n: number }
  | { readonly op: 'sealMany'; readonly n: number; readonly bytes: Uint8Array; readonly ends: readonly number[]; readonly ids: readonly string[] }
  | { readonly op: 'drop'; readonly n: number }
  | { readonly op: 'flush'; readonly n: number }
  | { readonly op: 'discard'; readonly n: number }
  | { readonly op: 'unseal'; readonly n: number; readonly bytes: Uint8Array; readonly id: string; readonly uncompressedLength: number; readonly what: string }
  | RestoreBlobJob;

/**
 * Restore one data blob (see the module comment): `length` stored bytes at `offset` of the pack
 * open as `packFd`, whose plaintext (`plainLength` bytes, the index's) goes to `target` at
 * `targetOffset`. `keep`: the blob is needed again soon (keep its plaintext). `pack`/`file` name
 * the pack and the target in errors.
 */
export interface RestoreBlobJob {
  readonly op: 'restoreBlob';
  readonly n: number;
  readonly id: string;
  readonly packFd: number;
  readonly offset: number;
  readonly length: number;
  readonly uncompressedLength: number;
  readonly plainLength: number;
  readonly target: number;
  readonly targetOffset: number;
  readonly keep: boolean;
  readonly what: string;
  readonly pack: string;
}

export type BlobReply =
  | { readonly n: number; readonly id: string }
  | { readonly n: number; readonly storedSize: number; readonly pack?: SpilledPack }
  | { readonly n: number; readonly storedSizes: number[]; readonly packs: SpilledPack[]; readonly bytes: Uint8Array }
  | { readonly n: number; readonly flushed: true; readonly pack?: SpilledPack }
  | { readonly n: number; readonly plain: Uint8Array }
  | { readonly n: number; readonly dropped: true }
  | { readonly n: number; readonly written: number }
  | { readonly n: number; readonly error: string; readonly code: string; readonly data?: Record<string, unknown> };

/** Bytes of read buffers a worker keeps for reuse. */
const FREE_READ_BYTES = 16 << 20;
/** Plaintext a worker keeps of blobs restored that are needed again (restoreBlob's `keep`). */
const KEEP_BYTES = 16 << 20;
/** A kept plaintext smaller than this is an exact copy; a larger one a reused whole-MiB buffer. */
const KEEP_EXACT = 64 << 10;
/** Largest plaintext restoreBlob decompresses into its reused buffer (chunks are at most 8 MiB). */
const OPEN_SCRATCH_LIMIT = 16 << 20;

/** Bytes to allocate for `n`: whole MiB (at least one), so that a buffer grown for one blob serves the next. */
const wholeMiB = (n: number): number => Math.max(1, Math.ceil(n / (1 << 20))) << 20;

/** `buf`, or a new buffer of whole MiB when `buf` holds fewer than `n` bytes. */
const atLeast = (buf: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> => (buf.length >= n ? buf : new Uint8Array(wholeMiB(n)));

/**
 * Reads `buf.length` bytes of `fd` at `position` (positional reads until full); the bytes read
 * before the file ended. A failed read throws `readError(e, at)`, `at` being the position reached.
 */
function preadFully(fd: number, buf: Uint8Array, position: number, readError: (e: unknown, at: number) => CairnError): number {
  let got = 0;
  while (got < buf.length) {
    let r: number;
    try {
      r = readSync(fd, buf, got, buf.length - got, position + got);
    } catch (e) {
      throw readError(e, position + got);
    }
    if (r === 0) break;
    got += r;
  }
  return got;
}

/** Writes all of `bytes` to `fd` at `position`; a failed (or empty) write throws `writeError(e, at)`. */
function pwriteFully(fd: number, bytes: Uint8Array, position: number, writeError: (e: unknown, at: number) => CairnError): void {
  let done = 0;
  while (done < bytes.length) {
    let w: number;
    try {
      w = writeSync(fd, bytes, done, bytes.length - done, position + done);
    } catch (e) {
      throw writeError(e, position + done);
    }
    if (w === 0) throw writeError(new Error('the write wrote nothing'), position + done);
    done += w;
  }
}

if (parentPort !== null && (workerData as BlobWorkerData | undefined)?.kind === 'cairn-blob-worker') {
  const port = parentPort;
  const { key, version, packSize, spillDir } = workerData as BlobWorkerData;
  const kept = new Map<number, { readonly buf: Uint8Array; readonly id: BlobId }>();
  // Buffers are reused, not allocated per chunk: fresh pages cost page faults (system time), and
  // a dead buffer waits for a collection, which V8 starts only after tens of MB of them (memory:
  // dropping buffers that did not fit a free list of three made ~100 MiB of garbage per worker in
  // a 1 GiB snapshot, 46 MiB of it alive at the peak). Sizes are whole MiB; a request takes the
  // smallest free buffer that holds it, and a released buffer is kept while the free ones stay
  // within FREE_READ_BYTES: a worker holds about what its jobs in flight needed at most at once.
  const freeReads: ArrayBuffer[] = [];
  let freeBytes = 0;
  const readBuffer = (length: number): Uint8Array => {
    let best = -1;
    for (let i = 0; i < freeReads.length; i++) if (freeReads[i]!.byteLength >= length && (best < 0 || freeReads[i]!.byteLength < freeReads[best]!.byteLength)) best = i;
    if (best < 0) return new Uint8Array(new ArrayBuffer(wholeMiB(length)), 0, length);
    const ab = freeReads[best]!;
    freeReads[best] = freeReads[freeReads.length - 1]!;
    freeReads.pop();
    freeBytes -= ab.byteLength;
    return new Uint8Array(ab, 0, length);
  };
  const release = (buf: Uint8Array): void => {
    const ab = buf.buffer as ArrayBuffer;
    // Only whole-MiB buffers are reused (an exact copy kept of a small blob is left to the GC).
    if (ab.byteLength % (1 << 20) !== 0 || freeBytes + ab.byteLength > FREE_READ_BYTES) return;
    freeReads.push(ab);
    freeBytes += ab.byteLength;
  };
  /** Compressed bytes of `plain` (a view of a reused buffer, sealed at once), or undefined when not smaller. */
  const compressed = (plain: Uint8Array): Uint8Array | undefined => {
    const z = compressToScratch(plain);
    return z.length < plain.length ? z : undefined;
  };
  // Sealed blobs are written to the pack at once: one output buffer serves them all.
  let sealBuffer = new Uint8Array(1 << 20);
  // The pack in progress: a temporary file written front to back, hashed as it grows.
  let pack: { fd: number; path: string; hash: Hash } | undefined;
  let used = 0;
  let entries: PackedBlob[] = [];
  const spillFailure = (what: string, path: string, e: unknown): CairnError =>
    new CairnError('ERR_BACKEND', `${what} the pack in progress ${path} failed: ${messageOf(e)}; check the free space and permissions of ${spillDir}`, {
      cause: e,
      data: { path, retryable: false },
    });
  const append = (bytes: Uint8Array): void => {
    if (pack === undefined) {
      const path = join(spillDir, `.tmp-pack-${randomBytes(8).toString('hex')}`);
      let fd: number;
      try {
        fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
      } catch (e) {
        throw spillFailure('creating', path, e);
      }
      pack = { fd, path, hash: createHash('sha256') };
    }
    pwriteFully(pack.fd, bytes, used, (e) => spillFailure('writing', pack!.path, e));
    pack.hash.update(bytes);
    used += bytes.length;
  };
  const finish = (): SpilledPack => {
    append(packTail(key, entries));
    const p = pack!;
    pack = undefined;
    try {
      closeSync(p.fd);
    } catch (e) {
      try {
        unlinkSync(p.path);
      } catch {
        // Reported below: the close failure is what matters.
      }
      throw spillFailure('closing', p.path, e);
    }
    const done: SpilledPack = { id: p.hash.digest('hex') as PackId, file: p.path, size: used, blobs: entries };
    used = 0;
    entries = [];
    return done;
  };
  /** Removes the pack in progress (nothing refers to its blobs: they were pending). */
  const discard = (): void => {
    const p = pack;
    pack = undefined;
    used = 0;
    entries = [];
    if (p === undefined) return;
    try {
      closeSync(p.fd);
      unlinkSync(p.path);
    } catch (e) {
      throw spillFailure('removing', p.path, e);
    }
  };
  /** Compresses (when that helps) and seals `plain` into the pack; its stored size, and the pack if it is full now. */
  const sealOne = (id: BlobId, plain: Uint8Array): { storedSize: number; pack?: SpilledPack } => {
    const z = version >= 2 && plain.length > 0 ? compressed(plain) : undefined;
    const input = z ?? plain;
    sealBuffer = atLeast(sealBuffer, sealedLength(input.length));
    const sealed = sealInto(key, input, sealBuffer);
    const offset = used;
    append(sealed);
    entries.push({ id, type: 'data', offset, length: sealed.length, uncompressedLength: z === undefined ? 0 : plain.length });
    return used + entries.length * 64 < packSize ? { storedSize: sealed.length } : { storedSize: sealed.length, pack: finish() };
  };
  /**
   * Plaintext of blobs needed again, least recently used first (restoreBlob). Each is a copy: of
   * a small blob (under KEEP_EXACT) in an array of its own size, of a larger one in a buffer from the
   * read buffers' free list (whole MiB), given back when it is dropped; keptBytes counts those
   * arrays' sizes, so KEEP_BYTES bounds the memory they hold.
   */
  const keptPlain = new Map<string, Uint8Array>();
  let keptBytes = 0;
  /** Drops `id`'s kept plaintext: its buffer goes back to the free list. */
  const unkeep = (id: string): void => {
    const p = keptPlain.get(id);
    if (p === undefined) return;
    keptPlain.delete(id);
    keptBytes -= p.buffer.byteLength;
    release(p);
  };
  // restoreBlob decrypts and decompresses into these, reused for every blob (whole MiB, grown to
  // need): a fresh plaintext per blob was the garbage that drove a restore's memory. The
  // decompression buffer grows to an index's length only up to OPEN_SCRATCH_LIMIT; a larger
  // claim decompresses into an array of its own, growing with the real output (decompressInto).
  const openScratch = new GrowingScratch(wholeMiB, OPEN_SCRATCH_LIMIT);
  const restoreBlob = (job: RestoreBlobJob): number => {
    let plain = keptPlain.get(job.id);
    // A kept buffer taken out of keptPlain here is ours until it is kept again or released below.
    const hit = plain !== undefined;
    if (plain !== undefined) {
      keptPlain.delete(job.id); // most recently used last: kept again below if still needed
      keptBytes -= plain.buffer.byteLength;
    } else {
      const buf = readBuffer(job.length);
      try {
        const got = preadFully(job.packFd, buf, job.offset, (e, at) =>
          new CairnError('ERR_BACKEND', `reading pack ${job.pack} at byte ${at} failed: ${messageOf(e)}; check the disk, then run \`cairn check --read-data\``, { data: { pack: job.pack, at, retryable: false } }),
        );
        if (got < job.length) throw new CairnError('ERR_BACKEND', `pack ${job.pack} ended at byte ${job.offset + got}, inside ${job.what}; it changed while it was read (or the disk failed): try again, then run \`cairn check\``, { data: { pack: job.pack, at: job.offset + got, retryable: true } });
        // MAC, decryption, decompression to the index's length, SHA-256: all before any write.
        // The plaintext is a view of the scratch buffers (never of the read buffer, released below).
        plain = openBlobInto(key, buf, job.id as BlobId, job.uncompressedLength, job.what, { pack: job.pack }, openScratch.for(job.length, job.uncompressedLength));
      } finally {
        release(buf);
      }
    }
    if (plain.length !== job.plainLength) {
      throw new CairnError('ERR_CORRUPT', `${job.what} holds ${plain.length} bytes, the index says ${job.plainLength}; run \`cairn check\``, { data: { blob: job.id, pack: job.pack } });
    }
    pwriteFully(job.target, plain, job.targetOffset, (e, at) =>
      new CairnError('ERR_FILE_WRITE', `writing at byte ${at} failed: ${messageOf(e)}; check the free space and permissions of the target`, { data: { at } }),
    );
    const written = plain.length;
    if (job.keep && written <= KEEP_BYTES / 2) {
      // Scratch views are overwritten by the next blob: a blob kept is copied out (a hit is already a copy).
      // A small blob (under 64 KiB) is copied into an array of its own size: a whole-MiB buffer
      // for each (the read buffers') made the kept plaintext of small files 16 MiB per worker for
      // a few KiB. Anything larger goes into a reused whole-MiB buffer: exact copies of the
      // half-MiB chunks two checkpoints share were garbage that the worker's small heap left
      // uncollected (restoring the two 512 MiB checkpoints: peak RSS 147-152 -> 140-142 MB).
      if (!hit) {
        if (written < KEEP_EXACT) plain = plain.slice();
        else {
          const copy = readBuffer(written);
          copy.set(plain);
          plain = copy;
        }
      }
      keptPlain.set(job.id, plain);
      keptBytes += plain.buffer.byteLength;
      for (const [id] of keptPlain) {
        if (keptBytes <= KEEP_BYTES) break;
        unkeep(id);
      }
    } else if (hit) {
      release(plain);
    }
    return written;
  };
  port.on('message', (job: BlobJob) => {
    try {
      if (job.op === 'hash') {
        const buf = readBuffer(job.length);
        try {
          const got = preadFully(job.fd, buf, job.offset, (e, at) => new CairnError('ERR_FILE_READ', `reading ${job.name} at byte ${at} failed: ${messageOf(e)}`, { data: { at } }));
          if (got < job.length) throw new CairnError('ERR_FILE_READ', `${job.name} ended at byte ${job.offset + got} while it was read: it shrank; read it again`, { data: { at: job.offset + got, shrank: true } });
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
        let r: { storedSize: number; pack?: SpilledPack };
        try {
          r = sealOne(chunk.id, chunk.buf);
        } finally {
          release(chunk.buf);
        }
        port.postMessage({ n: job.n, ...r } satisfies BlobReply);
      } else if (job.op === 'sealMany') {
        const storedSizes: number[] = [];
        const packs: SpilledPack[] = [];
        let start = 0;
        try {
          for (let i = 0; i < job.ends.length; i++) {
            const r = sealOne(job.ids[i] as BlobId, job.bytes.subarray(start, job.ends[i]));
            storedSizes.push(r.storedSize);
            if (r.pack !== undefined) packs.push(r.pack);
            start = job.ends[i]!;
          }
        } catch (e) {
          // The batch fails as a whole: packs it finished are not handed over, so remove them.
          for (const p of packs) {
            try {
              unlinkSync(p.file);
            } catch {
              // The batch's failure is what is reported; a leftover .tmp-pack file is harmless.
            }
          }
          throw e;
        }
        // The batch's buffer goes back for the next batch: no garbage per batch on either side.
        port.postMessage({ n: job.n, storedSizes, packs, bytes: job.bytes } satisfies BlobReply, [job.bytes.buffer as ArrayBuffer]);
      } else if (job.op === 'flush') {
        if (entries.length === 0) {
          port.postMessage({ n: job.n, flushed: true } satisfies BlobReply);
        } else {
          port.postMessage({ n: job.n, flushed: true, pack: finish() } satisfies BlobReply);
        }
      } else if (job.op === 'discard') {
        discard();
        port.postMessage({ n: job.n, dropped: true } satisfies BlobReply);
      } else if (job.op === 'drop') {
        const chunk = kept.get(job.n);
        kept.delete(job.n);
        if (chunk !== undefined) release(chunk.buf);
        port.postMessage({ n: job.n, dropped: true } satisfies BlobReply);
      } else if (job.op === 'restoreBlob') {
        port.postMessage({ n: job.n, written: restoreBlob(job) } satisfies BlobReply);
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
