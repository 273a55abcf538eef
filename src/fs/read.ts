/**
 * Reading the source tree without disturbing it. Like restic on Linux, cairn opens files and
 * directories with O_NOATIME where the kernel allows it (the caller owns the file, or is root), so
 * a backup leaves access times as it found them; elsewhere (EPERM) it reads without the flag.
 * Both open with O_NOFOLLOW: an entry swapped for a symlink after it was stat'ed fails with ELOOP
 * instead of reading whatever the link points at.
 */
import { constants as FS } from 'node:fs';
import { lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import { nativeAvailable, readSmall, scanDirectory, scanOf, type DirectoryScan, type ScanOptions, type SmallRead } from './native.js';
import { joinPath } from './paths.js';
import { mapConcurrent } from '../util/index.js';

const NOATIME = FS.O_NOATIME ?? 0;
const READ = FS.O_RDONLY | FS.O_NOFOLLOW;

function isEperm(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'EPERM';
}

/** Opens a regular file for reading: O_NOFOLLOW, and O_NOATIME when permitted. */
export async function openForReading(path: Uint8Array): Promise<FileHandle> {
  if (NOATIME !== 0) {
    try {
      return await open(path as Buffer, READ | NOATIME);
    } catch (e) {
      if (!isEperm(e)) throw e;
    }
  }
  return open(path as Buffer, READ);
}

/** lstat calls in flight while a directory is scanned without the addon. */
const STAT_CONCURRENCY = 16;

/**
 * The entries of directory `path`, sorted by name bytes, each with its lstat or the error lstat
 * gave. With the addon this is one thread-pool job (see scanDirectory), which also tells which
 * entries have extended attributes (`hasXattrs`, unless `options.xattrs` is false); without it
 * (not built), Node's readdir, which
 * follows a symlink and may move the atime, and lstat.
 */
export async function scanDir(path: Uint8Array, options: ScanOptions = {}): Promise<DirectoryScan> {
  if (nativeAvailable()) return scanDirectory(path, options);
  const names = await readdir(path as Buffer, { encoding: 'buffer' });
  names.sort(Buffer.compare);
  const stats = await mapConcurrent(names, STAT_CONCURRENCY, (n) => lstat(joinPath(path, n), { bigint: true }).catch((e: Error) => e));
  return scanOf(names, stats);
}

/** What readWhole read: the bytes, and the file's stat after reading them (readSmall's answer). */
export type WholeRead = SmallRead;

const keep = (): void => undefined;

/** Node's fs error shape, with `syscall` set when Node left it out. */
function withSyscall(e: unknown, syscall: string): unknown {
  const x = e as NodeJS.ErrnoException | undefined;
  if (x !== null && typeof x === 'object' && x.syscall === undefined) x.syscall = syscall;
  return e;
}

/**
 * The first `size` bytes of the regular file at `path` (fewer when it is shorter), and its fstat
 * after the read — compare it with the stat taken before to notice a file changing while it was
 * read. Opened as openForReading opens it. With the addon it is one thread-pool job; without it,
 * Node's open, read, fstat and close. A failure rejects with Node's fs error shape, whose
 * `syscall` is 'open' when the file could not be opened. Meant for small files (size ≤ 64 MiB).
 */
export async function readWhole(path: Uint8Array, size: number): Promise<WholeRead> {
  if (nativeAvailable()) return readSmall(path, size);
  let fh: FileHandle;
  try {
    fh = await openForReading(path);
  } catch (e) {
    throw withSyscall(e, 'open');
  }
  try {
    const buf = Buffer.alloc(size);
    let n = 0;
    while (n < size) {
      const { bytesRead } = await fh.read(buf, n, size - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    const stat = await fh.stat({ bigint: true });
    return { data: n === size ? buf : buf.subarray(0, n), stat, release: keep };
  } finally {
    await fh.close();
  }
}
