/**
 * The types of restic's tree blobs, as cairn holds them in memory. Bytes stay bytes: a name or a
 * symlink target may be any byte string (not UTF-8), and 64-bit numbers (inode, device) are
 * bigints, so nothing is lost between a file system, a tree blob and a restore.
 */
import type { BlobId, TreeId } from '../model/index.js';

export type NodeType = 'file' | 'dir' | 'symlink' | 'dev' | 'chardev' | 'fifo' | 'socket';

/**
 * A point in time as Go's time.Time keeps it in restic's JSON: whole seconds since the Unix epoch
 * (UTC), nanoseconds 0..999999999, and the UTC offset (seconds east) of the zone it was written in.
 * Go's zero time (0001-01-01T00:00:00Z) is `ZERO_TIME`.
 */
export interface Timestamp {
  readonly sec: number;
  readonly nsec: number;
  readonly offset: number;
}

export interface ExtendedAttribute {
  readonly name: string;
  readonly value: Uint8Array;
}

export interface Node {
  /** The entry's name, raw bytes (never empty, never `.`/`..`, never containing `/`). */
  readonly name: Uint8Array;
  readonly type: NodeType;
  /** Go os.FileMode bits (permissions + type and setuid/setgid/sticky bits); omitted when 0. */
  readonly mode?: number;
  readonly mtime: Timestamp;
  readonly atime: Timestamp;
  readonly ctime: Timestamp;
  readonly uid: number;
  readonly gid: number;
  readonly user?: string;
  readonly group?: string;
  readonly inode?: bigint;
  readonly deviceId?: bigint;
  /** Files: content size in bytes; omitted when 0. */
  readonly size?: number;
  readonly links?: number;
  /** Symlinks: the target, raw bytes. */
  readonly linktarget?: Uint8Array;
  readonly extendedAttributes?: readonly ExtendedAttribute[];
  /** Devices: st_rdev. */
  readonly device?: bigint;
  /** Files: the data blobs in order (empty for an empty file); null for every other type. */
  readonly content: readonly BlobId[] | null;
  /** Directories: the tree blob of its entries. */
  readonly subtree?: TreeId;
  readonly error?: string;
  /**
   * JSON fields this version of cairn does not know (from newer restic), kept verbatim as raw JSON
   * text so that a tree is re-encoded without loss.
   */
  readonly extra?: Readonly<Record<string, string>>;
}

/** A directory listing: nodes sorted by name bytes, names unique. */
export interface Tree {
  readonly nodes: readonly Node[];
}
