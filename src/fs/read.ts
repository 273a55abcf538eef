/**
 * Reading the source tree without disturbing it. Like restic on Linux, cairn opens files and
 * directories with O_NOATIME where the kernel allows it (the caller owns the file, or is root), so
 * a backup leaves access times as it found them; elsewhere (EPERM) it reads without the flag.
 * Both open with O_NOFOLLOW: an entry swapped for a symlink after it was stat'ed fails with ELOOP
 * instead of reading whatever the link points at.
 */
import { constants as FS } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { nativeAvailable, readDirectory } from './native.js';

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

/**
 * The names in directory `path` (without `.` and `..`) as raw bytes, in the file system's order.
 * With the native addon the directory is opened O_NOFOLLOW and, when permitted, O_NOATIME;
 * without it (not built), Node's readdir lists it, which follows a symlink and may move the atime.
 */
export async function readDirNames(path: Uint8Array): Promise<Buffer[]> {
  if (nativeAvailable()) return readDirectory(path);
  return readdir(path as Buffer, { encoding: 'buffer' });
}
