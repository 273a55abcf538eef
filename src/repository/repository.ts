/**
 * A repository: a backend, the master key, the config, and the master index. Everything that
 * touches encryption, compression and the on-disk format goes through here.
 *
 * Write order keeps the repository valid at every instant: packs are durable before an index names
 * them, indexes before a snapshot refers to their blobs. Nothing is written when opening.
 */
import { hkdfSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { CairnError, isCairnError, messageOf } from '../errors.js';
import type { Backend, Handle } from '../backend/index.js';
import {
  chunkFile, createFastCdc, createRabinChunker, keyedGearTable, ParallelChunker,
  type Chunker, type CreateFastCdcOptions,
} from '../chunker/index.js';
import { compressToScratch } from '../compress/index.js';
import { calibrateKdf, CRYPTO_OVERHEAD, newMasterKey, open, seal, type KdfParams, type MasterKey } from '../crypto/index.js';
import { addIndexFile, encodeIndex, INDEX_MAX_BLOBS, MasterIndex, type IndexEntry, type IndexPack } from '../index/index.js';
import { idToBytes, shortId, type BlobId, type BlobType, type FileType, type Id, type PackId, type SnapshotId } from '../model/index.js';
import { readPackHeader, type PackedBlob, type SealedBlob } from '../pack/index.js';
import { decodeSnapshot, encodeSnapshot, findLatest, resolveSnapshotId, sortSnapshots, type Snapshot, type SnapshotEntry, type SnapshotFilter } from '../snapshot/index.js';
import { mapConcurrent } from '../util/index.js';
import { decodeConfig, encodeConfig, newConfig, type ChunkerConfig, type RepoConfig } from './config.js';
import { addKey, openWithPassword, type KeyWarning } from './keys.js';
import { BlobPool } from './blob-pool.js';
import { Packer } from './packer.js';
import { openBlob, openBlobInto, type BlobScratch } from './blob-codec.js';
import { openUnpacked, sealUnpacked } from './unpacked.js';

export interface InitOptions {
  /** @default FastCDC with min 512 KiB, avg 1 MiB, max 8 MiB, normalization 2 */
  readonly chunker?: ChunkerConfig;
  /** scrypt parameters of the first key. @default calibrated like restic (~0.5 s) */
  readonly kdf?: KdfParams;
}

export interface OpenOptions {
  /** Target pack size in bytes. @default 16 MiB */
  readonly packSize?: number;
  /** Pack saves in flight per packer. @default 2 */
  readonly saveConcurrency?: number;
  /** Files loaded at once (index, snapshots). @default 8 */
  readonly loadConcurrency?: number;
  /**
   * Worker threads for large files' blobs (hash, compress, seal; each fills its own pack).
   * @default the number of cores
   */
  readonly blobWorkers?: number;
  /**
   * Least time between the index files written while a snapshot runs (see INDEX_EVERY_PACKS).
   * @default 2 s, or a fiftieth of the time since the run's first pack when that is longer
   */
  readonly indexIntervalMs?: number;
  /** A damaged key file skipped while another key opened the repository. @default ignored */
  readonly onKeyWarning?: (w: KeyWarning) => void;
}

export interface BlobSaveResult {
  /** False when the blob was already stored (deduplicated). */
  readonly added: boolean;
  /** Bytes added to the repository for it (sealed, possibly compressed). */
  readonly storedSize: number;
}

const DEFAULT_CHUNKER: ChunkerConfig = { algorithm: 'fastcdc', min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024, normalization: 2 };

/** How `sealBlob` treats compression (version 2 only; version 1 never compresses). */
export type BlobCompression = 'auto' | 'always';

/**
 * Writes packs of already sealed blobs outside the normal save path: no deduplication, no index
 * files, no change to the master index. For maintenance (prune's repacking), which decides itself
 * when the new packs enter an index.
 */
export interface PackWriter {
  /** Adds a blob; resolves once the writer can take more. Data and tree blobs go to separate packs. */
  add(blob: SealedBlob): Promise<void>;
  /** Stores the packs in progress and waits for every save; returns every pack written (durable). */
  finish(): Promise<IndexPack[]>;
}

/** One file's content as `storeFile` stored it. */
export interface StoredFile {
  /** Blob IDs in file order. */
  readonly ids: BlobId[];
  /** Bytes read (the file's size when chunking began). */
  readonly size: number;
  /** Blobs this file added to the repository (not deduplicated). */
  readonly added: number;
  /** Their plaintext bytes. */
  readonly addedBytes: number;
  /** Their bytes as stored (compressed, sealed). */
  readonly addedStored: number;
}

/** Chunks in flight in `storeFile` (read, hashed or sealed but not yet in a pack): at most these. */
const STORE_MAX_CHUNKS = 8;
const STORE_MAX_BYTES = 16 << 20;
/**
 * While a snapshot runs, an index file is written for the packs saved so far once at least this
 * many wait (~128 MiB of data) and INDEX_MIN_MS or a fiftieth of the time since the run's first
 * pack has passed since the last one: a kill loses at most that much work, and a long run writes
 * a few hundred index files at most (50 in the first 100 s, then 50 per e-fold of the run's
 * length: ~280 for a 3-hour run), not thousands (each is one more read when the repository opens).
 */
const INDEX_EVERY_PACKS = 8;
const INDEX_MIN_MS = 2000;
const INDEX_RUN_FRACTION = 1 / 50;
/** A batch of data blobs for the blob workers (`saveBlob`) is sent once it holds this much. */
const BATCH_BYTES = 1 << 20;
const BATCH_BLOBS = 64;
/**
 * Batch buffers kept for reuse: as many as can be in flight (the archiver hands over at most
 * 16 MiB of blobs not yet stored), so that a run of small files allocates none after its start.
 */
const FREE_BATCHES = 16;
/**
 * Data bytes sealed on this thread before the blob workers start: a run that stores little (a
 * nightly snapshot of a few changed files) never pays for two worker isolates (~0.1 s of CPU and
 * ~40 MB each to start); once past this, or once the workers run anyway, they take every batch.
 */
const INLINE_DATA_BYTES = 8 << 20;
/** Data blobs at least this large are opened on a worker thread by `loadBlob`. */
const WORKER_UNSEAL_MIN = 64 << 10;

export class Repository {
  private masterIndex = new MasterIndex();
  private blobPool: BlobPool | undefined;
  /** The chunker `storeFile` cuts with (one file at a time). */
  private fileChunker: Chunker | undefined;
  /** Target pack size in bytes (OpenOptions.packSize). */
  readonly packSize: number;
  private readonly saveConcurrency: number;
  private readonly packers: Record<BlobType, Packer>;
  /** Blobs handed to a packer whose pack is not saved yet (they count as known). */
  private readonly pending = new Set<string>();
  /** Packs saved since the last index was written. */
  private unindexed: IndexPack[] = [];
  /** Data bytes sealed on this thread so far (see INLINE_DATA_BYTES). */
  private inlineBytes = 0;
  /** Data blobs waiting to go to a blob worker together (sent after this event-loop turn at the latest). */
  private batch: DataBatch | undefined;
  /** Batch buffers the workers gave back, for the next batches. */
  private readonly freeBatches: Uint8Array[] = [];
  /** An index write started while packs are still being saved (see indexInBackground). */
  private indexing: Promise<void> | undefined;
  private indexFailure: unknown;
  /** When the first pack since the last flush was saved, and when the last index was started (performance.now()). */
  private runStarted: number | undefined;
  private lastIndexed: number | undefined;
  private readonly indexIntervalMs: number | undefined;
  /** Writes (other than lock files) wait for this; see gateWrites. */
  private writeGate: Promise<void> = Promise.resolve();
  /** Batches sent and not yet stored. */
  private readonly batches = new Set<Promise<void>>();
  private readonly loadConcurrency: number;
  private readonly blobWorkers: number | undefined;

  private constructor(
    readonly backend: Backend,
    private readonly key: MasterKey,
    readonly config: RepoConfig,
    readonly keyId: Id,
    options: OpenOptions,
  ) {
    this.loadConcurrency = options.loadConcurrency ?? 8;
    this.indexIntervalMs = options.indexIntervalMs;
    this.blobWorkers = options.blobWorkers;
    this.packSize = options.packSize ?? 16 << 20;
    this.saveConcurrency = options.saveConcurrency ?? 2;
    const make = (): Packer =>
      new Packer(key, this.gatedBackend(), this.packSize, this.saveConcurrency, (id, blobs) => {
        this.index.addPack(id, blobs);
        for (const b of blobs) this.pending.delete(`${b.type}:${b.id}`);
        this.unindexed.push({ id, blobs });
        this.runStarted ??= performance.now();
        if (this.unindexed.length >= INDEX_EVERY_PACKS && this.indexing === undefined && this.indexDue()) this.indexInBackground();
      });
    this.packers = { data: make(), tree: make() };
  }

  /** Creates a repository (format version 2) at an empty location and opens it. */
  static async init(backend: Backend, password: string, options: InitOptions & OpenOptions = {}): Promise<Repository> {
    const config = newConfig(options.chunker ?? DEFAULT_CHUNKER);
    await backend.create();
    const key = newMasterKey();
    const keyId = await addKey(backend, key, password, options.kdf ?? (await calibrateKdf()));
    // The config goes last: a location with a config is a repository, and it has a key by then.
    await backend.save({ type: 'config', name: 'config' }, seal(key, encodeConfig(config)));
    return new Repository(backend, key, config, keyId, options);
  }

  /** Opens the repository at `backend` with `password`; writes nothing. */
  static async open(backend: Backend, password: string, options: OpenOptions = {}): Promise<Repository> {
    let sealedConfig: Uint8Array;
    try {
      sealedConfig = await backend.load({ type: 'config', name: 'config' });
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_NOT_FOUND') {
        throw new CairnError('ERR_REPO_NOT_FOUND', `there is no repository at ${backend.location} (no config file); create one with \`cairn repo init\` or check the location`, { cause: e, data: { location: backend.location } });
      }
      throw e;
    }
    const { key, keyId } = await openWithPassword(backend, password, options.onKeyWarning === undefined ? {} : { onWarning: options.onKeyWarning });
    let config: RepoConfig;
    try {
      config = decodeConfig(open(key, sealedConfig, `config of ${backend.location}`), `config of ${backend.location}`);
    } catch (e) {
      if (!(e instanceof CairnError && (e.code === 'ERR_AUTH_FAILED' || e.code === 'ERR_CORRUPT'))) throw e;
      // The key opened, so the master key is the one its file holds: the config is damaged (or
      // that key file belongs to another repository). Nothing in the repository can replace it.
      throw new CairnError(
        'ERR_CORRUPT',
        `the repository at ${backend.location} cannot be opened: its config file is damaged (${e.code === 'ERR_AUTH_FAILED' ? 'its MAC does not match' : messageOf(e)}), or key file keys/${shortId(keyId)}, which the password opened, belongs to another repository; nothing in the repository can replace the config: put back a copy of it from another copy of this repository`,
        { cause: e, data: { file: 'config', key: keyId } },
      );
    }
    return new Repository(backend, key, config, keyId, options);
  }

  /** The in-memory master index (what `loadIndex` read, plus the packs saved since). */
  get index(): MasterIndex {
    return this.masterIndex;
  }

  /** Repository format version: 2 compresses (zstd); 1 never does. */
  get version(): 1 | 2 {
    return this.config.version;
  }

  /** Adds a key file for another password (restic-compatible); returns its ID. */
  addKey(password: string, kdf: KdfParams): Promise<Id> {
    return addKey(this.backend, this.key, password, kdf);
  }

  // ---- chunking -------------------------------------------------------------------------------

  /** The FastCDC options of this repository (keyed gear table), or undefined for Rabin. */
  fastCdcOptions(): CreateFastCdcOptions | undefined {
    const c = this.config.chunker;
    if (c.algorithm !== 'fastcdc') return undefined;
    // The gear table is a PRF of the master key (HKDF-SHA256, salted with the repository ID).
    const ikm = new Uint8Array(64);
    ikm.set(this.key.encrypt, 0);
    ikm.set(this.key.macK, 32);
    ikm.set(this.key.macR, 48);
    const gearKey = new Uint8Array(hkdfSync('sha256', ikm, idToBytes(this.config.id), 'cairn fastcdc gear table v1', 32));
    return { min: c.min, avg: c.avg, max: c.max, normalization: c.normalization, gear: keyedGearTable(gearKey) };
  }

  /** A chunker for this repository's snapshots (one stream at a time per chunker). */
  createChunker(): Chunker {
    const f = this.fastCdcOptions();
    return f === undefined ? createRabinChunker(this.config.chunkerPolynomial) : createFastCdc(f);
  }

  /** A parallel chunker for large files, or undefined when the repository uses Rabin. */
  createParallelChunker(workers?: number): ParallelChunker | undefined {
    const f = this.fastCdcOptions();
    return f === undefined ? undefined : new ParallelChunker({ ...f, ...(workers === undefined ? {} : { workers }) });
  }

  private pool(): BlobPool {
    return (this.blobPool ??= new BlobPool(this.key, this.version, this.packSize, this.backend.spillDir?.() ?? tmpdir(), this.blobWorkers));
  }

  /**
   * Stores the first `size` bytes of an open file as data blobs, the CPU work spread over worker
   * threads: this thread finds the boundaries (FastCDC in WebAssembly, ~5 GB/s: a worker's share
   * of the rest is 5–10× slower, so more chunker threads only cost memory), workers read each
   * chunk themselves, hash it, and (when it is new) compress and seal it into their packs in
   * progress; this thread decides deduplication and stores finished packs. At most
   * STORE_MAX_CHUNKS chunks (STORE_MAX_BYTES) are in flight. Undefined when the repository chunks
   * with Rabin: use `saveBlob` per chunk then. `lent`: a chunker from `createChunker` to cut with
   * (idle meanwhile), so a caller that has one does not make the process hold a second workspace.
   * `progress.bytesDone` grows by each chunk's length once it is hashed (a status line's counter).
   * ERR_FILE_READ when the file cannot be read or shrinks meanwhile.
   */
  async storeFile(fd: number, size: number, name: string, signal?: AbortSignal, lent?: Chunker, progress?: { bytesDone: number }): Promise<StoredFile | undefined> {
    if (this.config.chunker.algorithm !== 'fastcdc') return undefined;
    const chunker = lent ?? (this.fileChunker ??= this.createChunker());
    const pool = this.pool();
    const ids: BlobId[] = [];
    let read = 0;
    let added = 0;
    let addedBytes = 0;
    let addedStored = 0;
    let chunks = 0;
    let bytes = 0;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const inFlight = new Set<Promise<void>>();
    const store = async (i: number, offset: number, length: number): Promise<void> => {
      const h = await pool.hash(fd, offset, length, name);
      ids[i] = h.id;
      if (progress !== undefined) progress.bytesDone += length;
      if (this.hasBlob('data', h.id)) {
        await pool.drop(h);
        return;
      }
      const k = `data:${h.id}`;
      this.pending.add(k);
      try {
        const { storedSize, pack } = await pool.seal(h);
        added++;
        addedBytes += length;
        addedStored += storedSize;
        if (pack !== undefined) await this.packers.data.store(pack);
      } catch (e) {
        this.pending.delete(k);
        throw e;
      }
    };
    try {
      let i = 0;
      for await (const c of chunkFile(chunker, fd, { size, name })) {
        if (signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', `storing ${name} was interrupted`);
        while (failure === undefined && (chunks >= STORE_MAX_CHUNKS || (chunks > 0 && bytes + c.length > STORE_MAX_BYTES))) {
          await new Promise<void>((r) => (wake = r));
        }
        if (failure !== undefined) break;
        chunks++;
        bytes += c.length;
        read += c.length;
        const p: Promise<void> = store(i++, c.offset, c.length).then(
          () => undefined,
          (e: unknown) => {
            failure ??= e;
          },
        ).finally(() => {
          chunks--;
          bytes -= c.length;
          inFlight.delete(p);
          wake?.();
        });
        inFlight.add(p);
      }
    } finally {
      await Promise.all(inFlight);
    }
    if (failure !== undefined) throw failure;
    return { ids, size: read, added, addedBytes, addedStored };
  }

  // ---- unpacked files -------------------------------------------------------------------------

  async *list(type: FileType): AsyncGenerator<Id> {
    for await (const f of this.backend.list(type)) yield f.name as Id;
  }

  /**
   * Stores a JSON document as an index, snapshot, lock or audit file; returns its ID. Lock and
   * audit files do not wait for the write gate (an audit record needs no lock: spec/format.md).
   */
  async saveUnpacked(type: 'index' | 'snapshot' | 'lock' | 'audit', json: Uint8Array): Promise<Id> {
    const { id, bytes } = sealUnpacked(this.key, this.version, json);
    if (type !== 'lock' && type !== 'audit') await this.writeGate;
    await this.backend.save({ type, name: id }, bytes);
    return id;
  }

  /**
   * Makes every write but lock files wait for `gate` (withLock's overlapped lock check: nothing
   * is written before the lock is known to hold; a rejected gate fails the writes with its error).
   */
  gateWrites(gate: Promise<void>): void {
    this.writeGate = gate;
  }

  /** The backend as packers see it: saves wait for the write gate. */
  private gatedBackend(): Backend {
    const backend = this.backend;
    const gate = (): Promise<void> => this.writeGate;
    return {
      location: backend.location,
      create: () => backend.create(),
      save: async (h, data) => {
        await gate();
        return backend.save(h, data);
      },
      ...(backend.saveFile !== undefined
        ? {
            saveFile: async (h: Handle, path: string) => {
              await gate();
              return backend.saveFile!(h, path);
            },
          }
        : {}),
      ...(backend.spillDir !== undefined ? { spillDir: () => backend.spillDir!() } : {}),
      load: (h, offset, length) => backend.load(h, offset, length),
      stat: (h) => backend.stat(h),
      list: (type) => backend.list(type),
      remove: (h) => backend.remove(h),
      close: () => backend.close(),
    };
  }

  /** Loads, verifies and decrypts an index, snapshot, lock or audit file; returns its JSON. */
  async loadUnpacked(type: 'index' | 'snapshot' | 'lock' | 'audit', id: Id): Promise<Uint8Array> {
    const what = `${dirOf(type)}/${id}`;
    const bytes = await this.backend.load({ type, name: id });
    return openUnpacked(this.key, this.version, id, bytes, what);
  }

  /** Decrypts the config file as stored (JSON). */
  async loadConfigJson(): Promise<Uint8Array> {
    return open(this.key, await this.backend.load({ type: 'config', name: 'config' }), 'config');
  }

  // ---- index ----------------------------------------------------------------------------------

  /** Loads every index file into the master index; returns the IDs of the files it read. */
  async loadIndex(): Promise<Id[]> {
    const ids: Id[] = [];
    for await (const id of this.list('index')) ids.push(id);
    await mapConcurrent(ids, this.loadConcurrency, async (id) => {
      addIndexFile(this.index, await this.loadUnpacked('index', id), `index/${id}`, this.version);
    });
    return ids;
  }

  /**
   * Replaces the in-memory master index by one holding exactly `packs`: for maintenance that has
   * just rewritten the index files (prune). Blobs handed to a packer but not yet saved stay known.
   */
  replaceIndex(packs: readonly IndexPack[]): void {
    const fresh = new MasterIndex();
    for (const p of packs) fresh.addPack(p.id, p.blobs);
    for (const p of this.unindexed) fresh.addPack(p.id, p.blobs);
    this.masterIndex = fresh;
  }

  /** Writes index files for the packs saved since the last call. */
  private async writeIndex(): Promise<void> {
    const packs = this.unindexed;
    this.unindexed = [];
    await this.saveIndexFiles(packs);
  }

  /**
   * Writes an index for the packs saved so far while the snapshot goes on: a run that is killed
   * later leaves them indexed, and the next run reuses their blobs instead of storing them again
   * (the resumable first snapshot). A failure is kept for `flush` to throw.
   */
  private indexDue(): boolean {
    const now = performance.now();
    const started = this.runStarted ?? now;
    const interval = this.indexIntervalMs ?? Math.max(INDEX_MIN_MS, (now - started) * INDEX_RUN_FRACTION);
    return now - (this.lastIndexed ?? started) >= interval;
  }

  private indexInBackground(): void {
    this.lastIndexed = performance.now();
    const run = (async () => {
      try {
        await this.writeIndex();
      } catch (e) {
        this.indexFailure ??= e;
      } finally {
        this.indexing = undefined;
      }
    })();
    this.indexing = run;
  }

  /**
   * Writes index files naming these packs (as many files as INDEX_MAX_BLOBS requires); returns
   * their IDs. It does not change the in-memory index. For maintenance (prune, repair index),
   * which writes the new index before it removes the old files.
   */
  async saveIndexFiles(packs: readonly IndexPack[], supersedes: readonly Id[] = []): Promise<Id[]> {
    const ids: Id[] = [];
    let batch: IndexPack[] = [];
    let count = 0;
    const write = async (): Promise<void> => {
      if (batch.length === 0 && !(ids.length === 0 && supersedes.length > 0)) return;
      ids.push(await this.saveUnpacked('index', encodeIndex({ supersedes: ids.length === 0 ? [...supersedes] : [], packs: batch })));
      batch = [];
      count = 0;
    };
    for (const p of packs) {
      if (count + p.blobs.length > INDEX_MAX_BLOBS && batch.length > 0) await write();
      batch.push(p);
      count += p.blobs.length;
    }
    await write();
    return ids;
  }

  // ---- blobs ----------------------------------------------------------------------------------

  /** True when the blob is stored or on its way into a pack. */
  hasBlob(type: BlobType, id: BlobId): boolean {
    // No key is built while nothing is pending (an unchanged snapshot asks for every file's blobs).
    return (this.pending.size > 0 && this.pending.has(`${type}:${id}`)) || this.index.has(id, type);
  }

  /**
   * Stores a blob unless it is already there. `id` must be SHA-256 of `plain`. In version 2 a data
   * blob is compressed when that makes it smaller (never stored larger than needed); a tree blob is
   * always compressed, as restic does: restic's prune (and cairn's) repacks every tree pack that
   * holds an uncompressed tree, so a tiny tree stored raw would cost a repack.
   */
  async saveBlob(type: BlobType, id: BlobId, plain: Uint8Array): Promise<BlobSaveResult> {
    if (this.hasBlob(type, id)) return { added: false, storedSize: 0 };
    this.pending.add(`${type}:${id}`);
    if (type === 'data' && (this.blobPool !== undefined || this.inlineBytes + plain.length > INLINE_DATA_BYTES)) {
      return { added: true, storedSize: await this.queueData(id, plain) };
    }
    if (type === 'data') this.inlineBytes += plain.length;
    const blob = this.sealBlob(type, id, plain, type === 'tree' ? 'always' : 'auto');
    await this.packers[type].add(blob);
    return { added: true, storedSize: blob.sealed.length };
  }

  /**
   * Encrypts a blob as a pack stores it. In version 2, `auto` compresses when that makes it
   * smaller; `always` compresses every non-empty blob (as restic 0.14 does), so that a repacked
   * blob never counts as uncompressed again. An empty blob is never compressed (an uncompressed
   * length of 0 means "not compressed" in the index). `id` must be SHA-256 of `plain`.
   */
  sealBlob(type: BlobType, id: BlobId, plain: Uint8Array, compression: BlobCompression = 'auto'): SealedBlob {
    let stored = plain;
    let uncompressedLength = 0;
    if (this.version >= 2 && plain.length > 0) {
      // Sealed (copied) before anything else can compress: the scratch buffer may be used.
      const z = compressToScratch(plain);
      if (compression === 'always' || z.length < plain.length) {
        stored = z;
        uncompressedLength = plain.length;
      }
    }
    return { id, type, uncompressedLength, sealed: seal(this.key, stored) };
  }

  /**
   * A writer of new packs for sealed blobs (see PackWriter): packs of about `packSize` bytes, each
   * durable before `onPackSaved` runs and before `finish` returns it.
   */
  createPackWriter(onPackSaved?: (pack: IndexPack, size: number) => void): PackWriter {
    const saved: IndexPack[] = [];
    const make = (): Packer =>
      new Packer(this.key, this.gatedBackend(), this.packSize, this.saveConcurrency, (id, blobs, size) => {
        const pack = { id, blobs: [...blobs] };
        saved.push(pack);
        onPackSaved?.(pack, size);
      });
    const packers: Record<BlobType, Packer> = { data: make(), tree: make() };
    return {
      add: (blob) => packers[blob.type].add(blob),
      finish: async () => {
        await Promise.all([packers.data.flush(), packers.tree.flush()]);
        return [...saved];
      },
    };
  }

  /**
   * Hands a data blob (hashed, new, marked pending) to the blob workers, batched with the others
   * of this event-loop turn (up to BATCH_BYTES / BATCH_BLOBS): compression and sealing run beside
   * this thread, one message per batch. `plain` is copied before this returns. Resolves to its
   * stored size once its batch is sealed and the packs it filled are stored.
   */
  private queueData(id: BlobId, plain: Uint8Array): Promise<number> {
    let b = this.batch;
    if (b !== undefined && b.used + plain.length > b.bytes.length) {
      this.sendBatch(b);
      b = undefined;
    }
    if (b === undefined) {
      const free = plain.length <= BATCH_BYTES ? this.freeBatches.pop() : undefined;
      const fresh: DataBatch = { bytes: free ?? new Uint8Array(Math.max(BATCH_BYTES, plain.length)), used: 0, ends: [], ids: [], waiters: [] };
      this.batch = b = fresh;
      setImmediate(() => this.sendBatch(fresh));
    }
    b.bytes.set(plain, b.used);
    b.used += plain.length;
    b.ends.push(b.used);
    b.ids.push(id);
    const batch = b;
    const done = new Promise<number>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (b.used >= BATCH_BYTES || b.ids.length >= BATCH_BLOBS) this.sendBatch(b);
    return done;
  }

  private sendBatch(b: DataBatch): void {
    if (this.batch !== b) return; // sent already
    this.batch = undefined;
    const p = (async () => {
      try {
        const { storedSizes, packs, bytes } = await this.pool().sealMany(b.bytes, b.ends, b.ids);
        if (bytes.length === BATCH_BYTES && this.freeBatches.length < FREE_BATCHES) this.freeBatches.push(bytes);
        for (const pack of packs) await this.packers.data.store(pack);
        b.waiters.forEach((w, i) => w.resolve(storedSizes[i]!));
      } catch (e) {
        for (const id of b.ids) this.pending.delete(`data:${id}`);
        for (const w of b.waiters) w.reject(e);
      }
    })();
    this.batches.add(p);
    void p.finally(() => this.batches.delete(p));
  }

  /** Stores every pack in progress and writes the index for them. */
  async flush(): Promise<void> {
    if (this.batch !== undefined) this.sendBatch(this.batch);
    await Promise.all(this.batches);
    for (const pack of (await this.blobPool?.flush()) ?? []) await this.packers.data.store(pack);
    await Promise.all([this.packers.data.flush(), this.packers.tree.flush()]);
    while (this.indexing !== undefined) await this.indexing;
    if (this.indexFailure !== undefined) {
      const e = this.indexFailure;
      this.indexFailure = undefined;
      throw e;
    }
    this.runStarted = undefined;
    this.lastIndexed = undefined;
    await this.writeIndex();
  }

  /** A blob's plaintext length from the index (its first copy), or undefined when not indexed. */
  blobLength(type: BlobType, id: BlobId): number | undefined {
    const e = this.index.lookup(id, type)[0];
    if (e === undefined) return undefined;
    return e.uncompressedLength > 0 ? e.uncompressedLength : e.length - CRYPTO_OVERHEAD;
  }

  /**
   * Loads a blob: reads its range from the pack, checks the MAC, decompresses, and checks that the
   * plaintext hashes to the blob ID. Tries every copy the index knows before giving up.
   */
  async loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array> {
    return this.eachCopy(type, id, async (e) => {
      try {
        const bytes = await this.backend.load({ type: 'pack', name: e.pack }, e.offset, e.length);
        if (type === 'data' && e.length >= WORKER_UNSEAL_MIN) {
          return await this.pool().unseal(bytes, id, e.uncompressedLength, `${type} blob ${id} in pack ${e.pack}`);
        }
        return this.unsealBlob(bytes, { ...e, id, type });
      } catch (err) {
        // The backend refuses a range past the end of the pack: the index entry is what is wrong.
        if (err instanceof CairnError && err.code === 'ERR_INVALID_ARGUMENT') {
          throw new CairnError('ERR_CORRUPT', `${type} blob ${id}: the index places it at bytes ${e.offset}..${e.offset + e.length} of pack ${e.pack}, which the pack does not hold (${messageOf(err)}); run \`cairn repair index\``, { cause: err, data: { blob: id, pack: e.pack } });
        }
        throw err;
      }
    });
  }

  /**
   * `attempt` on each copy of a blob the index knows until one succeeds (loadBlob, restoreBlob):
   * ERR_NOT_FOUND when the index knows none; one copy's failure as it is, several in one
   * ERR_CORRUPT. A failure `fatal` says is not the copy's fault (a target that cannot be written)
   * ends the search at once.
   */
  private async eachCopy<T>(type: BlobType, id: BlobId, attempt: (e: IndexEntry) => Promise<T>, fatal: (err: unknown) => boolean = () => false): Promise<T> {
    const entries = this.index.lookup(id, type);
    if (entries.length === 0) {
      throw new CairnError('ERR_NOT_FOUND', `${type} blob ${id} is not in the repository's index; run \`cairn check\`, and \`cairn repair index\` if packs exist that the index misses`, { data: { blob: id, type } });
    }
    const errors: unknown[] = [];
    for (const e of entries) {
      try {
        return await attempt(e);
      } catch (err) {
        if (fatal(err)) throw err;
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    throw new CairnError('ERR_CORRUPT', `${type} blob ${id}: every stored copy failed (${errors.map(messageOf).join('; ')})`, { cause: errors[0], data: { blob: id } });
  }

  /**
   * Whether `restoreBlob` can be used: the backend lends pack files (local repositories).
   */
  canRestoreBlobs(): boolean {
    return typeof this.backend.lendPack === 'function';
  }

  /**
   * Writes data blob `id`'s plaintext (`target.length` bytes, as `blobLength` says) to the open
   * file `target.fd` at `target.offset`, without the bytes passing through this thread: a blob
   * worker reads the stored range through a descriptor the backend lends, makes every check of
   * `loadBlob` (MAC, decompression to the index's length, SHA-256 against the ID) and only then
   * writes. Tries every copy the index knows, as `loadBlob` does; a failed write is not retried
   * (ERR_FILE_WRITE). `keep`: the blob will be asked for again soon (its plaintext is kept a
   * while). Only when `canRestoreBlobs()`. The caller keeps `target.fd` open until this settles.
   * Resolves to the bytes written.
   */
  async restoreBlob(id: BlobId, target: { readonly fd: number; readonly offset: number; readonly length: number }, keep: boolean): Promise<number> {
    const lendPack = this.backend.lendPack?.bind(this.backend);
    if (lendPack === undefined) throw new CairnError('ERR_INTERNAL', `restoreBlob: the backend at ${this.backend.location} does not lend pack files; use loadBlob`);
    return this.eachCopy(
      'data',
      id,
      async (e) => {
        const lent = await lendPack({ type: 'pack', name: e.pack });
        try {
          if (e.offset + e.length > lent.size) {
            throw new CairnError('ERR_CORRUPT', `data blob ${id}: the index places it at bytes ${e.offset}..${e.offset + e.length} of pack ${e.pack}, which the pack does not hold (${lent.size} bytes); run \`cairn repair index\``, { data: { blob: id, pack: e.pack } });
          }
          return await this.pool().restoreBlob({
            id,
            packFd: lent.fd,
            offset: e.offset,
            length: e.length,
            uncompressedLength: e.uncompressedLength,
            plainLength: target.length,
            target: target.fd,
            targetOffset: target.offset,
            keep,
            what: `data blob ${id} in pack ${e.pack}`,
            pack: e.pack,
          });
        } finally {
          lent.release();
        }
      },
      (err) => err instanceof CairnError && (err.code === 'ERR_FILE_WRITE' || err.code === 'ERR_WORKER'),
    );
  }

  /** Decrypts, decompresses and verifies one stored blob (bytes = exactly its stored range). */
  unsealBlob(bytes: Uint8Array, blob: PackedBlob & { readonly pack: PackId }): Uint8Array {
    return openBlob(this.key, bytes, blob.id, blob.uncompressedLength, `${blob.type} blob ${blob.id} in pack ${blob.pack}`, { pack: blob.pack });
  }

  /**
   * `unsealBlob` into reused buffers: the plaintext is a view of `scratch` (see BlobScratch),
   * valid until the scratch is used again. For a caller that reads blob after blob and keeps none
   * (check's trees): no new arrays per blob.
   */
  unsealBlobInto(bytes: Uint8Array, blob: PackedBlob & { readonly pack: PackId }, scratch: BlobScratch): Uint8Array {
    return openBlobInto(this.key, bytes, blob.id, blob.uncompressedLength, `${blob.type} blob ${blob.id} in pack ${blob.pack}`, { pack: blob.pack }, scratch);
  }

  /** The blobs a pack holds, from its header. */
  async listPack(pack: PackId): Promise<PackedBlob[]> {
    const h = { type: 'pack' as const, name: pack };
    const { size } = await this.backend.stat(h);
    return readPackHeader(this.key, (offset, length) => this.backend.load(h, offset, length), size, `pack ${pack}`);
  }

  // ---- snapshots ------------------------------------------------------------------------------

  async saveSnapshot(s: Snapshot): Promise<SnapshotId> {
    return this.saveUnpacked('snapshot', encodeSnapshot(s));
  }

  async loadSnapshot(id: SnapshotId): Promise<Snapshot> {
    return decodeSnapshot(await this.loadUnpacked('snapshot', id), `snapshots/${id}`);
  }

  /**
   * Every snapshot, oldest first.
   *
   * Strict by default: the first snapshot file that does not load (MAC, JSON, gone since the
   * listing) fails the whole listing with its error, which names the file. Commands that must see
   * every snapshot to be safe use this form: forget's keep policy, and the parent search of a
   * backup. With `onUnreadable`, the listing is lenient, as restic's FindFilteredSnapshots: each
   * file that does not load is reported there and left out (for `snapshots`, which lists what
   * it can). ERR_INTERRUPTED always propagates.
   */
  async listSnapshots(options: ListSnapshotsOptions = {}): Promise<SnapshotEntry[]> {
    const ids: SnapshotId[] = [];
    for await (const id of this.list('snapshot')) ids.push(id as SnapshotId);
    const { onUnreadable } = options;
    if (onUnreadable === undefined) {
      return sortSnapshots(await mapConcurrent(ids, this.loadConcurrency, async (id) => ({ id, snapshot: await this.loadSnapshot(id) })));
    }
    const entries: SnapshotEntry[] = [];
    const failed: { id: SnapshotId; error: unknown }[] = [];
    await mapConcurrent(ids, this.loadConcurrency, async (id) => {
      try {
        entries.push({ id, snapshot: await this.loadSnapshot(id) });
      } catch (e) {
        if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
        failed.push({ id, error: e });
      }
    });
    failed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const f of failed) onUnreadable(unreadableSnapshot(f.id, f.error));
    return sortSnapshots(entries);
  }

  /**
   * Resolves a full ID, a unique prefix or `latest` (optionally filtered; the filter applies to
   * `latest` only).
   *
   * An ID or prefix is resolved against the snapshot file names, as restic's FindSnapshot does,
   * and only that one file is loaded: another snapshot file that does not load does not matter
   * (ERR_AMBIGUOUS_ID, ERR_SNAPSHOT_NOT_FOUND, or the chosen file's own load error).
   *
   * `latest` needs every snapshot's time, so every file is loaded, and one that does not load
   * fails the lookup (with that file's error code, naming it): the unreadable snapshot may be the
   * newest, and restoring an older one as "latest" would be a silent wrong answer. restic 0.14's
   * FindLatestSnapshot fails the same way ("Error loading snapshot …").
   */
  async findSnapshot(ref: string, filter: SnapshotFilter = {}): Promise<SnapshotEntry> {
    if (ref === 'latest') {
      const unreadable: UnreadableSnapshot[] = [];
      const list = await this.listSnapshots({ onUnreadable: (u) => unreadable.push(u) });
      if (unreadable.length > 0) throw latestUnknown(unreadable);
      return findLatest(list, filter);
    }
    const ids: SnapshotId[] = [];
    if (ref !== '') for await (const id of this.list('snapshot')) ids.push(id as SnapshotId);
    const id = resolveSnapshotId(ids, ref);
    return { id, snapshot: await this.loadSnapshot(id) };
  }

  /** A short, human name for messages. */
  describe(id: Id): string {
    return shortId(id);
  }

  async close(): Promise<void> {
    const pool = this.blobPool;
    this.blobPool = undefined;
    const closed = await Promise.allSettled([pool?.close(), this.backend.close()]);
    for (const c of closed) if (c.status === 'rejected') throw c.reason;
  }
}

/** Data blobs collected for one `sealMany` (see Repository.queueData). */
interface DataBatch {
  /** The blobs' bytes, one after the other: `ends[i]` is where blob i ends. */
  readonly bytes: Uint8Array;
  used: number;
  readonly ends: number[];
  readonly ids: BlobId[];
  readonly waiters: { readonly resolve: (storedSize: number) => void; readonly reject: (e: unknown) => void }[];
}

/** How a listing of snapshots treats files that do not load (see Repository.listSnapshots). */
export interface ListSnapshotsOptions {
  /**
   * When given, a snapshot file that does not load is reported here and left out of the list.
   * @default undefined: the listing fails with the file's error
   */
  readonly onUnreadable?: (w: UnreadableSnapshot) => void;
}

/** A snapshot file a lenient listing left out because it does not load. */
export interface UnreadableSnapshot {
  readonly code: 'SNAPSHOT_UNREADABLE';
  readonly id: SnapshotId;
  /** `snapshots/<id>`, the file as the repository names it. */
  readonly file: string;
  readonly message: string;
  /** The load error (ERR_AUTH_FAILED, ERR_CORRUPT, ERR_NOT_FOUND, ERR_BACKEND…). */
  readonly cause: unknown;
}

function unreadableSnapshot(id: SnapshotId, cause: unknown): UnreadableSnapshot {
  // restic 0.14's words: "could not load snapshot <short id>: <error>".
  return { code: 'SNAPSHOT_UNREADABLE', id, file: `snapshots/${id}`, message: `could not load snapshot ${shortId(id)}: ${messageOf(cause)}`, cause };
}

/** `latest` cannot be known while a snapshot file does not load: the first one's code, all named. */
function latestUnknown(unreadable: readonly UnreadableSnapshot[]): CairnError {
  const sorted = [...unreadable].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const first = sorted[0]!;
  const code = first.cause instanceof CairnError ? first.cause.code : 'ERR_CORRUPT';
  const why = messageOf(first.cause);
  const more = sorted.slice(1).map((u) => u.file);
  return new CairnError(
    code,
    `cannot tell which snapshot is the latest: ${why.includes(first.file) ? why : `${first.file}: ${why}`}` +
      `${more.length === 0 ? '' : ` (and ${more.length} more snapshot ${more.length === 1 ? 'file' : 'files'} that cannot be loaded: ${more.slice(0, 3).join(', ')}${more.length > 3 ? ', …' : ''})`}` +
      `; give the ID of the snapshot you want (\`cairn snapshots\` lists the others), or delete the damaged file if \`cairn check\` confirms it`,
    { cause: first.cause, data: { ref: 'latest', snapshots: sorted.map((u) => u.id) } },
  );
}

function dirOf(type: FileType): string {
  return { config: 'config', key: 'keys', pack: 'data', index: 'index', snapshot: 'snapshots', lock: 'locks', audit: 'cairn-log' }[type];
}
