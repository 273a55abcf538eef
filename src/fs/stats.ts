/**
 * lstat/fstat results from the native addon's compact layout (one BigInt64Array of STAT_STRIDE
 * values per entry, see native/cairn_native.c) as objects that serve wherever Node's BigIntStats
 * does: same fields, same bigint values, same type tests. Building one costs a few bigints, not
 * the promise, FileHandle and stat object of Node's fs per syscall.
 */
import type { BigIntStats } from 'node:fs';
import { getSystemErrorMap } from 'node:util';

/**
 * Values per entry: the 16 stat fields (dev, ino, mode, nlink, uid, gid, rdev, size, blksize,
 * blocks, then atime, mtime and ctime as seconds and nanoseconds), then (scans only) the stat's
 * errno and the xattr-list size (-1: the query failed; XATTRS_NOT_ASKED: the scan did not ask).
 */
export const STAT_STRIDE = 18;
/** Columns of an entry (offsets from its first value). */
export const STAT_DEV = 0;
export const STAT_INO = 1;
export const STAT_MODE = 2;
export const STAT_NLINK = 3;
export const STAT_UID = 4;
export const STAT_GID = 5;
export const STAT_RDEV = 6;
export const STAT_SIZE = 7;
export const STAT_BLKSIZE = 8;
export const STAT_BLOCKS = 9;
export const STAT_ATIME = 10;
export const STAT_MTIME = 12;
export const STAT_CTIME = 14;
export const STAT_ERRNO = 16;
export const STAT_XATTRS = 17;
/** The xattr column of a scan that did not ask for the lists (`scanDirectory(path, { xattrs: false })`). */
export const XATTRS_NOT_ASKED = -2n;

const S_IFMT = 0o170000n;
const NS_PER_SEC = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

/** Node's BigIntStats, plus what a directory scan learned about the entry's extended attributes. */
export interface ScannedStats extends BigIntStats {
  /** False when the entry had no extended attributes at scan time; undefined when unknown. */
  readonly hasXattrs?: boolean;
}

/** One stat decoded from the native layout. Fields are own properties, so a spread copies them. */
class NativeStats implements ScannedStats {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mode: bigint;
  readonly nlink: bigint;
  readonly uid: bigint;
  readonly gid: bigint;
  readonly rdev: bigint;
  size: bigint;
  readonly blksize: bigint;
  readonly blocks: bigint;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  /** Not asked for (lstat has no birth time; statx would): 0, as Node reports when unknown. */
  readonly birthtimeNs = 0n;
  readonly hasXattrs?: boolean;

  constructor(a: BigInt64Array, o: number, hasXattrs: boolean | undefined) {
    this.dev = a[o + STAT_DEV]!;
    this.ino = a[o + STAT_INO]!;
    this.mode = a[o + STAT_MODE]!;
    this.nlink = a[o + STAT_NLINK]!;
    this.uid = a[o + STAT_UID]!;
    this.gid = a[o + STAT_GID]!;
    this.rdev = a[o + STAT_RDEV]!;
    this.size = a[o + STAT_SIZE]!;
    this.blksize = a[o + STAT_BLKSIZE]!;
    this.blocks = a[o + STAT_BLOCKS]!;
    // Each time is seconds, then nanoseconds.
    this.atimeNs = a[o + STAT_ATIME]! * NS_PER_SEC + a[o + STAT_ATIME + 1]!;
    this.mtimeNs = a[o + STAT_MTIME]! * NS_PER_SEC + a[o + STAT_MTIME + 1]!;
    this.ctimeNs = a[o + STAT_CTIME]! * NS_PER_SEC + a[o + STAT_CTIME + 1]!;
    if (hasXattrs !== undefined) this.hasXattrs = hasXattrs;
  }

  private type(): bigint {
    return this.mode & S_IFMT;
  }
  isFile(): boolean { return this.type() === 0o100000n; }
  isDirectory(): boolean { return this.type() === 0o040000n; }
  isBlockDevice(): boolean { return this.type() === 0o060000n; }
  isCharacterDevice(): boolean { return this.type() === 0o020000n; }
  isSymbolicLink(): boolean { return this.type() === 0o120000n; }
  isFIFO(): boolean { return this.type() === 0o010000n; }
  isSocket(): boolean { return this.type() === 0o140000n; }

  get atimeMs(): bigint { return this.atimeNs / NS_PER_MS; }
  get mtimeMs(): bigint { return this.mtimeNs / NS_PER_MS; }
  get ctimeMs(): bigint { return this.ctimeNs / NS_PER_MS; }
  get birthtimeMs(): bigint { return this.birthtimeNs / NS_PER_MS; }
  get atime(): Date { return new Date(Number(this.atimeMs)); }
  get mtime(): Date { return new Date(Number(this.mtimeMs)); }
  get ctime(): Date { return new Date(Number(this.ctimeMs)); }
  get birthtime(): Date { return new Date(Number(this.birthtimeMs)); }
}

/** The stat at entry `index` of a native stat array (its errno and xattr columns ignored). */
export function statAt(a: BigInt64Array, index: number): ScannedStats {
  return new NativeStats(a, index * STAT_STRIDE, undefined);
}

/**
 * Entry `index` of a scan: its lstat, or the error lstat gave, shaped like Node's
 * (`ENOENT: no such file or directory, lstat '/d/x'`, code, errno, syscall, path).
 */
export function scannedAt(a: BigInt64Array, index: number, path: () => string): ScannedStats | Error {
  const o = index * STAT_STRIDE;
  const errno = Number(a[o + STAT_ERRNO]);
  if (errno !== 0) return errnoError(errno, 'lstat', path());
  const xattrs = a[o + STAT_XATTRS]!;
  // -1: the query failed (reading them again reports why); not asked: unknown, read when needed.
  return new NativeStats(a, o, xattrs === XATTRS_NOT_ASKED ? undefined : xattrs !== 0n);
}

/** Whether entry `index` of a scan is a directory (false when it could not be stat-ed). */
export function scannedIsDirectory(a: BigInt64Array, index: number): boolean {
  const o = index * STAT_STRIDE;
  return a[o + STAT_ERRNO] === 0n && (a[o + STAT_MODE]! & S_IFMT) === 0o040000n;
}

let errorMap: Map<number, [string, string]> | undefined;

/** An Error like Node's fs errors for a (positive) errno. */
export function errnoError(errno: number, syscall: string, path?: string): NodeJS.ErrnoException {
  errorMap ??= getSystemErrorMap();
  const [code, text] = errorMap.get(-errno) ?? ['UNKNOWN', 'unknown error'];
  const e = new Error(`${code}: ${text}, ${syscall}${path === undefined ? '' : ` '${path}'`}`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = -errno;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  return e;
}
