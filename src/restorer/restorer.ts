/**
 * Restoring: recreate a snapshot's tree under a target directory — directories first (created
 * writable), then file contents (several files at once, each blob verified against its ID before
 * a byte is written), then metadata, directories last and deepest first so that setting a
 * directory's times is not undone by writing into it.
 *
 * Never a wrong byte: a file whose blob cannot be loaded or verified is removed, reported with the
 * pack and blob at fault, and the restore goes on with the other files.
 */
import { chmod, chown, lchown, mkdir, open as openFile, rm, utimes } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { CairnError, messageOf } from '../errors.js';
import { displayPath, joinPath, timestampToSeconds, unixPermissions } from '../fs/index.js';
import type { BlobId, BlobType, TreeId } from '../model/index.js';
import { decodeTree, invalidNameReason, type Node } from '../tree/index.js';
import { mapConcurrent } from '../util/index.js';

/** What the restorer needs from a repository. */
export interface RestorerRepository {
  loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array>;
}

export interface RestoreWarning {
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

export interface RestoreOptions {
  /** Directory to restore into (created if missing). */
  readonly target: string;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** Files restored at once. @default 4 */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onWarning?: (w: RestoreWarning) => void;
}

export interface RestoreSummary {
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  /** Entries that failed (nothing wrong was written for them). */
  readonly errors: number;
  /** Entries of kinds this version does not restore. */
  readonly skipped: number;
  readonly duration: number;
}

/** Loads and decodes a tree blob. */
export async function loadTree(repo: RestorerRepository, id: TreeId): Promise<readonly Node[]> {
  return (await decodeTree(await repo.loadBlob('tree', id), `tree ${id}`)).nodes;
}

/**
 * Finds `path` ("/home/ann" or "home/ann") in the tree rooted at `root`: the node, or undefined
 * for the root itself. Throws ERR_PATH_NOT_FOUND naming the first missing component.
 */
export async function findNode(repo: RestorerRepository, root: TreeId, path: string): Promise<Node | undefined> {
  const parts = path.split('/').filter((p) => p.length > 0 && p !== '.');
  let tree: TreeId = root;
  let node: Node | undefined;
  for (let i = 0; i < parts.length; i++) {
    const want = Buffer.from(parts[i]!);
    node = (await loadTree(repo, tree)).find((n) => want.equals(n.name));
    if (node === undefined) throw new CairnError('ERR_PATH_NOT_FOUND', `/${parts.slice(0, i + 1).join('/')} is not in the snapshot`, { data: { path } });
    if (i < parts.length - 1) {
      if (node.type !== 'dir' || node.subtree === undefined) throw new CairnError('ERR_PATH_NOT_FOUND', `/${parts.slice(0, i + 1).join('/')} is not a directory in the snapshot`, { data: { path } });
      tree = node.subtree;
    }
  }
  return node;
}

interface FileJob {
  readonly path: Buffer;
  readonly node: Node;
}

interface DirJob {
  readonly path: Buffer;
  readonly node: Node;
  readonly depth: number;
}

/**
 * Restores `entry` into `options.target`: the whole tree `root` when `entry` is undefined (the
 * snapshot's absolute paths reappear under the target), a directory's contents when `entry` is a
 * directory node, or a single file as `target/name`.
 */
export async function restore(repo: RestorerRepository, root: TreeId, entry: Node | undefined, options: RestoreOptions): Promise<RestoreSummary> {
  const started = performance.now();
  const target = Buffer.from(resolvePath(options.cwd ?? process.cwd(), options.target));
  const counts = { files: 0, dirs: 0, bytes: 0, errors: 0, skipped: 0 };
  const warn = (code: string, path: Uint8Array, message: string): void => {
    options.onWarning?.({ code, path: displayPath(path), message });
  };
  const checkAbort = (): void => {
    if (options.signal?.aborted) throw new CairnError('ERR_INTERRUPTED', 'the restore was interrupted; files restored so far are complete, the rest are missing');
  };
  const files: FileJob[] = [];
  const dirs: DirJob[] = [];

  try {
    await mkdir(target, { recursive: true });
  } catch (e) {
    throw new CairnError('ERR_FILE_WRITE', `cannot create the target directory ${displayPath(target)}: ${messageOf(e)}`, { cause: e });
  }

  // Pass 1: directories (created writable for now) and the list of files.
  const plan = async (tree: TreeId, dir: Buffer, depth: number): Promise<void> => {
    for (const node of await loadTree(repo, tree)) {
      checkAbort();
      const bad = invalidNameReason(node.name);
      if (bad !== undefined) throw new CairnError('ERR_CORRUPT', `tree ${tree} has an entry named ${JSON.stringify(displayPath(node.name))}, which cannot be restored safely: ${bad}`);
      const path = joinPath(dir, node.name);
      await planNode(node, path, depth);
    }
  };
  const planNode = async (node: Node, path: Buffer, depth: number): Promise<void> => {
    if (node.type === 'dir') {
      if (node.subtree === undefined) throw new CairnError('ERR_CORRUPT', `directory ${displayPath(path)} has no subtree in the snapshot`);
      try {
        await mkdir(path, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          counts.errors++;
          warn('ERR_FILE_WRITE', path, `cannot create directory: ${messageOf(e)}`);
          return;
        }
      }
      dirs.push({ path, node, depth });
      await plan(node.subtree, path, depth + 1);
    } else if (node.type === 'file') {
      files.push({ path, node });
    } else {
      counts.skipped++;
      warn('SKIPPED', path, `skipped: ${node.type} entries are not restored by this version of cairn`);
    }
  };

  if (entry === undefined) await plan(root, target, 0);
  else if (entry.type === 'dir' && entry.subtree !== undefined) await plan(entry.subtree, target, 0);
  else await planNode(entry, joinPath(target, entry.name), 0);

  // Pass 2: file contents, then their metadata.
  await mapConcurrent(files, options.concurrency ?? 4, async ({ path, node }) => {
    checkAbort();
    try {
      await restoreFile(repo, path, node);
      counts.files++;
      counts.bytes += node.size ?? 0;
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_INTERRUPTED') throw e;
      counts.errors++;
      await rm(path, { force: true }).catch(() => undefined);
      warn(e instanceof CairnError ? e.code : 'ERR_FILE_WRITE', path, `not restored: ${messageOf(e)}`);
    }
  });

  // Pass 3: directory metadata, deepest first.
  dirs.sort((a, b) => b.depth - a.depth);
  for (const d of dirs) {
    try {
      await applyMetadata(d.path, d.node);
      counts.dirs++;
    } catch (e) {
      counts.errors++;
      warn('ERR_FILE_WRITE', d.path, `cannot set metadata: ${messageOf(e)}`);
    }
  }
  return { ...counts, duration: (performance.now() - started) / 1000 };
}

async function restoreFile(repo: RestorerRepository, path: Buffer, node: Node): Promise<void> {
  const fh = await openFile(path, 'w', 0o600);
  try {
    let offset = 0;
    for (const id of node.content ?? []) {
      const data = await repo.loadBlob('data', id);
      await fh.write(data, 0, data.length, offset);
      offset += data.length;
    }
    if (node.size !== undefined && offset !== node.size) {
      throw new CairnError('ERR_CORRUPT', `the snapshot says the file has ${node.size} bytes, its blobs hold ${offset}`, { data: { size: node.size, content: offset } });
    }
  } finally {
    await fh.close();
  }
  await applyMetadata(path, node);
}

/** Ownership (as root), permissions, then times — the order restic uses. */
async function applyMetadata(path: Buffer, node: Node): Promise<void> {
  if (process.getuid?.() === 0) await (node.type === 'symlink' ? lchown : chown)(path, node.uid, node.gid);
  if (node.mode !== undefined) await chmod(path, unixPermissions(node.mode));
  await utimes(path, timestampToSeconds(node.atime), timestampToSeconds(node.mtime));
}
