/**
 * Restoring: recreate a snapshot's tree under a target directory, as restic restores it.
 *
 * Order: (1) walk the tree, creating directories (writable for now) and planning every other
 * entry; (2) file contents, several files at once, each blob verified against its ID before a
 * byte is written; (3) hard links to files restored in (2), then symlinks, FIFOs and devices;
 * (4) metadata of directories, deepest first, so that setting a directory's mode or times is not
 * undone or blocked by writing into it. Metadata order per entry is restic's: owner (as root),
 * permissions (not on symlinks), times (to the nanosecond with the native module), extended
 * attributes. Sockets are recorded in snapshots but not restored (restic does the same).
 *
 * Safety: a node whose name could escape its directory (empty, `.`, `..`, containing `/` or NUL)
 * or repeats a name is refused with a message and the rest goes on; every directory on the way
 * is checked to be a real directory (never a symlink that would redirect writes), files are opened
 * without following symlinks. A file whose blob cannot be loaded or verified is removed and
 * reported; nothing wrong is ever written.
 *
 * Existing entries follow `overwrite`: `always` compares an existing file with the snapshot blob
 * by blob and rewrites only what differs (so re-running an interrupted restore rewrites nothing
 * that is already right); `if-changed` trusts an equal size and mtime without reading; `if-newer`
 * replaces only when the snapshot's mtime is later; `never` keeps what is there.
 */
import { constants as FS, type BigIntStats } from 'node:fs';
import { chmod, chown, lchown, link, lstat, mkdir, open as openFile, readdir, rm, symlink, utimes, lutimes } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { CairnError, messageOf } from '../errors.js';
import { displayPath, joinPath, makeNode, setTimes, timestampToSeconds, unixModeOf, unixPermissions, writeXattrs } from '../fs/index.js';
import { hashId, type BlobId, type BlobType, type TreeId } from '../model/index.js';
import { decodeTree, invalidNameReason, type Node, type Timestamp } from '../tree/index.js';
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

export type OverwriteMode = 'always' | 'if-changed' | 'if-newer' | 'never';

/** What a restore did (or, with dryRun, would do) to one path. */
export interface RestoreAction {
  readonly action: 'restore' | 'update' | 'unchanged' | 'skip' | 'delete' | 'metadata';
  readonly path: string;
  readonly type: Node['type'] | 'other';
}

export interface RestoreOptions {
  /** Directory to restore into (created if missing). */
  readonly target: string;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** Files restored at once. @default 4 */
  readonly concurrency?: number;
  /** Restore runs of zeros as holes. @default false */
  readonly sparse?: boolean;
  /** @default 'always' */
  readonly overwrite?: OverwriteMode;
  /** Remove entries in restored directories that the snapshot does not have. @default false */
  readonly delete?: boolean;
  /** Report what would be done; write nothing. @default false */
  readonly dryRun?: boolean;
  /** Read every restored file back and compare it with the snapshot. @default false */
  readonly verify?: boolean;
  /**
   * Which entries to restore, by their path in the snapshot (restic's --include/--exclude):
   * `selected` restores the entry, `descend` looks inside a directory that is not selected itself.
   */
  readonly select?: (path: Uint8Array, isDir: boolean) => { readonly selected: boolean; readonly descend: boolean };
  readonly signal?: AbortSignal;
  readonly onWarning?: (w: RestoreWarning) => void;
  readonly onAction?: (a: RestoreAction) => void;
}

export interface RestoreSummary {
  readonly files: number;
  readonly dirs: number;
  /** Symlinks, hard links, FIFOs and devices. */
  readonly others: number;
  readonly bytes: number;
  /** Files already right (nothing written but metadata). */
  readonly unchanged: number;
  /** Entries removed by `delete`. */
  readonly deleted: number;
  /** Entries that failed or were refused (each reported; nothing wrong written for them). */
  readonly errors: number;
  /** Entries of kinds that are not restored (sockets), and entries kept by `overwrite`. */
  readonly skipped: number;
  /** Files read back and found equal to the snapshot (with `verify`). */
  readonly verified: number;
  readonly duration: number;
}

/** Loads and decodes a tree blob (unsafe names kept, for the restorer to refuse one by one). */
export async function loadTree(repo: RestorerRepository, id: TreeId): Promise<readonly Node[]> {
  return decodeTree(await repo.loadBlob('tree', id), `tree ${id}`, { allowUnsafeNames: true, allowUnsorted: true }).nodes;
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

interface Job {
  /** Where it goes. */
  readonly path: Buffer;
  /** Its path in the snapshot, raw bytes (for selection). */
  readonly item: Buffer;
  readonly node: Node;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Restores `entry` into `options.target`: the whole tree `root` when `entry` is undefined (the
 * snapshot's paths reappear under the target), a directory's contents when `entry` is a directory
 * node, or a single entry as `target/name`. `base` is the snapshot path of what is restored (for
 * selection): "" for the root.
 */
export async function restore(repo: RestorerRepository, root: TreeId, entry: Node | undefined, options: RestoreOptions, base: Uint8Array = new Uint8Array(0)): Promise<RestoreSummary> {
  return new Restore(repo, options).run(root, entry, Buffer.from(base));
}

class Restore {
  private readonly counts = { files: 0, dirs: 0, others: 0, bytes: 0, unchanged: 0, deleted: 0, errors: 0, skipped: 0, verified: 0 };
  private readonly files: Job[] = [];
  private readonly later: Job[] = [];
  private readonly dirs: Array<Job & { depth: number }> = [];
  /** First path of each hard-link group, by device:inode, and whether it was restored. */
  private readonly linkGroups = new Map<string, { path: Buffer; ok: boolean }>();
  private readonly overwrite: OverwriteMode;
  private readonly dry: boolean;

  constructor(
    private readonly repo: RestorerRepository,
    private readonly o: RestoreOptions,
  ) {
    this.overwrite = o.overwrite ?? 'always';
    this.dry = o.dryRun === true;
  }

  private warn(code: string, path: Uint8Array | string, message: string): void {
    this.o.onWarning?.({ code, path: displayPath(path), message });
  }

  private fail(code: string, path: Uint8Array | string, message: string): void {
    this.counts.errors++;
    this.warn(code, path, message);
  }

  private act(action: RestoreAction['action'], path: Uint8Array, type: RestoreAction['type']): void {
    this.o.onAction?.({ action, path: displayPath(path), type });
  }

  private checkAbort(): void {
    if (this.o.signal?.aborted) throw new CairnError('ERR_INTERRUPTED', 'the restore was interrupted; run it again to finish (files already right are not rewritten)');
  }

  async run(root: TreeId, entry: Node | undefined, base: Buffer): Promise<RestoreSummary> {
    const started = performance.now();
    const target = Buffer.from(resolvePath(this.o.cwd ?? process.cwd(), this.o.target));
    if (!this.dry) {
      try {
        await mkdir(target, { recursive: true });
      } catch (e) {
        throw new CairnError('ERR_FILE_WRITE', `cannot create the target directory ${displayPath(target)}: ${messageOf(e)}`, { cause: e });
      }
    }
    if (entry === undefined) await this.plan(root, target, base, 0);
    else if (entry.type === 'dir' && entry.subtree !== undefined) await this.plan(entry.subtree, target, base, 0);
    else await this.planNode(entry, joinPath(target, entry.name), slashJoin(base, entry.name), 0);

    await mapConcurrent(this.files, this.o.concurrency ?? 4, (job) => this.file(job));
    for (const job of this.later) await this.special(job);
    this.dirs.sort((a, b) => b.depth - a.depth);
    for (const d of this.dirs) {
      try {
        if (!this.dry) await applyMetadata(d.path, d.node);
        this.counts.dirs++;
      } catch (e) {
        this.fail('ERR_FILE_WRITE', d.path, `cannot set metadata: ${messageOf(e)}`);
      }
    }
    return { ...this.counts, duration: (performance.now() - started) / 1000 };
  }

  /** Plans the entries of `tree` below the target directory `dir`. */
  private async plan(tree: TreeId, dir: Buffer, item: Buffer, depth: number): Promise<void> {
    const nodes = await loadTree(this.repo, tree);
    const seen = new Set<string>();
    for (const node of nodes) {
      this.checkAbort();
      const name = Buffer.from(node.name);
      const bad = invalidNameReason(node.name);
      if (bad !== undefined) {
        this.fail('ERR_CORRUPT', dir, `refused an entry of this directory: tree ${tree} names it ${JSON.stringify(displayPath(node.name))}, which could escape the directory (${bad})`);
        continue;
      }
      const k = name.toString('latin1');
      if (seen.has(k)) {
        this.fail('ERR_CORRUPT', joinPath(dir, name), `refused: tree ${tree} names this entry twice`);
        continue;
      }
      seen.add(k);
      await this.planNode(node, joinPath(dir, name), slashJoin(item, name), depth);
    }
    if (this.o.delete === true) await this.deleteExtra(dir, item, seen);
  }

  private async planNode(node: Node, path: Buffer, item: Buffer, depth: number): Promise<void> {
    const sel = this.o.select?.(item, node.type === 'dir') ?? { selected: true, descend: true };
    if (!sel.selected && !(node.type === 'dir' && sel.descend)) return;
    if (node.type === 'dir') {
      if (node.subtree === undefined) {
        this.fail('ERR_CORRUPT', path, 'refused: a directory without a subtree in the snapshot');
        return;
      }
      if (!(await this.directory(path))) return;
      if (sel.selected) {
        this.dirs.push({ path, item, node, depth });
        this.act('restore', path, 'dir');
      }
      await this.plan(node.subtree, path, item, depth + 1);
    } else if (node.type === 'file') {
      const group = linkKey(node);
      if (group !== undefined && this.linkGroups.has(group)) this.later.push({ path, item, node });
      else {
        if (group !== undefined) this.linkGroups.set(group, { path, ok: false });
        this.files.push({ path, item, node });
      }
    } else if (node.type === 'socket') {
      this.counts.skipped++;
      this.act('skip', path, 'socket');
    } else {
      this.later.push({ path, item, node });
    }
  }

  /**
   * Makes `path` a real directory: creates it, or accepts an existing directory. Anything else in
   * the way (a file, a symlink that could redirect writes) is replaced when `overwrite` allows it,
   * else the directory is refused.
   */
  private async directory(path: Buffer): Promise<boolean> {
    const st = await lstat(path, { bigint: true }).catch(() => undefined);
    if (st?.isDirectory()) return true;
    if (st !== undefined) {
      if (this.overwrite === 'never') {
        this.fail('ERR_FILE_WRITE', path, 'not restored: something that is not a directory is in the way (--overwrite never)');
        return false;
      }
      this.act('delete', path, 'other');
      if (!this.dry) await rm(path, { force: true, recursive: false }).catch(() => undefined);
    }
    if (this.dry) return true;
    try {
      await mkdir(path, { mode: 0o700 });
      return true;
    } catch (e) {
      this.fail('ERR_FILE_WRITE', path, `cannot create directory: ${messageOf(e)}`);
      return false;
    }
  }

  /** Removes entries of a restored directory that the snapshot does not have (--delete). */
  private async deleteExtra(dir: Buffer, item: Buffer, keep: ReadonlySet<string>): Promise<void> {
    let names: Buffer[];
    try {
      names = await readdir(dir, { encoding: 'buffer' });
    } catch {
      return; // nothing there (dry run, or just created)
    }
    for (const n of names) {
      if (keep.has(n.toString('latin1'))) continue;
      const p = joinPath(dir, n);
      const st = await lstat(p).catch(() => undefined);
      if (st === undefined) continue;
      if (this.o.select !== undefined && !this.o.select(slashJoin(item, n), st.isDirectory()).selected) continue;
      this.act('delete', p, st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other');
      this.counts.deleted++;
      if (!this.dry) await rm(p, { recursive: true, force: true });
    }
  }

  /** Restores one file's content and metadata. */
  private async file({ path, node }: Job): Promise<void> {
    this.checkAbort();
    const group = linkKey(node);
    let ok = false;
    try {
      const existing = await lstat(path, { bigint: true }).catch(() => undefined);
      const action = this.decide(existing, node);
      if (action === 'skip') {
        this.counts.skipped++;
        this.act('skip', path, 'file');
        ok = true;
        return;
      }
      if (existing !== undefined && !existing.isFile()) {
        this.act('delete', path, 'other');
        if (!this.dry) await rm(path, { recursive: true, force: true });
      }
      const wrote = this.dry ? (action === 'unchanged' ? 0 : 1) : await this.writeContent(path, node, existing?.isFile() === true && action !== 'rewrite');
      if (wrote === 0) {
        this.counts.unchanged++;
        this.act('unchanged', path, 'file');
      } else {
        this.act(existing?.isFile() ? 'update' : 'restore', path, 'file');
      }
      if (!this.dry) {
        await applyMetadata(path, node);
        if (this.o.verify === true) await this.verify(path, node);
      }
      this.counts.files++;
      this.counts.bytes += node.size ?? 0;
      ok = true;
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_INTERRUPTED') throw e;
      if (!this.dry) await rm(path, { force: true }).catch(() => undefined);
      this.fail(e instanceof CairnError ? e.code : 'ERR_FILE_WRITE', path, `not restored: ${messageOf(e)}`);
    } finally {
      if (group !== undefined) this.linkGroups.get(group)!.ok = ok;
    }
  }

  /** What to do with a file given what exists at its path. */
  private decide(existing: BigIntStats | undefined, node: Node): 'write' | 'rewrite' | 'compare' | 'unchanged' | 'skip' {
    if (existing === undefined) return 'write';
    if (this.overwrite === 'never') return 'skip';
    if (!existing.isFile()) return this.overwrite === 'if-newer' && nsOf(node.mtime) <= existing.mtimeNs ? 'skip' : 'rewrite';
    if (this.overwrite === 'if-newer') return nsOf(node.mtime) > existing.mtimeNs ? 'compare' : 'skip';
    if (this.overwrite === 'if-changed' && existing.size === BigInt(node.size ?? 0) && existing.mtimeNs === nsOf(node.mtime)) return 'unchanged';
    return 'compare';
  }

  /**
   * Writes the file's blobs at their offsets. With `compare`, an existing file is read blob by
   * blob and only differing blobs are written. Returns how many blobs were written.
   */
  private async writeContent(path: Buffer, node: Node, compare: boolean): Promise<number> {
    const fh = await openFile(path, compare ? FS.O_RDWR | FS.O_NOFOLLOW : FS.O_WRONLY | FS.O_CREAT | FS.O_TRUNC | FS.O_NOFOLLOW, 0o600);
    let written = 0;
    try {
      let offset = 0;
      for (const id of node.content ?? []) {
        this.checkAbort();
        const data = await this.repo.loadBlob('data', id);
        let write = true;
        if (compare) {
          const cur = Buffer.alloc(data.length);
          const { bytesRead } = await fh.read(cur, 0, data.length, offset);
          write = bytesRead !== data.length || hashId(cur) !== id;
        } else if (this.o.sparse === true && isZero(data)) {
          write = false; // a hole: the file is extended to its size below
        }
        if (write) {
          await fh.write(data, 0, data.length, offset);
          written++;
        }
        offset += data.length;
      }
      if (node.size !== undefined && offset !== node.size) {
        throw new CairnError('ERR_CORRUPT', `the snapshot says the file has ${node.size} bytes, its blobs hold ${offset}`, { data: { size: node.size, content: offset } });
      }
      const st = await fh.stat();
      if (st.size !== offset) {
        await fh.truncate(offset);
        if (compare) written++;
      }
    } finally {
      await fh.close();
    }
    return written;
  }

  /** Reads a restored file back and compares it with the snapshot, blob by blob. */
  private async verify(path: Buffer, node: Node): Promise<void> {
    const fh = await openFile(path, FS.O_RDONLY | FS.O_NOFOLLOW);
    try {
      let offset = 0;
      for (const id of node.content ?? []) {
        const data = await this.repo.loadBlob('data', id);
        const cur = Buffer.alloc(data.length);
        const { bytesRead } = await fh.read(cur, 0, data.length, offset);
        if (bytesRead !== data.length || hashId(cur) !== id) {
          throw new CairnError('ERR_CORRUPT', `verification failed: bytes ${offset}–${offset + data.length} differ from blob ${id}`, { data: { offset, blob: id } });
        }
        offset += data.length;
      }
      if ((await fh.stat()).size !== offset) throw new CairnError('ERR_CORRUPT', `verification failed: the file is longer than the snapshot's ${offset} bytes`);
    } finally {
      await fh.close();
    }
    this.counts.verified++;
  }

  /** Hard links, symlinks, FIFOs and devices. */
  private async special({ path, node }: Job): Promise<void> {
    this.checkAbort();
    try {
      const existing = await lstat(path, { bigint: true }).catch(() => undefined);
      if (existing !== undefined) {
        if (this.overwrite === 'never' || (this.overwrite === 'if-newer' && nsOf(node.mtime) <= existing.mtimeNs)) {
          this.counts.skipped++;
          this.act('skip', path, node.type);
          return;
        }
        this.act('delete', path, 'other');
        if (!this.dry) await rm(path, { recursive: true, force: true });
      }
      this.act('restore', path, node.type);
      if (this.dry) {
        this.counts.others++;
        return;
      }
      if (node.type === 'file') {
        const g = this.linkGroups.get(linkKey(node)!)!;
        if (!g.ok) throw new CairnError('ERR_FILE_WRITE', `its hard link ${displayPath(g.path)} could not be restored`);
        await link(g.path, path);
        this.counts.others++;
        return;
      }
      if (node.type === 'symlink') {
        await symlink(Buffer.from(node.linktarget ?? new Uint8Array(0)), path);
      } else {
        if ((node.type === 'dev' || node.type === 'chardev') && !isRoot()) throw new CairnError('ERR_FILE_WRITE', 'device files can only be created by root');
        makeNode(path, unixModeOf(node), node.device ?? 0n);
      }
      await applyMetadata(path, node);
      this.counts.others++;
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_INTERRUPTED') throw e;
      this.fail(e instanceof CairnError ? e.code : 'ERR_FILE_WRITE', path, `not restored: ${messageOf(e)}`);
    }
  }
}

/** `item/name` for snapshot paths ("" + name gives "/name"). */
function slashJoin(item: Buffer, name: Uint8Array): Buffer {
  return Buffer.concat([item, SLASH_BYTE, name]);
}

const SLASH_BYTE = Buffer.from('/');

function linkKey(node: Node): string | undefined {
  return node.type === 'file' && (node.links ?? 1) > 1 && node.inode !== undefined ? `${node.deviceId ?? 0n}:${node.inode}` : undefined;
}

function nsOf(t: Timestamp): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
}

const ZEROS = new Uint8Array(1 << 16);

function isZero(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i += ZEROS.length) {
    const n = Math.min(ZEROS.length, data.length - i);
    if (Buffer.compare(data.subarray(i, i + n), ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}

/** Owner (as root), permissions (not on symlinks), times, extended attributes — restic's order. */
async function applyMetadata(path: Buffer, node: Node): Promise<void> {
  const symlinked = node.type === 'symlink';
  if (isRoot()) await (symlinked ? lchown : chown)(path, node.uid, node.gid);
  if (!symlinked && node.mode !== undefined) await chmod(path, unixPermissions(node.mode));
  try {
    setTimes(path, node.atime, node.mtime, false);
  } catch (e) {
    if (!(e instanceof CairnError && e.code === 'ERR_UNSUPPORTED')) throw e;
    // Without the native module: microseconds through Node's fs.
    await (symlinked ? lutimes : utimes)(path, timestampToSeconds(node.atime), timestampToSeconds(node.mtime));
  }
  if (node.extendedAttributes !== undefined && node.extendedAttributes.length > 0) writeXattrs(path, node.extendedAttributes);
}
