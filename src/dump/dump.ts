/**
 * A snapshot subtree as a tar stream, entry for entry what restic 0.14's `dump` writes:
 *
 * - The entries are the nodes below the dumped directory, depth first in name order, named by
 *   their path from the snapshot root without the leading `/` (a directory's name ends in `/`);
 *   the dumped directory itself has no entry.
 * - Directories, regular files and symlinks only; devices, FIFOs and sockets are left out.
 *   (restic 0.14 leaves them out too, except directly in the dumped directory, where it writes them
 *   as empty regular files; cairn leaves them out there as well.)
 * - Header: the permission bits with setuid/setgid/sticky, uid/gid, user/group names, the size,
 *   the mtime rounded to the nearest second; atime and ctime are not written (Go's tar writer drops
 *   them when no format is chosen, and restic chooses none). Extended attributes become PAX
 *   records `SCHILY.xattr.NAME`; POSIX ACLs (`system.posix_acl_access`/`_default`) become
 *   `SCHILY.acl.access`/`SCHILY.acl.default` in their text form, as restic does.
 * - Hard links are not detected: each link's content is written in full (restic does the same).
 * - Content is streamed blob by blob as it is loaded (the consumer's pace sets the pace), and a
 *   file whose blobs do not add up to its recorded size is ERR_CORRUPT.
 *
 * A failure (a tree or blob that cannot be loaded) keeps its code; its message names the path
 * and says the archive is incomplete, since part of it was already yielded.
 */
import { CairnError } from '../errors.js';
import type { BlobId, BlobType, TreeId } from '../model/index.js';
import { compareNames, decodeTree, GO_MODE_PERM, GO_MODE_SETGID, GO_MODE_SETUID, GO_MODE_STICKY, ZERO_TIME, type ExtendedAttribute, type Node, type Timestamp } from '../tree/index.js';
import { encodeTarHeader, tarPadding, tarTrailer, TYPE_DIR, TYPE_REG, TYPE_SYMLINK } from './tar.js';

/** What dumping needs from a repository. */
export interface DumpRepository {
  loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const SLASH = new Uint8Array([0x2f]);

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + 1 + b.length);
  out.set(a, 0);
  out.set(SLASH, a.length);
  out.set(b, a.length + 1);
  return out;
}

/** The nodes of a tree blob, in name order. */
export async function loadDumpTree(repo: DumpRepository, id: TreeId): Promise<readonly Node[]> {
  const nodes = decodeTree(await repo.loadBlob('tree', id), `tree ${id}`, { allowUnsorted: true }).nodes;
  return [...nodes].sort((a, b) => compareNames(a.name, b.name));
}

/** Go's time.Round(time.Second) as Unix seconds; Go's zero time is 0 (Go writes the epoch for it). */
export function tarSeconds(t: Timestamp): number {
  if (t.sec === ZERO_TIME.sec && t.nsec === 0) return 0;
  return t.nsec >= 500_000_000 ? t.sec + 1 : t.sec;
}

/** restic's text form of a POSIX ACL xattr (one `tag:id:rwx` line each), or '' when unreadable. */
export function aclText(value: Uint8Array): string {
  if (value.length < 4) return '';
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let out = '';
  for (let off = 4; off + 8 <= value.length; off += 8) {
    const tag = view.getUint16(off, true);
    const perm = view.getUint16(off + 2, true);
    const id = view.getUint32(off + 4, true);
    const who = tag === 0x01 ? 'user::' : tag === 0x02 ? `user:${id}:` : tag === 0x04 ? 'group::' : tag === 0x08 ? `group:${id}:` : tag === 0x10 ? 'mask::' : tag === 0x20 ? 'other::' : '?:';
    out += `${who}${perm & 4 ? 'r' : '-'}${perm & 2 ? 'w' : '-'}${perm & 1 ? 'x' : '-'}\n`;
  }
  return out;
}

/** A node's extended attributes as PAX records, as restic 0.14's parseXattrs maps them. */
export function xattrRecords(attrs: readonly ExtendedAttribute[] | undefined): Map<string, Uint8Array> {
  const records = new Map<string, Uint8Array>();
  for (const a of attrs ?? []) {
    if (a.name.startsWith('system.posix_acl_')) {
      const text = aclText(a.value);
      if (text === '') continue;
      if (a.name.includes('system.posix_acl_access')) records.set('SCHILY.acl.access', enc.encode(text));
      else if (a.name.includes('system.posix_acl_default')) records.set('SCHILY.acl.default', enc.encode(text));
    } else {
      records.set(`SCHILY.xattr.${a.name}`, a.value);
    }
  }
  return records;
}

/** The tar header of a node at `path` (relative, no leading `/`). */
export function tarHeaderFor(node: Node, path: Uint8Array): Uint8Array {
  const goMode = node.mode ?? 0;
  let mode = goMode & GO_MODE_PERM;
  if (goMode & GO_MODE_SETUID) mode |= 0o4000;
  if (goMode & GO_MODE_SETGID) mode |= 0o2000;
  if (goMode & GO_MODE_STICKY) mode |= 0o1000;
  const dir = node.type === 'dir';
  const name = dir ? join(path, new Uint8Array(0)) : path;
  return encodeTarHeader({
    name,
    typeflag: dir ? TYPE_DIR : node.type === 'symlink' ? TYPE_SYMLINK : TYPE_REG,
    mode,
    uid: node.uid,
    gid: node.gid,
    size: node.type === 'file' ? (node.size ?? 0) : 0,
    mtime: tarSeconds(node.mtime),
    ...(node.type === 'symlink' && node.linktarget !== undefined ? { linkname: node.linktarget } : {}),
    ...(node.user !== undefined ? { uname: enc.encode(node.user) } : {}),
    ...(node.group !== undefined ? { gname: enc.encode(node.group) } : {}),
    pax: xattrRecords(node.extendedAttributes),
  });
}

function incomplete(e: unknown, path: Uint8Array, what: string): unknown {
  if (!(e instanceof CairnError)) return e;
  const shown = `/${dec.decode(path)}`;
  return new CairnError(e.code, `${shown}: ${what}: ${e.message}; the tar archive written so far is incomplete`, { data: { ...e.data, path: shown }, cause: e, retryable: e.retryable });
}

/**
 * The tar archive of `nodes` (a directory's entries) whose paths start with `prefix` (relative,
 * no leading `/`; empty for the snapshot root), ending with the two zero blocks.
 */
export async function* dumpTar(repo: DumpRepository, nodes: readonly Node[], prefix: Uint8Array): AsyncGenerator<Uint8Array> {
  yield* dumpNodes(repo, nodes, prefix);
  yield tarTrailer();
}

async function* dumpNodes(repo: DumpRepository, nodes: readonly Node[], prefix: Uint8Array): AsyncGenerator<Uint8Array> {
  for (const node of nodes) {
    if (node.type !== 'file' && node.type !== 'dir' && node.type !== 'symlink') continue;
    const path = join(prefix, node.name);
    yield tarHeaderFor(node, path);
    if (node.type === 'file') {
      yield* fileContent(repo, node, path);
    } else if (node.type === 'dir') {
      if (node.subtree === undefined) throw new CairnError('ERR_CORRUPT', `/${dec.decode(path)}: directory without a subtree; the tar archive written so far is incomplete`, { data: { path: `/${dec.decode(path)}` } });
      let children: readonly Node[];
      try {
        children = await loadDumpTree(repo, node.subtree);
      } catch (e) {
        throw incomplete(e, path, `tree ${node.subtree} cannot be loaded`);
      }
      yield* dumpNodes(repo, children, path);
    }
  }
}

async function* fileContent(repo: DumpRepository, node: Node, path: Uint8Array): AsyncGenerator<Uint8Array> {
  const size = node.size ?? 0;
  let written = 0;
  for (const id of node.content ?? []) {
    let data: Uint8Array;
    try {
      data = await repo.loadBlob('data', id);
    } catch (e) {
      throw incomplete(e, path, `blob ${id} cannot be loaded`);
    }
    written += data.length;
    if (written > size) break;
    yield data;
  }
  if (written !== size) {
    const shown = `/${dec.decode(path)}`;
    throw new CairnError('ERR_CORRUPT', `${shown}: its blobs hold ${written > size ? 'more than' : written} bytes, its size is ${size}; the tar archive written so far is incomplete`, { data: { path: shown, size } });
  }
  yield tarPadding(size);
}
