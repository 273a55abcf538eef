/**
 * Trees: restic's directory listings (tree blobs) and the Go encoding rules they depend on.
 *
 * `encodeTree` writes exactly the bytes restic writes for the same nodes, so cairn and restic get
 * the same tree IDs and deduplicate each other's trees; `decodeTree` reads any tree restic
 * writes. Invariants: a tree's nodes are sorted by raw name bytes and unique; names are raw bytes
 * (never empty, `.`, `..`, or containing `/`), symlink targets are raw bytes and survive a round
 * trip even when they are not UTF-8 (via `linktarget_raw`); inode, device_id and device are exact
 * 64-bit bigints; fields of newer restic versions are kept as raw JSON in `extra` and written
 * back; decoding fails only with ERR_CORRUPT, encoding an invalid tree only with ERR_INTERNAL.
 * Pure code, no I/O (the clock helpers read the clock and the local time zone). The Go helpers
 * (strconv.Quote/Unquote, RFC 3339 times, os.FileMode, JSON strings, the exact JSON reader and
 * byte writer) are exported for the snapshot codec, the file system walker and the CLI.
 */
export type { Node, NodeType, Tree, Timestamp, ExtendedAttribute } from './types.js';
export { encodeTree, decodeTree, visitTree, sortNodes, compareNames, invalidNameReason, type DecodeTreeOptions, type TreeVisitor } from './codec.js';
export {
  fileModeFromUnix,
  unixModeFromFileMode,
  nodeTypeFromMode,
  nodeTypeFromUnixMode,
  GO_MODE_DIR,
  GO_MODE_SYMLINK,
  GO_MODE_DEVICE,
  GO_MODE_NAMED_PIPE,
  GO_MODE_SOCKET,
  GO_MODE_SETUID,
  GO_MODE_SETGID,
  GO_MODE_CHAR_DEVICE,
  GO_MODE_STICKY,
  GO_MODE_IRREGULAR,
  GO_MODE_TYPE,
  GO_MODE_PERM,
} from './mode.js';
export { ZERO_TIME, formatTime, parseTime, tryParseTime, fixTime, compareTime, checkTimestamp, yearOf, localOffset, timestampFromNs, nowTime } from './go-time.js';
export { sameMetadata, sameEncoding } from './compare.js';
