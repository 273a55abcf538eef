/**
 * Comparing nodes field by field: `sameMetadata` for what diff reports as a metadata change
 * (restic's Node.Equals without name, type, content and subtree), `sameEncoding` for "the tree
 * encoder writes the same bytes" (the archiver keeps a parent's tree on it).
 */
import type { Node, Timestamp } from './types.js';

function sameTime(a: Timestamp, b: Timestamp, zones: boolean): boolean {
  // Go's time.Equal ignores the zone; the encoded text does not.
  return a.sec === b.sec && a.nsec === b.nsec && (!zones || a.offset === b.offset);
}

/** Equal bytes; a missing array counts as empty. */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const n = a?.length ?? 0;
  if (n !== (b?.length ?? 0)) return false;
  for (let i = 0; i < n; i++) if (a![i] !== b![i]) return false;
  return true;
}

/**
 * Whether two entries' metadata is the same: everything restic's Node.Equals compares except the
 * name, the type, the content and the subtree (those are what diff's `+`, `-`, `T` and `M`
 * report, and a directory's subtree changes whenever anything below it does). Times compare as
 * instants, unless `zones` (then their UTC offsets must match too).
 */
export function sameMetadata(a: Node, b: Node, zones = false): boolean {
  if ((a.mode ?? 0) !== (b.mode ?? 0)) return false;
  if (!sameTime(a.mtime, b.mtime, zones) || !sameTime(a.atime, b.atime, zones) || !sameTime(a.ctime, b.ctime, zones)) return false;
  if (a.uid !== b.uid || a.gid !== b.gid || (a.user ?? '') !== (b.user ?? '') || (a.group ?? '') !== (b.group ?? '')) return false;
  if ((a.inode ?? 0n) !== (b.inode ?? 0n) || (a.deviceId ?? 0n) !== (b.deviceId ?? 0n) || (a.device ?? 0n) !== (b.device ?? 0n)) return false;
  if ((a.size ?? 0) !== (b.size ?? 0) || (a.links ?? 0) !== (b.links ?? 0)) return false;
  if (!sameBytes(a.linktarget, b.linktarget) || (a.error ?? '') !== (b.error ?? '')) return false;
  const xa = a.extendedAttributes ?? [];
  const xb = b.extendedAttributes ?? [];
  if (xa.length !== xb.length) return false;
  return xa.every((x, i) => x.name === xb[i]!.name && sameBytes(x.value, xb[i]!.value));
}

/**
 * Whether the tree encoder writes the same bytes for `a` and `b` (a valid node each): every field
 * it writes is equal, a time's zone offset included. False whenever either keeps JSON fields cairn
 * does not know (`extra`): they are not compared, so such a node is never taken for another.
 * Cheaper than encoding both.
 */
export function sameEncoding(a: Node, b: Node): boolean {
  if (a.type !== b.type || a.extra !== undefined || b.extra !== undefined || a.subtree !== b.subtree) return false;
  if (!sameBytes(a.name, b.name) || !sameMetadata(a, b, true)) return false;
  const ca = a.content;
  const cb = b.content;
  if (ca === null || cb === null) return ca === cb;
  return ca.length === cb.length && ca.every((id, i) => id === cb[i]);
}
