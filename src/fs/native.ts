/**
 * The file-system calls Node's fs lacks, from cairn's own N-API addon (native/cairn_native.c):
 * extended attributes (llistxattr/lgetxattr/lsetxattr, never following a symlink), nanosecond
 * atime/mtime (utimensat; libuv's utimes takes a double and keeps only microseconds), mknod
 * for FIFOs and device nodes, and directory listing that neither follows a symlink nor moves the
 * directory's atime (open with O_NOFOLLOW|O_NOATIME, on libuv's thread pool). restic 0.14 saves and restores all of these, so cairn must too.
 * For the archiver's speed, two batched calls: a directory's names with every entry's lstat and
 * xattr count in one thread-pool job, and a small file's open, read, fstat and close in one. For
 * the restorer's, two more: a restored file's fchown, fchmod, futimens and close in one job, and
 * the creation of files to restore into; calls of either made in the same turn of the event loop
 * share jobs.
 *
 * Paths, names and values are bytes, passed through undecoded. A failed syscall throws the
 * addon's Error shaped like Node's fs errors (`code` 'ENOENT', 'EPERM', 'ENOTSUP'…, `errno`,
 * `syscall`, `path`), for the caller to turn into a warning. Loading never throws: when the addon
 * is missing (not built, other OS), `nativeAvailable()` is false and each call throws a CairnError
 * ERR_UNSUPPORTED telling the user to run `npm run build:native`.
 */
import { CairnError, messageOf } from '../errors.js';
import { ADDON_PATH, addonLoadError, nativeAddon } from '../util/index.js';
import { displayPath, joinPath } from './paths.js';
import { closeSync } from 'node:fs';
import { errnoError, scannedAt, scannedIsDirectory, STAT_ERRNO, STAT_STRIDE, STAT_XATTRS, statAt, type ScannedStats } from './stats.js';
import { scanFingerprint, scannedGives } from './node.js';
import type { Node } from '../tree/index.js';

/** The addon's raw surface (see native/cairn_native.c). */
interface Addon {
  listXattrs(path: Uint8Array): Array<[name: Buffer, value: Buffer]>;
  setXattr(path: Uint8Array, name: Uint8Array, value: Uint8Array): void;
  utimens(
    path: Uint8Array,
    atimeSec: number | bigint,
    atimeNsec: number,
    mtimeSec: number | bigint,
    mtimeNsec: number,
    followSymlinks: boolean,
  ): void;
  mknod(path: Uint8Array, mode: number, dev: bigint): void;
  scanDir(path: Uint8Array, xattrs: boolean): Promise<[names: Buffer, ends: Float64Array, stats: BigInt64Array]>;
  readFiles(paths: Uint8Array[], maxBytes: number[], into: Uint8Array): Promise<[ends: Float64Array, stats: BigInt64Array]>;
  finishFiles(args: Float64Array): Promise<Int32Array>;
  openFiles(paths: Uint8Array[], flags: number, mode: number): Promise<Int32Array>;
}

const addon = nativeAddon<Addon>();

function native(operation: string): Addon {
  if (addon !== undefined) return addon;
  const loadError = addonLoadError();
  throw new CairnError(
    'ERR_UNSUPPORTED',
    `cannot ${operation}: cairn's native module is missing (${messageOf(loadError)}); run \`npm run build:native\` to build it`,
    { data: { operation, module: ADDON_PATH }, cause: loadError },
  );
}

/** True when the addon loaded; false means every function here throws ERR_UNSUPPORTED. */
export function nativeAvailable(): boolean {
  return addon !== undefined;
}

/** One extended attribute: its full name with namespace (`user.x`, `trusted.y`…) and value. */
export interface Xattr {
  name: Uint8Array;
  value: Uint8Array;
}

/**
 * The extended attributes of `path` itself (a symlink's own, never its target's), in the order
 * the file system lists them. Empty when there are none or the file system has no xattr support
 * (ENOTSUP; also ENODATA, which CIFS answers for "none"). An attribute removed between listing
 * and reading is left out; one that grows is re-read. Names and values are fresh copies.
 */
export function listXattrs(path: Uint8Array): Xattr[] {
  return native('list extended attributes').listXattrs(path).map(([name, value]) => ({ name, value }));
}

/** Creates or replaces one extended attribute on `path` itself (lsetxattr). */
export function setXattr(path: Uint8Array, name: Uint8Array, value: Uint8Array): void {
  native('set an extended attribute').setXattr(path, name, value);
}

/** A point in time as whole seconds since the epoch (may be negative) and 0..999999999 ns. */
export interface TimeSpec {
  readonly sec: number;
  readonly nsec: number;
}

/**
 * Sets atime and mtime to the nanosecond (utimensat). With `followSymlinks` false a symlink's own
 * times are set. `sec` must be a safe integer and `nsec` an integer in 0..999999999 (RangeError
 * otherwise).
 */
export function setTimes(path: Uint8Array, atime: TimeSpec, mtime: TimeSpec, followSymlinks: boolean): void {
  native('set file times').utimens(path, atime.sec, atime.nsec, mtime.sec, mtime.nsec, followSymlinks);
}

/**
 * Creates a FIFO, character or block device at `path` (mknod). `stMode` is a full st_mode: the
 * type bits (S_IFIFO, S_IFCHR, S_IFBLK) with the permissions, which the umask narrows as usual.
 * `rdev` is st_rdev exactly as Linux's stat reports it (and restic stores as `device`); it is
 * ignored for a FIFO. Devices need CAP_MKNOD (EPERM otherwise).
 */
export function makeNode(path: Uint8Array, stMode: number, rdev: bigint): void {
  native('create a special file').mknod(path, stMode, rdev);
}

/**
 * A directory's entries with their lstat results, as one scan reports them. The stats stay in the
 * scan's compact layout until asked for: a stat object costs ~600 bytes of heap (its bigints), and
 * a wide directory (18,000 entries in /usr/share/man/man1) would otherwise hold them all at once.
 */
export interface DirectoryScan {
  /** Names in byte order (views into one buffer; made on first use). */
  readonly names: Buffer[];
  /** Entry `index`'s name, without making `names`. */
  name(index: number): Buffer;
  /** Entry `index`'s lstat (with `hasXattrs`; a new object on each call), or the error lstat gave. */
  stat(index: number): ScannedStats | Error;
  /** Whether entry `index` is a directory (false when it could not be stat-ed), without building its stat. */
  isDirectory(index: number): boolean;
  /**
   * Whether entry `index` would be recorded exactly as `old` (a parent's node of the same name),
   * without building its stat or node (see `scannedGives`); false when that cannot be told so.
   */
  gives(index: number, old: Node): boolean;
  /**
   * A digest of everything about the entries that their nodes record (see `scanFingerprint`),
   * after `prefix`; undefined for a scan without the native layout.
   */
  fingerprint?(prefix: Uint8Array, withAtime: boolean): Buffer;
}

export interface ScanOptions {
  /**
   * Ask each entry whether it has extended attributes (one `llistxattr` per entry). Without,
   * `hasXattrs` is unknown (they are read when a node is built) and `gives` takes a parent
   * node's attributes as the entry's. @default true
   */
  readonly xattrs?: boolean;
}

/** A scan whose stats are objects already (Node's lstat, without the addon). */
export function scanOf(names: Buffer[], stats: ReadonlyArray<ScannedStats | Error>): DirectoryScan {
  return {
    names,
    name: (i) => names[i]!,
    stat: (i) => stats[i]!,
    isDirectory: (i) => {
      const st = stats[i]!;
      return !(st instanceof Error) && st.isDirectory();
    },
    gives: () => false,
  };
}

/**
 * The entries of directory `path` (without `.` and `..`), sorted by name bytes, each with its
 * lstat and whether it has extended attributes (unless `options.xattrs` is false), from one
 * thread-pool job: the directory is opened
 * O_DIRECTORY|O_NOFOLLOW (a symlink or a file fails, ENOTDIR on Linux) and O_NOATIME unless the
 * kernel refuses it (EPERM: not the owner), so listing leaves the atime alone; each entry is
 * stat-ed relative to it (fstatat, AT_SYMLINK_NOFOLLOW).
 * A directory that cannot be listed rejects; an entry that cannot be stat-ed gets its error.
 */
export async function scanDirectory(path: Uint8Array, options: ScanOptions = {}): Promise<DirectoryScan> {
  const [all, ends, raw] = await native('list a directory').scanDir(path, options.xattrs !== false);
  const name = (i: number): Buffer => all.subarray(i === 0 ? 0 : ends[i - 1]!, ends[i]!);
  // A view per name costs ~1 µs: a directory the cache decides never needs most of them.
  let names: Buffer[] | undefined;
  return {
    get names(): Buffer[] {
      if (names === undefined) {
        names = new Array<Buffer>(ends.length);
        for (let i = 0; i < ends.length; i++) names[i] = name(i);
      }
      return names;
    },
    name,
    stat: (i) => scannedAt(raw, i, () => displayPath(joinPath(path, name(i)))),
    isDirectory: (i) => scannedIsDirectory(raw, i),
    gives: (i, old) => scannedGives(raw, i, old),
    fingerprint: (prefix, withAtime) => scanFingerprint(prefix, all, ends, raw, withAtime),
  };
}

/** What readSmall read. */
export interface SmallRead {
  /** The bytes read: valid until `release` is called, and not after. */
  readonly data: Buffer;
  /** The file's fstat after reading. */
  readonly stat: ScannedStats;
  /**
   * Says `data` is no longer used, so that its memory can hold a later read; the caller must not
   * touch `data` afterwards. Optional, and once is enough (again does nothing): data never
   * released is left to the garbage collector.
   */
  release(): void;
}

/** One file for readSmall's next batch. */
interface ReadRequest {
  readonly path: Uint8Array;
  readonly size: number;
  resolve(r: SmallRead): void;
  reject(e: unknown): void;
}

/**
 * Files per native job: enough to pay for the trip to a thread, few enough that the waiting files
 * spread over the pool's threads (libuv's default four) and are read in parallel; and bytes.
 */
const BATCH_MIN_FILES = 4;
const BATCH_MAX_FILES = 32;
const POOL_THREADS = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);
const BATCH_BYTES = 4 << 20;
/** The syscall that failed, by the index readFiles reports. */
const READ_SYSCALLS = ['open', 'read', 'fstat'];
/**
 * Batches are read into slabs that come back here once every file read into one is released, so
 * that reading small files does not leave a new buffer behind per batch (V8 collects ArrayBuffers
 * only after ~64 MB more of them: a first snapshot of /usr/share peaked with ~40 MB of read
 * buffers waiting for the collector). A slab's size is the batch's rounded up to a power of two
 * from 64 KiB to BATCH_BYTES (a batch of one small file does not hold 4 MiB); at most FREE_BYTES
 * of them wait here (up to 32 reads are in flight, often one file per batch).
 */
const SLAB_MIN = 64 << 10;
const FREE_BYTES = 8 << 20;
const freeSlabs = new Map<number, Buffer[]>();
let freeBytes = 0;

/** The slab size for `bytes` (≤ BATCH_BYTES). */
function slabSize(bytes: number): number {
  let size = SLAB_MIN;
  while (size < bytes) size *= 2;
  return size;
}

/**
 * Collects the requests made in one turn of the event loop and hands them together, at its end
 * (setImmediate), to `flush`, which sends them to the thread pool in native jobs: a trip to a pool
 * thread per file costs more on the main thread than the syscalls it carries.
 */
class TurnBatcher<R> {
  private waiting: R[] = [];
  private scheduled = false;

  constructor(private readonly flush: (all: R[]) => void) {}

  add(request: R): void {
    this.waiting.push(request);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const all = this.waiting;
        this.waiting = [];
        this.flush(all);
      });
    }
  }
}

const reading = new TurnBatcher<ReadRequest>(flushReads);

/** Sends a turn's reads to the thread pool, spread over its threads, in batches. */
function flushReads(all: ReadRequest[]): void {
  const files = Math.min(BATCH_MAX_FILES, Math.max(BATCH_MIN_FILES, Math.ceil(all.length / POOL_THREADS)));
  for (let from = 0; from < all.length; ) {
    let to = from;
    let bytes = 0;
    while (to < all.length && to - from < files && (to === from || bytes + all[to]!.size <= BATCH_BYTES)) bytes += all[to++]!.size;
    readBatch(all.slice(from, to));
    from = to;
  }
}

function readBatch(batch: ReadRequest[]): void {
  let total = 0;
  for (const r of batch) total += r.size;
  // A slab when the batch fits one (flushReads makes batches of at most BATCH_BYTES unless one
  // file alone is larger); such a file gets a buffer of its own, left to the collector.
  const size = total <= BATCH_BYTES ? slabSize(total) : 0;
  const reused = size > 0 ? freeSlabs.get(size)?.pop() : undefined;
  if (reused !== undefined) freeBytes -= size;
  const into = reused ?? Buffer.allocUnsafeSlow(size > 0 ? size : total);
  let holders = batch.length;
  const release = (): void => {
    if (--holders !== 0 || size === 0 || freeBytes + size > FREE_BYTES) return;
    const list = freeSlabs.get(size);
    if (list === undefined) freeSlabs.set(size, [into]);
    else list.push(into);
    freeBytes += size;
  };
  let call: Promise<[Float64Array, BigInt64Array]>;
  try {
    call = native('read a file').readFiles(batch.map((r) => r.path), batch.map((r) => r.size), into);
  } catch (e) {
    for (const r of batch) r.reject(e);
    return;
  }
  call.then(
    ([ends, stats]) => {
      let start = 0;
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i]!;
        const end = ends[i]!;
        const errno = Number(stats[i * STAT_STRIDE + STAT_ERRNO]);
        if (errno !== 0) {
          release();
          // readFiles puts the index of the failed syscall in the xattr column.
          const syscall = READ_SYSCALLS[Number(stats[i * STAT_STRIDE + STAT_XATTRS])] ?? 'read';
          r.reject(errnoError(errno, syscall, displayPath(r.path)));
        } else {
          let released = false;
          r.resolve({
            data: into.subarray(start, end),
            stat: statAt(stats, i),
            release: () => {
              if (released) return;
              released = true;
              release();
            },
          });
        }
        start += r.size;
      }
    },
    (e: unknown) => {
      for (const r of batch) r.reject(e);
    },
  );
}

/**
 * The first `maxBytes` bytes of the regular file at `path` (fewer when it is shorter) and its
 * fstat taken after reading them: open with O_NOFOLLOW and O_NOATIME unless refused (EPERM),
 * read, fstat, close, all on libuv's thread pool. Calls made in the same turn of the event loop
 * share native jobs (spread over the pool's threads; up to 32 files or 4 MiB each), so a small file costs no trip of its own.
 * Failures reject with Node's fs error shape; `syscall` ('open', 'read', 'fstat') tells opening
 * from reading. `maxBytes` is at most 256 MiB.
 */
export function readSmall(path: Uint8Array, maxBytes: number): Promise<SmallRead> {
  native('read a file');
  return new Promise((resolve, reject) => reading.add({ path, size: maxBytes, resolve, reject }));
}

/** The call that failed, by the step finishFile reports; named as the path-based calls are. */
const FINISH_SYSCALLS = ['chown', 'chmod', 'utimensat'];

/** What finishFile did: the first metadata call that failed, and whether closing failed. */
export interface FinishedFile {
  /** Shaped like the error of the path-based call (`chown`, `chmod`, `utimensat`) on `path`. */
  readonly metadata?: NodeJS.ErrnoException;
  /** Shaped like a failing FileHandle.close (`EIO: i/o error, close`). */
  readonly close?: NodeJS.ErrnoException;
}

/** One file for finishFile's next batch: its 9 numbers (FINISH_STRIDE) and its promise. */
interface FinishRequest {
  readonly args: readonly number[];
  readonly path: Uint8Array;
  resolve(r: FinishedFile): void;
  reject(e: unknown): void;
}

/** Numbers per file in finishFiles' argument: fd, chown, uid, gid, mode, aSec, aNsec, mSec, mNsec. */
const FINISH_STRIDE = 9;

/**
 * A turn's finishes (and, below, opens) go in jobs of up to BATCH_MAX_FILES, not spread over the
 * pool's threads as reads are: restored files are mostly in the same few directories, and
 * creating files in one directory from several threads at once makes them wait on its lock
 * (restoring /usr/share, 49k files on 2 CPUs: 7-8 s of system time instead of 11-16 s in a run
 * after a large delete).
 */
const finishing = new TurnBatcher<FinishRequest>((all) => {
  for (let from = 0; from < all.length; from += BATCH_MAX_FILES) finishBatch(all.slice(from, from + BATCH_MAX_FILES));
});

function finishBatch(batch: FinishRequest[]): void {
  const args = new Float64Array(batch.length * FINISH_STRIDE);
  for (let i = 0; i < batch.length; i++) args.set(batch[i]!.args, i * FINISH_STRIDE);
  let call: Promise<Int32Array>;
  try {
    call = native('set file metadata').finishFiles(args);
  } catch (e) {
    // Refused before anything was done (finishFile checked every value, so only a failing
    // allocation gets here): the descriptors are still open and nobody else will close them.
    for (const r of batch) {
      try {
        closeSync(r.args[0]!);
        r.reject(e);
      } catch (c) {
        r.reject(new AggregateError([e, c], `${messageOf(e)}; closing the file's descriptor failed too (${messageOf(c)})`));
      }
    }
    return;
  }
  call.then(
    (out) => {
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i]!;
        const errno = out[3 * i]!;
        const closeErrno = out[3 * i + 2]!;
        const done: { metadata?: NodeJS.ErrnoException; close?: NodeJS.ErrnoException } = {};
        if (errno !== 0) done.metadata = errnoError(errno, FINISH_SYSCALLS[out[3 * i + 1]!] ?? 'chmod', Buffer.from(r.path).toString());
        if (closeErrno !== 0) done.close = errnoError(closeErrno, 'close'); // no path, as FileHandle.close's
        r.resolve(done);
      }
    },
    (e: unknown) => {
      for (const r of batch) r.reject(e);
    },
  );
}

/** Throws finishFile's RangeError or TypeError (Node's codes) unless `v` is an integer in [lo, hi]. */
function checkInteger(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number') {
    const e = new TypeError(`The "${what}" argument must be of type number`) as TypeError & { code: string };
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  if (!Number.isInteger(v) || v < lo || v > hi) {
    const e = new RangeError(`The value of "${what}" is out of range: it must be an integer >= ${lo} and <= ${hi}`) as RangeError & { code: string };
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
  return v;
}

/**
 * Sets a restored file's owner (when `owner` is given: as root), permissions (`mode`, the 12
 * permission bits) and atime/mtime to the nanosecond on its open descriptor `fd`, in that order
 * (restic's: chown clears setuid/setgid, so chmod comes after), then closes `fd`, on libuv's
 * thread pool. Calls made in the same turn of the event loop share native jobs (up to 32 files
 * each); each file's calls stop at its own first failure and its
 * result is its own. `fd` is closed in any case.
 * Throws synchronously (RangeError, TypeError) for arguments it refuses, and then does nothing:
 * `fd` stays open, the caller's to close. Never rejects for a failing syscall: the result says
 * what failed.
 */
export function finishFile(
  fd: number,
  path: Uint8Array,
  owner: { readonly uid: number; readonly gid: number } | undefined,
  mode: number,
  atime: TimeSpec,
  mtime: TimeSpec,
): Promise<FinishedFile> {
  native('set file metadata');
  const args = [
    checkInteger(fd, 'fd', 0, 0x7fffffff),
    owner !== undefined ? 1 : 0,
    checkInteger(owner?.uid ?? 0, 'uid', 0, 0xffffffff),
    checkInteger(owner?.gid ?? 0, 'gid', 0, 0xffffffff),
    checkInteger(mode, 'mode', 0, 0o7777),
    checkInteger(atime.sec, 'atimeSec', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    checkInteger(atime.nsec, 'atimeNsec', 0, 999_999_999),
    checkInteger(mtime.sec, 'mtimeSec', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    checkInteger(mtime.nsec, 'mtimeNsec', 0, 999_999_999),
  ];
  return new Promise((resolve, reject) => finishing.add({ args, path, resolve, reject }));
}

/** One file for openFile's next batch. */
interface OpenRequest {
  readonly path: Uint8Array;
  readonly flags: number;
  readonly mode: number;
  resolve(fd: number): void;
  reject(e: unknown): void;
}

const opening = new TurnBatcher<OpenRequest>(openBatches);

/** Sends a turn's opens, those with the same flags and mode together (up to BATCH_MAX_FILES a job). */
function openBatches(batch: OpenRequest[]): void {
  for (let from = 0; from < batch.length; ) {
    let to = from + 1;
    while (to < batch.length && to - from < BATCH_MAX_FILES && batch[to]!.flags === batch[from]!.flags && batch[to]!.mode === batch[from]!.mode) to++;
    openBatch(batch.slice(from, to));
    from = to;
  }
}

function openBatch(batch: OpenRequest[]): void {
  const { flags, mode } = batch[0]!;
  let call: Promise<Int32Array>;
  try {
    call = native('open a file').openFiles(batch.map((r) => r.path), flags, mode);
  } catch (e) {
    for (const r of batch) r.reject(e); // nothing was opened
    return;
  }
  call.then(
    (fds) => {
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i]!;
        const fd = fds[i]!;
        if (fd >= 0) r.resolve(fd);
        else r.reject(errnoError(-fd, 'open', Buffer.from(r.path).toString()));
      }
    },
    (e: unknown) => {
      for (const r of batch) r.reject(e);
    },
  );
}

/**
 * Opens (or creates) the file at `path` with open(2) `flags` (O_CLOEXEC added, as Node's fs.open
 * does) and, for a file created, permissions `mode` (narrowed by the umask): its descriptor,
 * the caller's to close. Calls made in the same turn of the event loop share native jobs (up to
 * 32 files each). A failure rejects exactly as Node's fs.open does for that path (`code`,
 * `errno`, `syscall` 'open', `path` as a string, the same message). A path holding a NUL byte
 * or a mode beyond 0o7777 throws synchronously.
 */
export function openFile(path: Uint8Array, flags: number, mode: number): Promise<number> {
  native('open a file');
  checkInteger(flags, 'flags', 0, 0x7fffffff);
  checkInteger(mode, 'mode', 0, 0o7777);
  if (path.includes(0)) {
    const e = new TypeError('The "path" argument must not contain null bytes') as TypeError & { code: string };
    e.code = 'ERR_INVALID_ARG_VALUE';
    throw e;
  }
  return new Promise((resolve, reject) => opening.add({ path, flags, mode, resolve, reject }));
}
