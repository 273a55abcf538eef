/**
 * restic stores a node's `mode` as Go's os.FileMode, not as the Unix st_mode: the permission bits
 * (0o777) stay where they are, and the file type, setuid, setgid and sticky bits move to Go's own
 * positions in the high bits. This file converts between the two the way Go's os.Lstat on Linux
 * and os.Chmod do, and names the node type a mode stands for (restic's nodeTypeFromFileInfo).
 */
import type { NodeType } from './types.js';

/** Go os.FileMode bits (unsigned 32-bit values). */
export const GO_MODE_DIR = 0x80000000; // 1 << 31
export const GO_MODE_SYMLINK = 1 << 27;
export const GO_MODE_DEVICE = 1 << 26;
export const GO_MODE_NAMED_PIPE = 1 << 25;
export const GO_MODE_SOCKET = 1 << 24;
export const GO_MODE_SETUID = 1 << 23;
export const GO_MODE_SETGID = 1 << 22;
export const GO_MODE_CHAR_DEVICE = 1 << 21;
export const GO_MODE_STICKY = 1 << 20;
export const GO_MODE_IRREGULAR = 1 << 19;
/** All type bits (Go's ModeType): dir, symlink, named pipe, socket, device, char device, irregular. */
export const GO_MODE_TYPE =
  GO_MODE_DIR + GO_MODE_SYMLINK + GO_MODE_NAMED_PIPE + GO_MODE_SOCKET + GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE + GO_MODE_IRREGULAR;
/** Permission bits (Go's ModePerm). */
export const GO_MODE_PERM = 0o777;

/** Unix st_mode file type bits (S_IFMT) and values, as on Linux. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;

/**
 * Go's os.FileMode for a Unix st_mode, restricted to the bits restic keeps (permissions, type,
 * setuid, setgid, sticky). An unknown S_IFMT value gets no type bit, as in Go 1.19 on Linux.
 */
export function fileModeFromUnix(stMode: number): number {
  let m = stMode & GO_MODE_PERM;
  switch (stMode & S_IFMT) {
    case S_IFBLK:
      m += GO_MODE_DEVICE;
      break;
    case S_IFCHR:
      m += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE;
      break;
    case S_IFDIR:
      m += GO_MODE_DIR;
      break;
    case S_IFIFO:
      m += GO_MODE_NAMED_PIPE;
      break;
    case S_IFLNK:
      m += GO_MODE_SYMLINK;
      break;
    case S_IFSOCK:
      m += GO_MODE_SOCKET;
      break;
  }
  if (stMode & S_ISGID) m += GO_MODE_SETGID;
  if (stMode & S_ISUID) m += GO_MODE_SETUID;
  if (stMode & S_ISVTX) m += GO_MODE_STICKY;
  return m;
}

function has(mode: number, bit: number): boolean {
  // Bit 31 does not survive JS's signed 32-bit `&`; test it arithmetically.
  return bit === GO_MODE_DIR ? mode >= GO_MODE_DIR && mode - GO_MODE_DIR < GO_MODE_DIR : (mode & bit) !== 0;
}

/**
 * The Unix st_mode for a Go os.FileMode: permissions, setuid/setgid/sticky, and S_IFMT from the
 * type bits (device without char device is a block device; no type bit is a regular file).
 * `unixModeFromFileMode(m) & 0o7777` is what restic's restore passes to chmod.
 */
export function unixModeFromFileMode(mode: number): number {
  let m = mode & GO_MODE_PERM;
  if (has(mode, GO_MODE_SETUID)) m |= S_ISUID;
  if (has(mode, GO_MODE_SETGID)) m |= S_ISGID;
  if (has(mode, GO_MODE_STICKY)) m |= S_ISVTX;
  if (has(mode, GO_MODE_DIR)) m |= S_IFDIR;
  else if (has(mode, GO_MODE_SYMLINK)) m |= S_IFLNK;
  else if (has(mode, GO_MODE_DEVICE)) m |= has(mode, GO_MODE_CHAR_DEVICE) ? S_IFCHR : S_IFBLK;
  else if (has(mode, GO_MODE_NAMED_PIPE)) m |= S_IFIFO;
  else if (has(mode, GO_MODE_SOCKET)) m |= S_IFSOCK;
  else m |= S_IFREG;
  return m;
}

/**
 * The node type restic derives from a Go os.FileMode (nodeTypeFromFileInfo): exactly one type
 * bit (char device together with device), or none for a regular file. Returns undefined for
 * combinations restic has no type for (irregular files, several type bits).
 */
export function nodeTypeFromMode(mode: number): NodeType | undefined {
  const dir = has(mode, GO_MODE_DIR);
  const rest = (mode >>> 0) & (GO_MODE_TYPE - GO_MODE_DIR);
  if (dir) return rest === 0 ? 'dir' : undefined;
  switch (rest) {
    case 0:
      return 'file';
    case GO_MODE_SYMLINK:
      return 'symlink';
    case GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE:
      return 'chardev';
    case GO_MODE_DEVICE:
      return 'dev';
    case GO_MODE_NAMED_PIPE:
      return 'fifo';
    case GO_MODE_SOCKET:
      return 'socket';
    default:
      return undefined;
  }
}

/** The node type of a Unix st_mode (via fileModeFromUnix). */
export function nodeTypeFromUnixMode(stMode: number): NodeType | undefined {
  return nodeTypeFromMode(fileModeFromUnix(stMode));
}
