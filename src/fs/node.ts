/**
 * Tree nodes from file-system metadata, and metadata back from nodes — the same fields restic 0.14
 * records: Go FileMode, times with nanoseconds (atime recorded as mtime, as restic does unless
 * asked otherwise), uid/gid with names when they resolve, inode and device, size, link count.
 */
import type { BigIntStats } from 'node:fs';
import type { BlobId, TreeId } from '../model/index.js';
import { fileModeFromUnix, nodeTypeFromUnixMode, timestampFromNs, unixModeFromFileMode, type Node, type Timestamp } from '../tree/index.js';
import { groupName, userName } from './names.js';

export interface NodeContent {
  /** Files: their data blobs and size. */
  readonly content?: readonly BlobId[];
  readonly size?: number;
  /** Directories: their tree. */
  readonly subtree?: TreeId;
  /** Symlinks: the target, raw bytes. */
  readonly linktarget?: Uint8Array;
}

export function nodeFromStat(name: Uint8Array, st: BigIntStats, extra: NodeContent): Node {
  const stMode = Number(st.mode);
  const type = nodeTypeFromUnixMode(stMode) ?? 'file';
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  const user = userName(uid);
  const group = groupName(gid);
  const mtime = timestampFromNs(st.mtimeNs);
  const withLinks = type === 'file' || type === 'symlink' || type === 'dev' || type === 'chardev';
  return {
    name,
    type,
    mode: fileModeFromUnix(stMode),
    mtime,
    atime: mtime,
    ctime: timestampFromNs(st.ctimeNs),
    uid,
    gid,
    ...(user !== undefined ? { user } : {}),
    ...(group !== undefined ? { group } : {}),
    inode: st.ino,
    deviceId: st.dev,
    ...(type === 'file' ? { size: extra.size ?? Number(st.size) } : {}),
    ...(withLinks ? { links: Number(st.nlink) } : {}),
    ...(type === 'symlink' && extra.linktarget !== undefined ? { linktarget: extra.linktarget } : {}),
    ...((type === 'dev' || type === 'chardev') && st.rdev !== 0n ? { device: st.rdev } : {}),
    content: type === 'file' ? [...(extra.content ?? [])] : null,
    ...(extra.subtree !== undefined ? { subtree: extra.subtree } : {}),
  };
}

/**
 * Seconds since the epoch as the number fs.utimes takes. libuv turns that double into a timespec
 * and truncates it to whole microseconds, so we aim at the middle of the wanted microsecond: the
 * double's rounding error (at most ~240 ns before the year 2106) can then never push the result
 * into the neighbouring microsecond. Precision finer than 1 µs cannot be set through Node's fs.
 */
export function timestampToSeconds(t: Timestamp): number {
  return t.sec + (Math.floor(t.nsec / 1000) * 1000 + 500) / 1e9;
}

/** The chmod bits (permissions, setuid, setgid, sticky) of a Go FileMode. */
export function unixPermissions(mode: number): number {
  return unixModeFromFileMode(mode) & 0o7777;
}

/** The full st_mode (type and permission bits) of a node, for mknod. */
export function unixModeOf(node: Node): number {
  return unixModeFromFileMode(node.mode ?? 0);
}
