/**
 * Taking a snapshot: walk the given paths, store every file's chunks as data blobs and every
 * directory as a tree blob, bottom-up, then the snapshot. The root tree mirrors the absolute paths
 * as restic's does: backing up /home/ann/src gives a root with `home`, then `ann`, then `src`, the
 * intermediate directories carrying their real metadata.
 *
 * This version stores regular files and directories with content, mode and times; other entries
 * (symlinks, devices, FIFOs, sockets) are skipped with a warning. A file that cannot be read is a
 * warning too: the snapshot is still saved (and the CLI exits 3).
 */
import { open as openFile, lstat, readdir } from 'node:fs/promises';
import { posix, resolve as resolvePath } from 'node:path';
import { CairnError, messageOf } from '../errors.js';
import { chunkFile, type Chunker } from '../chunker/index.js';
import { displayPath, joinPath, nodeFromStat } from '../fs/index.js';
import { hashId, type BlobId, type BlobType, type SnapshotId, type TreeId } from '../model/index.js';
import type { Snapshot } from '../snapshot/index.js';
import { compareNames, encodeTree, nowTime, type Node } from '../tree/index.js';

/** What the archiver needs from a repository. */
export interface ArchiverRepository {
  createChunker(): Chunker;
  saveBlob(type: BlobType, id: BlobId, plain: Uint8Array): Promise<{ added: boolean; storedSize: number }>;
  flush(): Promise<void>;
  saveSnapshot(s: Snapshot): Promise<SnapshotId>;
}

export interface ArchiverWarning {
  readonly code: 'ERR_FILE_READ' | 'SKIPPED';
  readonly path: string;
  readonly message: string;
}

export interface SnapshotOptions {
  /** Files and directories to back up; relative paths resolve against `cwd`. */
  readonly paths: readonly string[];
  /** @default process.cwd() */
  readonly cwd?: string;
  readonly tags?: readonly string[];
  /** @default os.hostname() */
  readonly hostname?: string;
  readonly username?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Snapshot time. @default now */
  readonly time?: Snapshot['time'];
  readonly signal?: AbortSignal;
  readonly onWarning?: (w: ArchiverWarning) => void;
}

/** restic's `backup --json` summary, plus the full snapshot ID. */
export interface SnapshotSummary {
  readonly files_new: number;
  readonly files_changed: number;
  readonly files_unmodified: number;
  readonly dirs_new: number;
  readonly dirs_changed: number;
  readonly dirs_unmodified: number;
  readonly data_blobs: number;
  readonly tree_blobs: number;
  readonly data_added: number;
  readonly total_files_processed: number;
  readonly total_bytes_processed: number;
  readonly total_duration: number;
  readonly snapshot_id: SnapshotId;
  /** Entries that could not be read or were skipped. */
  readonly errors: number;
}

/** A directory on the way to a backed-up path (or the path itself, when `target`). */
interface VirtualDir {
  path: Buffer;
  readonly children: Map<string, VirtualDir>;
  target: boolean;
}

export async function takeSnapshot(repo: ArchiverRepository, options: SnapshotOptions): Promise<SnapshotSummary> {
  const started = performance.now();
  if (options.paths.length === 0) throw new CairnError('ERR_USAGE', 'nothing to back up: give at least one path');
  const cwd = options.cwd ?? process.cwd();
  const paths = [...new Set(options.paths.map((p) => resolvePath(cwd, p)))].sort();
  const counts = { files_new: 0, dirs_new: 0, data_blobs: 0, tree_blobs: 0, data_added: 0, total_files_processed: 0, total_bytes_processed: 0, errors: 0 };
  const warn = (code: ArchiverWarning['code'], path: Uint8Array | string, message: string): void => {
    counts.errors++;
    options.onWarning?.({ code, path: displayPath(path), message });
  };
  for (const p of paths) {
    try {
      await lstat(p);
    } catch (e) {
      throw new CairnError('ERR_FILE_READ', `cannot back up ${p}: ${messageOf(e)}`, { cause: e, data: { path: p } });
    }
  }

  // The tree of directories leading to the targets, named as restic names them: an absolute path
  // by all its components, a relative one by its components after normalization, without leading
  // `..` (`.` puts the directory's entries at the root). A target inside another is covered by it.
  const root: VirtualDir = { path: Buffer.from(resolvePath(cwd)), children: new Map(), target: false };
  for (const given of options.paths) {
    const clean = posix.normalize(given);
    const parts = clean.split('/').filter((s) => s.length > 0 && s !== '.');
    const ups = posix.isAbsolute(clean) ? 0 : parts.findIndex((s) => s !== '..') === -1 ? parts.length : parts.findIndex((s) => s !== '..');
    const names = parts.slice(ups);
    const base = posix.isAbsolute(clean) ? '/' : resolvePath(cwd, ...parts.slice(0, ups));
    if (names.length === 0) {
      root.target = true;
      root.path = Buffer.from(base);
      continue;
    }
    let dir = root;
    for (let i = 0; i < names.length && !dir.target; i++) {
      const part = names[i]!;
      let child = dir.children.get(part);
      if (child === undefined) {
        child = { path: Buffer.from(resolvePath(base, ...names.slice(0, i + 1))), children: new Map(), target: false };
        dir.children.set(part, child);
      }
      dir = child;
    }
    dir.target = true;
  }
  if (root.target && root.children.size > 0) {
    throw new CairnError('ERR_USAGE', 'a path that puts its entries at the snapshot root (such as "." or "/") cannot be combined with other paths; back them up in separate snapshots');
  }

  const chunker = repo.createChunker();
  const checkAbort = (): void => {
    if (options.signal?.aborted) throw new CairnError('ERR_INTERRUPTED', 'the snapshot was interrupted; nothing was saved as a snapshot (stored blobs are reused next time)');
  };

  const saveTree = async (nodes: Node[]): Promise<TreeId> => {
    nodes.sort((a, b) => compareNames(a.name, b.name));
    const bytes = encodeTree({ nodes });
    const id = hashId(bytes);
    if ((await repo.saveBlob('tree', id, bytes)).added) counts.tree_blobs++;
    return id;
  };

  /** The node for `path` (a real entry), or undefined when it is skipped. */
  const archive = async (path: Buffer, name: Uint8Array): Promise<Node | undefined> => {
    checkAbort();
    let st;
    try {
      st = await lstat(path, { bigint: true });
    } catch (e) {
      warn('ERR_FILE_READ', path, `cannot stat: ${messageOf(e)}`);
      return undefined;
    }
    if (st.isDirectory()) {
      const subtree = await archiveDir(path);
      if (subtree === undefined) return undefined;
      counts.dirs_new++;
      return nodeFromStat(name, st, { subtree });
    }
    if (st.isFile()) {
      const content = await archiveFile(path, Number(st.size));
      if (content === undefined) return undefined;
      counts.files_new++;
      counts.total_files_processed++;
      return nodeFromStat(name, st, { content: content.ids, size: content.size });
    }
    const kind = st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'FIFO' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character device' : st.isBlockDevice() ? 'block device' : 'special file';
    warn('SKIPPED', path, `skipped: ${kind}s are not backed up by this version of cairn`);
    return undefined;
  };

  const archiveDir = async (path: Buffer): Promise<TreeId | undefined> => {
    let names: Buffer[];
    try {
      names = await readdir(path, { encoding: 'buffer' });
    } catch (e) {
      warn('ERR_FILE_READ', path, `cannot list directory: ${messageOf(e)}`);
      return undefined;
    }
    names.sort(compareNames);
    const nodes: Node[] = [];
    for (const n of names) {
      const node = await archive(joinPath(path, n), n);
      if (node !== undefined) nodes.push(node);
    }
    return saveTree(nodes);
  };

  const archiveFile = async (path: Buffer, expected: number): Promise<{ ids: BlobId[]; size: number } | undefined> => {
    let fh;
    try {
      fh = await openFile(path, 'r');
    } catch (e) {
      warn('ERR_FILE_READ', path, `cannot open: ${messageOf(e)}`);
      return undefined;
    }
    try {
      const ids: BlobId[] = [];
      let size = 0;
      for await (const c of chunkFile(chunker, fh.fd, { size: expected, name: displayPath(path) })) {
        checkAbort();
        const id = hashId(c.data);
        const r = await repo.saveBlob('data', id, c.data);
        if (r.added) {
          counts.data_blobs++;
          counts.data_added += r.storedSize;
        }
        ids.push(id);
        size += c.length;
      }
      counts.total_bytes_processed += size;
      return { ids, size };
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_INTERRUPTED') throw e;
      warn('ERR_FILE_READ', path, `cannot read: ${messageOf(e)}`);
      return undefined;
    } finally {
      await fh.close();
    }
  };

  /** The tree of a virtual directory: its children, each virtual or a real target. */
  const archiveVirtual = async (dir: VirtualDir): Promise<TreeId> => {
    if (dir.target) {
      const id = await archiveDir(dir.path);
      if (id === undefined) throw new CairnError('ERR_FILE_READ', `cannot back up ${displayPath(dir.path)}: it cannot be listed`);
      return id;
    }
    const nodes: Node[] = [];
    for (const [part, child] of [...dir.children].sort((a, b) => compareNames(Buffer.from(a[0]), Buffer.from(b[0])))) {
      const name = Buffer.from(part);
      if (child.target) {
        const node = await archive(child.path, name);
        if (node !== undefined) nodes.push(node);
        continue;
      }
      const st = await lstat(child.path, { bigint: true });
      nodes.push(nodeFromStat(name, st, { subtree: await archiveVirtual(child) }));
    }
    return saveTree(nodes);
  };

  const tree = await archiveVirtual(root);
  checkAbort();
  await repo.flush();
  const snapshot: Snapshot = {
    time: options.time ?? nowTime(),
    tree,
    paths,
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
    ...(options.tags !== undefined && options.tags.length > 0 ? { tags: [...options.tags] } : {}),
  };
  const id = await repo.saveSnapshot(snapshot);
  return {
    files_new: counts.files_new,
    files_changed: 0,
    files_unmodified: 0,
    dirs_new: counts.dirs_new,
    dirs_changed: 0,
    dirs_unmodified: 0,
    data_blobs: counts.data_blobs,
    tree_blobs: counts.tree_blobs,
    data_added: counts.data_added,
    total_files_processed: counts.total_files_processed,
    total_bytes_processed: counts.total_bytes_processed,
    total_duration: (performance.now() - started) / 1000,
    snapshot_id: id,
    errors: counts.errors,
  };
}
