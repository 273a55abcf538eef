/**
 * Tree nodes from file-system metadata, and metadata back from nodes — the same fields restic 0.14
 * records: Go FileMode, times with nanoseconds (atime recorded as mtime, as restic does unless
 * asked otherwise), uid/gid with names when they resolve, inode and device, size, link count.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import type { BlobId, TreeId } from '../model/index.js';
import { fileModeFromUnix, localOffset, nodeTypeFromUnixMode, timestampFromNs, unixModeFromFileMode, type Node, type NodeType, type Timestamp } from '../tree/index.js';
import { groupName, userName } from './names.js';
import { STAT_ATIME, STAT_BLKSIZE, STAT_BLOCKS, STAT_CTIME, STAT_DEV, STAT_ERRNO, STAT_GID, STAT_INO, STAT_MODE, STAT_MTIME, STAT_NLINK, STAT_RDEV, STAT_SIZE, STAT_STRIDE, STAT_UID, STAT_XATTRS, XATTRS_NOT_ASKED } from './stats.js';

export interface NodeContent {
  /** Files: their data blobs and size. */
  readonly content?: readonly BlobId[];
  readonly size?: number;
  /** Directories: their tree. */
  readonly subtree?: TreeId;
  /** Symlinks: the target, raw bytes. */
  readonly linktarget?: Uint8Array;
}

/** Whether a node of this type records the link count (restic: files, symlinks and devices). */
function recordsLinks(type: NodeType): boolean {
  return type === 'file' || type === 'symlink' || type === 'dev' || type === 'chardev';
}

/** Whether a node of this type records st_rdev as `device` (block and character devices). */
function isDevice(type: NodeType): boolean {
  return type === 'dev' || type === 'chardev';
}

export function nodeFromStat(name: Uint8Array, st: BigIntStats, extra: NodeContent): Node {
  const stMode = Number(st.mode);
  const type = nodeTypeFromUnixMode(stMode) ?? 'file';
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  const user = userName(uid);
  const group = groupName(gid);
  const mtime = timestampFromNs(st.mtimeNs);
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
    ...(recordsLinks(type) ? { links: Number(st.nlink) } : {}),
    ...(type === 'symlink' && extra.linktarget !== undefined ? { linktarget: extra.linktarget } : {}),
    ...(isDevice(type) && st.rdev !== 0n ? { device: st.rdev } : {}),
    content: type === 'file' ? [...(extra.content ?? [])] : null,
    ...(extra.subtree !== undefined ? { subtree: extra.subtree } : {}),
  };
}

/** `t` is the instant `sec`.`nsec` in the local zone (what timestampFromNs gives for it). */
function isLocalTime(t: Timestamp, sec: number, nsec: number): boolean {
  return t.sec === sec && t.nsec === nsec && t.offset === localOffset(sec);
}

/**
 * Whether entry `index` of a scan's native stat array (STAT_STRIDE values each) would be recorded
 * exactly as `old`, the parent snapshot's node of the same name, with old's content: the node
 * `nodeFromStat` builds from the stat (atime as mtime) is one the tree encoder writes as it wrote
 * `old` (`sameEncoding`), with the entry's extended attributes. It then stands for the entry as
 * it is: a file's size, mtime, ctime and inode are unchanged (restic's rule for reusing the
 * content; the caller still checks that its blobs are indexed), and so are a symlink's, which
 * means the same target (the archiver's rule). Extended attributes: none when the scan found
 * none; when the scan did not ask (XATTRS_NOT_ASKED), old's, as setting or removing one moves the
 * ctime, which is unchanged (so a scan of a directory with a parent need not ask every entry).
 * Never true for a directory (its subtree is the walk's to decide), for a node with fields cairn
 * does not know, or for a stat that failed.
 * Builds nothing: no stat object, no node, no bigint beyond the four compared as such.
 */
export function scannedGives(a: BigInt64Array, index: number, old: Node): boolean {
  const o = index * STAT_STRIDE;
  const xattrs = a[o + STAT_XATTRS];
  if (a[o + STAT_ERRNO] !== 0n || (xattrs !== 0n && xattrs !== XATTRS_NOT_ASKED)) return false;
  if (xattrs === 0n && (old.extendedAttributes?.length ?? 0) !== 0) return false;
  const stMode = Number(a[o + STAT_MODE]);
  const type = nodeTypeFromUnixMode(stMode) ?? 'file';
  if (type !== old.type || type === 'dir' || old.extra !== undefined || old.subtree !== undefined || (old.error ?? '') !== '') return false;
  if ((old.mode ?? 0) !== fileModeFromUnix(stMode)) return false;
  const mSec = Number(a[o + STAT_MTIME]);
  const mNsec = Number(a[o + STAT_MTIME + 1]);
  if (!isLocalTime(old.mtime, mSec, mNsec) || !isLocalTime(old.atime, mSec, mNsec) || !isLocalTime(old.ctime, Number(a[o + STAT_CTIME]), Number(a[o + STAT_CTIME + 1]))) return false;
  const uid = Number(a[o + STAT_UID]);
  const gid = Number(a[o + STAT_GID]);
  if (old.uid !== uid || old.gid !== gid || (old.user ?? '') !== (userName(uid) ?? '') || (old.group ?? '') !== (groupName(gid) ?? '')) return false;
  if ((old.inode ?? 0n) !== a[o + STAT_INO] || (old.deviceId ?? 0n) !== a[o + STAT_DEV]) return false;
  if ((old.links ?? 0) !== (recordsLinks(type) ? Number(a[o + STAT_NLINK]) : 0)) return false;
  if ((old.device ?? 0n) !== (isDevice(type) ? a[o + STAT_RDEV] : 0n)) return false;
  const size = Number(a[o + STAT_SIZE]);
  switch (type) {
    case 'file':
      return old.content !== null && (old.size ?? 0) === size && (old.linktarget?.length ?? 0) === 0;
    case 'symlink':
      return old.content === null && old.linktarget !== undefined && old.linktarget.length === size && (old.size ?? 0) === 0;
    default:
      return old.content === null && (old.size ?? 0) === 0 && (old.linktarget?.length ?? 0) === 0;
  }
}

/**
 * A SHA-256 digest of `prefix` and a native scan (its names `all`, their `ends`, the stat array
 * `a`), covering everything the entries' nodes are built from: names, and per entry device,
 * inode, mode, link count, owner ids with the names they resolve to, rdev, size, mtime, ctime,
 * the stat's errno, and the atime when it is recorded (`withAtime`). Left out: what no node
 * records (blocks, block size), the atime otherwise (reading a file moves it), and the xattr
 * column (whether it was asked differs between runs; the attributes of an entry with the same
 * inode and ctime are the same, see `scannedGives`). Equal digests mean equal nodes, except the
 * content of a file (the parent rule: same size, mtime, ctime and inode), a symlink's target (same
 * inode and ctime) and the attributes.
 */
export function scanFingerprint(prefix: Uint8Array, all: Uint8Array, ends: Float64Array, a: BigInt64Array, withAtime: boolean): Buffer {
  const rows = a.slice();
  const uids = new Set<number>();
  const gids = new Set<number>();
  for (let o = 0; o < rows.length; o += STAT_STRIDE) {
    rows[o + STAT_BLKSIZE] = 0n;
    rows[o + STAT_BLOCKS] = 0n;
    rows[o + STAT_XATTRS] = 0n;
    if (!withAtime) rows[o + STAT_ATIME] = rows[o + STAT_ATIME + 1] = 0n;
    uids.add(Number(rows[o + STAT_UID]));
    gids.add(Number(rows[o + STAT_GID]));
  }
  const h = createHash('sha256').update(prefix);
  h.update(new Uint8Array(ends.buffer, ends.byteOffset, ends.byteLength)).update(all);
  h.update(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  // The names the ids resolve to are recorded too (and /etc/passwd may change between runs).
  for (const uid of uids) h.update(`\0u${uid}=${userName(uid) ?? ''}`);
  for (const gid of gids) h.update(`\0g${gid}=${groupName(gid) ?? ''}`);
  return h.digest();
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
