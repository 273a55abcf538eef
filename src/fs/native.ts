/**
 * The file-system calls Node's fs lacks, from cairn's own N-API addon (native/cairn_native.c):
 * extended attributes (llistxattr/lgetxattr/lsetxattr, never following a symlink), nanosecond
 * atime/mtime (utimensat; libuv's utimes takes a double and keeps only microseconds), mknod
 * for FIFOs and device nodes, and directory listing that neither follows a symlink nor moves the
 * directory's atime (open with O_NOFOLLOW|O_NOATIME, on libuv's thread pool). restic 0.14 saves and restores all of these, so cairn must too.
 *
 * Paths, names and values are bytes, passed through undecoded. A failed syscall throws the
 * addon's Error shaped like Node's fs errors (`code` 'ENOENT', 'EPERM', 'ENOTSUP'…, `errno`,
 * `syscall`, `path`), for the caller to turn into a warning. Loading never throws: when the addon
 * is missing (not built, other OS), `nativeAvailable()` is false and each call throws a CairnError
 * ERR_UNSUPPORTED telling the user to run `npm run build:native`.
 */
import { createRequire } from 'node:module';
import { CairnError, messageOf } from '../errors.js';

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
  readDir(path: Uint8Array): Promise<Buffer[]>;
}

/** Relative to this file, which is src/fs/ under vitest and dist/fs/ once built. */
const ADDON_PATH = '../../native/build/Release/cairn_native.node';

let addon: Addon | undefined;
let loadError: unknown;
try {
  addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
} catch (e) {
  loadError = e;
}

function native(operation: string): Addon {
  if (addon !== undefined) return addon;
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
 * The names in directory `path` (without `.` and `..`), raw bytes, in the file system's order.
 * Opened with O_DIRECTORY|O_NOFOLLOW (a symlink or a file fails, ENOTDIR on Linux) and O_NOATIME
 * unless the kernel refuses it (EPERM: not the owner), so listing leaves the atime alone.
 */
export function readDirectory(path: Uint8Array): Promise<Buffer[]> {
  return native('list a directory').readDir(path);
}
