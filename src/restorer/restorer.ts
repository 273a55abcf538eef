/**
 * Restoring: recreate a snapshot's tree under a target directory, as restic restores it.
 *
 * Order: (1) walk the tree, creating directories (writable for now) and planning every other
 * entry, and (2) file contents, several files at once, each blob verified against its ID before a
 * byte is written, as the walk plans them (it runs a bounded number of files ahead, so memory does
 * not grow with the snapshot); (3) hard links to files restored in (2), then symlinks, FIFOs and devices;
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
import { close as closeFd, constants as FS, type BigIntStats } from 'node:fs';
import { chmod, chown, lchown, link, lstat, mkdir, open as openFile, readdir, readlink, rm, symlink, utimes, lutimes, type FileHandle } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { CairnError, messageOf } from '../errors.js';
import { displayPath, finishFile, joinPath, nameKey, type FinishedFile, openFile as openNative, makeNode, nativeAvailable, setTimes, timestampToSeconds, unixModeOf, unixPermissions, writeXattrs } from '../fs/index.js';
import { hashId, type BlobId, type BlobType, type TreeId } from '../model/index.js';
import { decodeTree, invalidNameReason, type Node, type Timestamp } from '../tree/index.js';
import { createLimiter, mapConcurrent, type Progress } from '../util/index.js';
import { pipeline } from './pipeline.js';

/** What the restorer needs from a repository. */
export interface RestorerRepository {
  loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array>;
  /**
   * A stored blob's plaintext length, when the index knows it: with it a file's blobs are fetched
   * several at once and written at their offsets in any order.
   */
  blobLength(type: BlobType, id: BlobId): number | undefined;
  /** Whether `restoreBlob` can be used (a local repository). @default absent: it cannot */
  canRestoreBlobs?(): boolean;
  /**
   * Writes data blob `id` (`target.length` bytes, verified first) to the open file `target.fd` at
   * `target.offset` without handing the bytes to this thread; `keep`: it is needed again soon.
   * Resolves to the bytes written. See Repository.restoreBlob.
   */
  restoreBlob?(id: BlobId, target: { readonly fd: number; readonly offset: number; readonly length: number }, keep: boolean): Promise<number>;
}

/** How a file restored fresh is created (the owner may read and write it until its mode is set). */
const FRESH_FLAGS = FS.O_WRONLY | FS.O_CREAT | FS.O_TRUNC | FS.O_NOFOLLOW;
const FRESH_MODE = 0o600;
/**
 * By default, files restored at once; and in all, when the blob workers write them, with small
 * files (up to SMALL_FILE_BYTES) beyond the FILES_AT_ONCE others. A small file is mostly waiting
 * (created, written by a worker, finished: three trips), so only many at once keep the workers
 * and the thread pool busy, and let the native opens and finishes of one turn share jobs.
 */
const FILES_AT_ONCE = 4;
const SMALL_FILES_AT_ONCE = 32;
const SMALL_FILE_BYTES = 1 << 20;
/** Blobs of one file fetched (and written) at once, when their offsets are known. */
const BLOBS_PER_FILE = 4;
/** The same when the blob workers read and write the blobs themselves (restoreBlob). */
const DIRECT_BLOBS_PER_FILE = 8;
/**
 * Files the walk over the snapshot's trees plans ahead of the ones being restored: the plan is
 * made as the files are restored, not all of it first, so what is held at once does not grow with
 * the number of files in the snapshot.
 */
const FILES_AHEAD = 256;
/** Plaintext kept for a blob that another file (or offset) still needs: at most this many bytes. */
const SHARED_CACHE_BYTES = 64 << 20;

/**
 * Blobs loaded for one restore, shared: a blob needed at several places (the same chunk in two
 * files, or twice in one) is loaded once while those places are written at about the same time,
 * within SHARED_CACHE_BYTES; past that it is simply loaded again. Loads in flight are shared too.
 * Every blob comes from `loadBlob`, so it was verified (MAC, SHA-256) before any byte is written.
 */
class BlobShare {
  private readonly uses = new Map<string, number>();
  private readonly live = new Map<string, { readonly p: Promise<Uint8Array>; size: number }>();
  private bytes = 0;

  constructor(private readonly repo: RestorerRepository) {}

  /** Counts one more place that will need `id`. */
  need(id: BlobId): void {
    this.uses.set(id, (this.uses.get(id) ?? 0) + 1);
  }

  /** The blob's plaintext, for one of the places counted by `need` (or an uncounted one). */
  async get(id: BlobId): Promise<Uint8Array> {
    const left = this.countOff(id);
    const hit = this.live.get(id);
    if (hit !== undefined) {
      if (left <= 1) this.forget(id);
      return hit.p;
    }
    const p = this.repo.loadBlob('data', id);
    if (left > 1 && this.bytes < SHARED_CACHE_BYTES) {
      const entry = { p, size: 0 };
      this.live.set(id, entry);
      p.then(
        (b) => {
          if (this.live.get(id) === entry) {
            entry.size = b.length;
            this.bytes += b.length;
          }
        },
        () => this.forget(id),
      );
    }
    return p;
  }

  /**
   * Counts off one place of `id` written without `get` (restoreBlob); whether more places still
   * need it.
   */
  take(id: BlobId): boolean {
    if (this.countOff(id) > 1) return true;
    this.forget(id);
    return false;
  }

  /** Counts off one place that needs `id`; how many there were before. */
  private countOff(id: BlobId): number {
    const left = this.uses.get(id) ?? 0;
    if (left > 1) this.uses.set(id, left - 1);
    else this.uses.delete(id);
    return left;
  }

  /** A place that needed `id` will not ask for it (its file was skipped or failed). */
  private forget(id: string): void {
    const e = this.live.get(id);
    if (e === undefined) return;
    this.live.delete(id);
    this.bytes -= e.size;
  }
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
  /**
   * Files restored at once. @default 4, and when the blob workers write the files (a local
   * repository, not sparse) up to 32 while the others are small (at most 1 MiB each): 4 larger
   * ones at most, as before.
   */
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
  /**
   * Live counters to update (see util/progress.ts): once the plan is made, the totals (files to
   * restore and their bytes); then files done, bytes written or found right blob by blob, the
   * files being restored, errors. @default none
   */
  readonly progress?: Progress;
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

/** Whether writeContent set a file's owner, mode and times itself, and what failed there. */
interface Finished {
  done: boolean;
  error: unknown;
}

interface Job {
  /** Where it goes. */
  readonly path: Buffer;
  readonly node: Node;
  /** Its directory was made by this restore (in a dry run: would be), so nothing is in the way. */
  readonly fresh: boolean;
}

/**
 * A directory entries are restored into. One that is only looked into for selected entries
 * (`--include`) is made when the first of them is restored, as restic does: no empty directories
 * are left behind, nothing in the way is replaced for nothing, and a directory that received
 * entries gets its metadata (restic's leaveDir), not mode 0700 and the time of the restore.
 */
interface Place {
  readonly path: Buffer;
  /** Makes it a real directory, once; false when that was refused (and reported). */
  ensure(): Promise<boolean>;
  /** Made by this restore (in a dry run: would be): nothing inside to compare or delete. */
  fresh(): boolean;
}

// The effective user decides what chown may do (geteuid: getuid is still 0 after seteuid).
const isRoot = (): boolean => (process.geteuid ?? process.getuid)?.() === 0;

/** Why a name must not be restored (empty, `.`, `..`, `/` or NUL in it), or undefined. */
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
  /** Hands a planned file to be restored (see run); waits while enough files are planned ahead. */
  private emit: (job: Job) => Promise<void> = () => Promise.reject(new Error('restorer: no walk is running'));
  private readonly later: Job[] = [];
  private readonly dirs: Array<Job & { depth: number }> = [];
  /** First path of each hard-link group, by device:inode, and whether it was restored. */
  private readonly linkGroups = new Map<string, { path: Buffer; ok: boolean }>();
  private readonly overwrite: OverwriteMode;
  private readonly dry: boolean;
  private readonly share: BlobShare;
  /** Whether owners are set (chown): asked once, not per file. */
  private readonly root = isRoot();
  /** Whether fresh files are written by the blob workers (a local repository, not sparse): asked once. */
  private readonly direct: boolean;
  /** Whether snapshot paths are needed (selection, --delete): otherwise they are not made. */
  private readonly items: boolean;
  private target = Buffer.alloc(0);

  constructor(
    private readonly repo: RestorerRepository,
    private readonly o: RestoreOptions,
  ) {
    this.overwrite = o.overwrite ?? 'always';
    this.dry = o.dryRun === true;
    this.share = new BlobShare(repo);
    this.items = o.select !== undefined || o.delete === true;
    this.direct = o.sparse !== true && repo.restoreBlob !== undefined && repo.canRestoreBlobs?.() === true;
  }

  private warn(code: string, path: Uint8Array | string, message: string): void {
    this.o.onWarning?.({ code, path: displayPath(path), message });
  }

  private fail(code: string, path: Uint8Array | string, message: string): void {
    this.counts.errors++;
    if (this.o.progress !== undefined) this.o.progress.errors++;
    this.warn(code, path, message);
  }

  /**
   * Sets `node`'s metadata on what was restored at `path`. A failure (an xattr the target file
   * system refuses, say) is an error of the restore, but the content stays: it is right, and
   * deleting it would lose more than the metadata (restic does the same).
   */
  private async metadata(path: Buffer, node: Node): Promise<void> {
    try {
      await applyMetadata(path, node, this.root);
    } catch (e) {
      this.metadataFailed(path, e);
    }
  }

  private metadataFailed(path: Buffer, e: unknown): void {
    this.fail(e instanceof CairnError ? e.code : 'ERR_FILE_WRITE', path, `restored, but its metadata could not all be set (${messageOf(e)}); the content is right`);
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
    this.target = target;
    if (!this.dry) {
      try {
        await mkdir(target, { recursive: true });
      } catch (e) {
        throw new CairnError('ERR_FILE_WRITE', `cannot create the target directory ${displayPath(target)}: ${messageOf(e)}`, { cause: e });
      }
    }
    const top: Place = { path: target, ensure: () => Promise.resolve(true), fresh: () => false };
    // The totals for the status line come from a walk of their own (the plan is not made all
    // at once; see FILES_AHEAD), finished before this returns (stopped if the restore fails).
    const totals = this.o.progress === undefined ? undefined : this.countTotals(root, entry, base, this.o.progress);
    let restored = false;
    // Files are restored as the walk plans them: up to SMALL_FILES_AT_ONCE in flight when the
    // blob workers write them, of which FILES_AT_ONCE at most are larger; else FILES_AT_ONCE.
    const large = createLimiter(FILES_AT_ONCE);
    const byWorkers = this.o.concurrency === undefined && !this.dry && this.direct;
    try {
      await pipeline<Job>(
        async (emit) => {
          this.emit = emit;
          if (entry === undefined) await this.plan(root, top, base, 0);
          else if (entry.type === 'dir' && entry.subtree !== undefined) await this.plan(entry.subtree, top, base, 0);
          else {
            // SNAPSHOT:PATH finds PATH by name, `..` included: a node named `..` must not be
            // restored as TARGET/.. (a file or symlink there would first remove the target's parent).
            const bad = invalidNameReason(entry.name);
            if (bad === undefined) await this.planNode(entry, top, Buffer.from(entry.name), slashJoin(base, entry.name), 0);
            else this.fail('ERR_CORRUPT', target, `refused: the snapshot names the entry to restore ${JSON.stringify(displayPath(entry.name))}, which could escape the target (${bad})`);
          }
        },
        byWorkers ? SMALL_FILES_AT_ONCE : (this.o.concurrency ?? FILES_AT_ONCE),
        FILES_AHEAD,
        (job) => (byWorkers && (job.node.size ?? 0) > SMALL_FILE_BYTES ? large(() => this.file(job)) : this.file(job)),
      );
      restored = true;
    } finally {
      // After a failure the walk's own failure, if any, is not the one to report.
      if (!restored) totals?.stop();
      await (restored ? totals?.done : totals?.done.catch(() => undefined));
    }
    for (const job of this.later) await this.special(job);
    this.dirs.sort((a, b) => b.depth - a.depth);
    for (const d of this.dirs) {
      if (!this.dry) await this.metadata(d.path, d.node);
      this.counts.dirs++;
    }
    return { ...this.counts, duration: (performance.now() - started) / 1000 };
  }

  /**
   * Counts the files and bytes the restore covers into `progress.itemsTotal`/`bytesTotal`, with
   * the plan's selection (hard links after the first of a group are not files to restore; names
   * the plan refuses are not counted), in a walk of its own beside the restore, as the archiver's
   * scan does: the restore's walk plans only a little ahead of the files restored. The totals are
   * set when the walk finishes; a tree that cannot be loaded is left out (the restore reports
   * it), the rest is counted.
   */
  private countTotals(root: TreeId, entry: Node | undefined, base: Buffer, progress: Progress): { readonly done: Promise<void>; stop(): void } {
    let files = 0;
    let bytes = 0;
    let stopped = false;
    const groups = new Set<string>();
    const count = async (node: Node, item: Buffer): Promise<void> => {
      const sel = this.o.select?.(item, node.type === 'dir') ?? { selected: true, descend: true };
      if (!sel.selected && !(node.type === 'dir' && sel.descend)) return;
      if (node.type === 'dir') {
        if (node.subtree !== undefined) await walk(node.subtree, item);
        return;
      }
      if (node.type !== 'file') return;
      const group = linkKey(node);
      if (group !== undefined) {
        if (groups.has(group)) return;
        groups.add(group);
      }
      files++;
      bytes += node.size ?? 0;
    };
    const walk = async (tree: TreeId, item: Buffer): Promise<void> => {
      if (stopped || this.o.signal?.aborted === true) return;
      let nodes: readonly Node[];
      try {
        nodes = await loadTree(this.repo, tree);
      } catch {
        return; // reported by the restore's own walk
      }
      const seen = new Set<string>();
      for (const node of nodes) {
        if (invalidNameReason(node.name) !== undefined) continue;
        const k = nameKey(node.name);
        if (seen.has(k)) continue;
        seen.add(k);
        await count(node, this.o.select === undefined ? item : slashJoin(item, node.name));
      }
    };
    const done = (async () => {
      if (entry === undefined) await walk(root, base);
      else if (entry.type === 'dir' && entry.subtree !== undefined) await walk(entry.subtree, base);
      else if (invalidNameReason(entry.name) === undefined) await count(entry, slashJoin(base, entry.name));
      if (stopped || this.o.signal?.aborted === true) return;
      progress.itemsTotal = files;
      progress.bytesTotal = bytes;
    })();
    return { done, stop: () => void (stopped = true) };
  }

  /**
   * Plans the entries of `tree` below the target directory `dir`; true when something below was
   * planned for restoring.
   */
  private async plan(tree: TreeId, dir: Place, item: Buffer, depth: number): Promise<boolean> {
    let nodes: readonly Node[];
    try {
      nodes = await loadTree(this.repo, tree);
    } catch (e) {
      // A tree that cannot be loaded loses its entries, nothing else: the rest is restored, and
      // --delete leaves the directory alone (what belongs in it is unknown).
      this.fail(e instanceof CairnError ? e.code : 'ERR_CORRUPT', dir.path, `the entries of this directory are not restored: tree ${tree} cannot be loaded: ${messageOf(e)}`);
      return false;
    }
    // The names seen, for --delete and for a tree out of order: names in strictly increasing
    // order (restic writes trees sorted) cannot repeat, so no set is needed to find a repeat.
    let seen = this.o.delete === true ? new Set<string>() : undefined;
    let last: Uint8Array | undefined;
    let any = false;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const name = node.name;
      this.checkAbort();
      const bad = invalidNameReason(name);
      if (bad !== undefined) {
        this.fail('ERR_CORRUPT', dir.path, `refused an entry of this directory: tree ${tree} names it ${JSON.stringify(displayPath(name))}, which could escape the directory (${bad})`);
        continue;
      }
      if (seen === undefined && last !== undefined && Buffer.compare(last, name) >= 0) {
        // Out of order: from here on every name is looked up (the ones before were all different).
        seen = new Set(nodes.slice(0, i).filter((n) => invalidNameReason(n.name) === undefined).map((n) => nameKey(n.name)));
      }
      if (seen !== undefined) {
        const k = nameKey(name);
        if (seen.has(k)) {
          this.fail('ERR_CORRUPT', joinPath(dir.path, name), `refused: tree ${tree} names this entry twice`);
          continue;
        }
        seen.add(k);
      } else {
        last = name;
      }
      if (await this.planNode(node, dir, name, this.items ? slashJoin(item, name) : item, depth)) any = true;
    }
    if (this.o.delete === true && !dir.fresh()) await this.deleteExtra(dir.path, item, seen!);
    return any;
  }

  /** Plans one entry of `parent`; true when it (or something below it) is to be restored. */
  private async planNode(node: Node, parent: Place, name: Uint8Array, item: Buffer, depth: number): Promise<boolean> {
    const path = joinPath(parent.path, name);
    const sel = this.o.select?.(item, node.type === 'dir') ?? { selected: true, descend: true };
    if (!sel.selected && !(node.type === 'dir' && sel.descend)) return false;
    if (node.type === 'dir') {
      if (node.subtree === undefined) {
        this.fail('ERR_CORRUPT', path, 'refused: a directory without a subtree in the snapshot');
        return false;
      }
      const place = this.place(parent, path, node);
      if (sel.selected && !(await place.ensure())) return false;
      const inside = await this.plan(node.subtree, place, item, depth + 1);
      if (!sel.selected && !inside) return false;
      this.dirs.push({ path: own(path), node, depth, fresh: parent.fresh() });
      return true;
    }
    if (node.type === 'socket') {
      this.counts.skipped++;
      this.act('skip', path, 'socket');
      return false;
    }
    if (!(await parent.ensure())) return false;
    const group = linkKey(node);
    if (node.type !== 'file' || (group !== undefined && this.linkGroups.has(group))) this.later.push({ path: own(path), node, fresh: parent.fresh() });
    else {
      const job: Job = { path: group === undefined ? path : own(path), node, fresh: parent.fresh() };
      if (group !== undefined) this.linkGroups.set(group, { path: job.path, ok: false });
      for (const id of node.content ?? []) this.share.need(id);
      await this.emit(job);
    }
    return true;
  }

  /** The directory `path` below `parent`, made real on first use (see Place). */
  private place(parent: Place, path: Buffer, node: Node): Place {
    let made: Promise<boolean> | undefined;
    let fresh = false;
    return {
      path,
      fresh: () => fresh,
      ensure: () =>
        (made ??= (async () => {
          if (!(await parent.ensure())) return false;
          const state = await this.directory(path, node, parent.fresh());
          if (state === undefined) return false;
          fresh = state === 'new';
          this.act('restore', path, 'dir');
          return true;
        })()),
    };
  }

  /**
   * Makes `path` a real directory: creates it, or accepts an existing directory. Anything else in
   * the way (a file, a symlink that could redirect writes) is replaced when `overwrite` allows it,
   * else the directory is refused. `'new'` when it is (in a dry run: would be) made now.
   */
  private async directory(path: Buffer, node: Node, parentFresh: boolean): Promise<'existing' | 'new' | undefined> {
    let st: BigIntStats | undefined;
    try {
      // In a directory just made (or, dry, one that would be) nothing is there; an lstat could
      // even pass through a symlink still in the way (dry run) or fail with ENOTDIR.
      st = parentFresh ? undefined : await lstatIfExists(path);
    } catch (e) {
      this.fail('ERR_FILE_WRITE', path, `cannot inspect the target: ${messageOf(e)}`);
      return undefined;
    }
    if (st?.isDirectory()) return 'existing';
    if (st !== undefined) {
      // if-newer keeps a newer thing in the way of a directory as it keeps one in the way of a
      // file (it used to be replaced whatever its time).
      if (this.overwrite === 'never' || (this.overwrite === 'if-newer' && nsOf(node.mtime) <= st.mtimeNs)) {
        this.fail('ERR_FILE_WRITE', path, `not restored: something that is not a directory is in the way (--overwrite ${this.overwrite})`);
        return undefined;
      }
      this.act('delete', path, 'other');
    }
    if (this.dry) return 'new';
    try {
      if (st !== undefined) await rm(path, { force: true, recursive: false });
      await mkdir(path, { mode: 0o700 });
      return 'new';
    } catch (e) {
      this.fail('ERR_FILE_WRITE', path, `cannot create directory: ${messageOf(e)}`);
      return undefined;
    }
  }

  /** Removes entries of a restored directory that the snapshot does not have (--delete). */
  private async deleteExtra(dir: Buffer, item: Buffer, keep: ReadonlySet<string>): Promise<void> {
    // Only in a real directory: one looked into but not made (nothing was selected in it) may be
    // a symlink in the way, and readdir would follow it out of the target. The target itself is
    // the user's choice and may be a symlink.
    if (!dir.equals(this.target) && (await lstatIfExists(dir).catch(() => undefined))?.isDirectory() !== true) return;
    let names: Buffer[];
    try {
      names = await readdir(dir, { encoding: 'buffer' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // not created (dry run)
      this.fail('ERR_FILE_WRITE', dir, `cannot list the directory to delete what the snapshot lacks: ${messageOf(e)}`);
      return;
    }
    for (const n of names) {
      if (keep.has(nameKey(n))) continue;
      const p = joinPath(dir, n);
      const st = await lstatIfExists(p);
      if (st === undefined) continue;
      if (this.o.select !== undefined && !this.o.select(slashJoin(item, n), st.isDirectory()).selected) continue;
      this.act('delete', p, st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other');
      this.counts.deleted++;
      if (!this.dry) await rm(p, { recursive: true, force: true });
    }
  }

  /** Restores one file's content and metadata. */
  private async file({ path, node, fresh }: Job): Promise<void> {
    this.checkAbort();
    const group = linkKey(node);
    let ok = false;
    const progress = this.o.progress;
    progress?.current.add(path);
    /** Whether writeContent counted this file's bytes into `progress` blob by blob. */
    let counted = false;
    try {
      const existing = fresh ? undefined : await lstatIfExists(path);
      const action = this.decide(existing, node);
      if (action === 'skip') {
        this.counts.skipped++;
        this.act('skip', path, 'file');
        ok = true;
        return;
      }
      if (existing !== undefined && !existing.isFile()) this.act('delete', path, 'other');
      // 'rewrite' of a regular file: one hard-linked elsewhere (see decide), unlinked first.
      if (existing !== undefined && action === 'rewrite' && !this.dry) await rm(path, { recursive: true, force: true });
      // if-changed trusts an equal size and mtime (as make and rsync do); the others compare. A
      // dry run compares too (reading only), so that it reports what a real run would do.
      // Without verify (which reads the file between writing and metadata), a file written fresh
      // may get owner, mode and times on its descriptor as it is closed (see writeFresh).
      const finished: Finished = { done: false, error: undefined };
      const wrote =
        action === 'unchanged' ? 0
        : this.dry ? (action === 'compare' && (await this.mismatch(path, node, true).catch(() => 'unreadable')) === undefined ? 0 : 1)
        : ((counted = true), await this.writeContent(path, node, action === 'compare', this.o.verify === true ? undefined : finished));
      if (wrote === 0) {
        this.counts.unchanged++;
        this.act('unchanged', path, 'file');
      } else {
        this.act(existing?.isFile() ? 'update' : 'restore', path, 'file');
      }
      if (!this.dry) {
        // Verify first: the read must not move the atime set below, nor need read permission
        // the file's own mode may deny.
        if (this.o.verify === true) await this.verify(path, node);
        if (!finished.done) await this.metadata(path, node);
        else if (finished.error !== undefined) this.metadataFailed(path, finished.error);
        else if (node.extendedAttributes !== undefined && node.extendedAttributes.length > 0) {
          try {
            writeXattrs(path, node.extendedAttributes);
          } catch (e) {
            this.metadataFailed(path, e);
          }
        }
      }
      this.counts.files++;
      this.counts.bytes += node.size ?? 0;
      ok = true;
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_INTERRUPTED') throw e;
      counted = true; // what was written stays counted; the file is not done
      // A partial or unverified file must not pass for a restored one.
      let leftover = '';
      if (!this.dry) {
        await rm(path, { force: true }).catch((r: unknown) => {
          leftover = `; the partial file could not be removed either (${messageOf(r)}): delete it by hand`;
        });
      }
      this.fail(e instanceof CairnError ? e.code : 'ERR_FILE_WRITE', path, `not restored: ${messageOf(e)}${leftover}`);
    } finally {
      if (group !== undefined) this.linkGroups.get(group)!.ok = ok;
      if (progress !== undefined) {
        progress.current.delete(path);
        if (ok) progress.itemsDone++;
        if (!counted) progress.bytesDone += node.size ?? 0;
      }
    }
  }

  /** What to do with a file given what exists at its path. */
  private decide(existing: BigIntStats | undefined, node: Node): 'write' | 'rewrite' | 'compare' | 'unchanged' | 'skip' {
    if (existing === undefined) return 'write';
    if (this.overwrite === 'never') return 'skip';
    if (this.overwrite === 'if-newer' && nsOf(node.mtime) <= existing.mtimeNs) return 'skip';
    if (!existing.isFile()) return 'rewrite';
    // A file with other names (perhaps outside the target) is replaced, not patched: writing,
    // chmod or chown through it would change those too. Unless the snapshot links it as well.
    if (existing.nlink > 1n && linkKey(node) === undefined) return 'rewrite';
    if (this.overwrite === 'if-changed' && existing.size === BigInt(node.size ?? 0) && existing.mtimeNs === nsOf(node.mtime)) return 'unchanged';
    return 'compare';
  }

  /**
   * Writes the file's blobs at their offsets. With `compare`, an existing file is read blob by
   * blob and only differing blobs are written. Returns how many blobs were written. With
   * `finish`, a file written fresh through the blob workers gets its owner, mode and times as it
   * is closed (writeFresh); `finish.done` says whether that happened.
   */
  private async writeContent(path: Buffer, node: Node, compare: boolean, finish?: Finished): Promise<number> {
    let fh = compare ? await openExisting(path) : undefined;
    if (fh === undefined) {
      if (compare) await rm(path, { force: true }); // its owner may neither read nor write it: replaced
      compare = false;
      if (this.direct && finish !== undefined && nativeAvailable()) return this.writeFresh(path, node, finish);
      fh = await openFile(path, FRESH_FLAGS, FRESH_MODE);
    }
    let written = 0;
    try {
      const content = node.content ?? [];
      const { lengths, offsets, size: offset } = await this.layout(node);
      const handle = fh;
      const progress = this.o.progress;
      const one = async (id: BlobId, i: number): Promise<void> => {
        this.checkAbort();
        const data = await this.share.get(id);
        const at = offsets[i]!;
        if (data.length !== lengths[i]) throw new CairnError('ERR_CORRUPT', `blob ${id} holds ${data.length} bytes, the index says ${lengths[i]}; run \`cairn check\``, { data: { blob: id } });
        let write = true;
        if (compare) {
          const cur = Buffer.alloc(data.length);
          const { bytesRead } = await handle.read(cur, 0, data.length, at);
          write = bytesRead !== data.length || hashId(cur) !== id;
        } else if (this.o.sparse === true) {
          // Zero blocks become holes: the file is extended to its size below.
          await writeSparse(handle, data, at);
          written++;
          write = false;
        }
        if (write) {
          await writeAll(handle, data, at);
          written++;
        }
        if (progress !== undefined) progress.bytesDone += data.length;
      };
      // Fresh writes on a local repository: the blob workers read, verify and write each blob
      // themselves (nothing passes through this thread). Comparing and sparse writes need the
      // bytes here.
      if (!compare && this.direct) written = await this.writeByWorkers(handle.fd, content, lengths, offsets);
      else await mapConcurrent(content, BLOBS_PER_FILE, one);
      // A file created empty (O_TRUNC) and written whole, without holes, has its size: only an
      // existing file (longer, perhaps) or a sparse one (a hole at its end) needs the check.
      if (compare || this.o.sparse === true) {
        const st = await fh.stat();
        if (st.size !== offset) {
          await fh.truncate(offset);
          if (compare) written++;
        }
      }
    } finally {
      await fh.close();
    }
    return written;
  }


  /**
   * Where each blob of the file goes, from the index's lengths (so that blobs are fetched several
   * at once and written where they go), and the size they add up to, checked against the node's.
   */
  private async layout(node: Node): Promise<{ lengths: Array<number | undefined>; offsets: number[]; size: number }> {
    const content = node.content ?? [];
    const lengths = new Array<number | undefined>(content.length);
    const offsets = new Array<number>(content.length);
    let missing: BlobId | undefined;
    let offset = 0;
    for (let i = 0; i < content.length; i++) {
      const l = this.repo.blobLength('data', content[i]!);
      missing ??= l === undefined ? content[i] : undefined;
      lengths[i] = l;
      offsets[i] = offset;
      offset += l!;
    }
    if (missing !== undefined) await this.share.get(missing); // not in the index: throws saying so
    if (node.size !== undefined && offset !== node.size) {
      throw new CairnError('ERR_CORRUPT', `the snapshot says the file has ${node.size} bytes, its blobs hold ${offset}`, { data: { size: node.size, content: offset } });
    }
    return { lengths, offsets, size: offset };
  }

  /**
   * writeContent for a file created now and written by the blob workers, on a bare descriptor:
   * created empty and written whole, it has its size without a stat. Creating it and, at the end,
   * setting owner (as root), mode and times on the descriptor and closing it are native jobs that
   * the files reaching that step in the same turn share, where the path-based way takes a trip to
   * the thread pool for each call of each file; a failing metadata call is left in `finish.error`
   * (reported as applyMetadata's failure would be), a failing close throws as FileHandle.close
   * did. Arguments the native call refuses (a time out of range) leave `finish.done` false: the
   * file is closed and the caller sets its metadata by path, reporting what fails there.
   */
  private async writeFresh(path: Buffer, node: Node, finish: Finished): Promise<number> {
    // Created natively: the files opened in one turn share a thread-pool job (the same flags and
    // mode as openFile's below, the same error as fs.open's).
    const fd = await openNative(path, FRESH_FLAGS, FRESH_MODE);
    const close = (): Promise<void> => new Promise((resolve, reject) => closeFd(fd, (e) => (e === null ? resolve() : reject(e))));
    let owned = true; // fd is still this function's to close
    try {
      const { lengths, offsets } = await this.layout(node);
      const written = await this.writeByWorkers(fd, node.content ?? [], lengths, offsets);
      let done: Promise<FinishedFile>;
      try {
        done = finishFile(fd, path, this.root ? node : undefined, unixPermissions(node.mode ?? 0), node.atime, node.mtime);
      } catch {
        // Refused before anything was done (see above): the caller's applyMetadata meets the
        // same values and reports them; the descriptor is closed here.
        return written;
      }
      owned = false;
      const r = await done;
      if (r.close !== undefined) throw r.close;
      finish.done = true;
      finish.error = r.metadata;
      return written;
    } finally {
      if (owned) await close();
    }
  }

  /**
   * The file's blobs read, checked and written at their offsets into descriptor `fd` by the blob
   * workers (nothing passes through this thread); how many were written.
   */
  private async writeByWorkers(fd: number, content: readonly BlobId[], lengths: ReadonlyArray<number | undefined>, offsets: readonly number[]): Promise<number> {
    const progress = this.o.progress;
    const one = async (id: BlobId, i: number): Promise<void> => {
      this.checkAbort();
      const n = await this.repo.restoreBlob!(id, { fd, offset: offsets[i]!, length: lengths[i]! }, this.share.take(id));
      if (progress !== undefined) progress.bytesDone += n;
    };
    // Most files are one blob: without the helper's bookkeeping (allocation per file is what
    // the main thread's heap grows with).
    if (content.length === 1) await one(content[0]!, 0);
    else await mapConcurrent(content, DIRECT_BLOBS_PER_FILE, one);
    return content.length;
  }

  /** Reads a restored file back and compares it with the snapshot, blob by blob. */
  private async verify(path: Buffer, node: Node): Promise<void> {
    const why = await this.mismatch(path, node, false);
    if (why !== undefined) throw new CairnError('ERR_CORRUPT', `verification failed: ${why}`);
    this.counts.verified++;
  }

  /**
   * Where the file at `path` differs from the snapshot's content, or undefined when it holds
   * exactly that. `noAtime`: leave its access time alone where the kernel allows (a dry run).
   */
  private async mismatch(path: Buffer, node: Node, noAtime: boolean): Promise<string | undefined> {
    const flags = FS.O_RDONLY | FS.O_NOFOLLOW;
    const fh = noAtime ? await openFile(path, flags | (FS.O_NOATIME ?? 0)).catch(() => openFile(path, flags)) : await openFile(path, flags);
    try {
      let offset = 0;
      for (const id of node.content ?? []) {
        const data = await this.repo.loadBlob('data', id);
        const cur = Buffer.alloc(data.length);
        const { bytesRead } = await fh.read(cur, 0, data.length, offset);
        if (bytesRead !== data.length || hashId(cur) !== id) return `bytes ${offset}–${offset + data.length} differ from blob ${id}`;
        offset += data.length;
      }
      if ((await fh.stat()).size !== offset) return `the file is longer than the snapshot's ${offset} bytes`;
      return undefined;
    } finally {
      await fh.close();
    }
  }

  /** Hard links, symlinks, FIFOs and devices. */
  private async special({ path, node, fresh }: Job): Promise<void> {
    this.checkAbort();
    try {
      const existing = fresh ? undefined : await lstatIfExists(path);
      if (existing !== undefined) {
        if (this.overwrite === 'never' || (this.overwrite === 'if-newer' && nsOf(node.mtime) <= existing.mtimeNs)) {
          this.counts.skipped++;
          this.act('skip', path, node.type);
          return;
        }
        // Already right (a re-run): a symlink with the same target, a hard link to the same
        // inode. Kept, its metadata set again, instead of deleted and made again.
        if (await this.sameSpecial(path, existing, node)) {
          this.act('unchanged', path, node.type);
          if (!this.dry && node.type === 'symlink') await this.metadata(path, node);
          this.counts.others++;
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
        if ((node.type === 'dev' || node.type === 'chardev') && !this.root) throw new CairnError('ERR_FILE_WRITE', 'device files can only be created by root');
        makeNode(path, unixModeOf(node), node.device ?? 0n);
      }
      await this.metadata(path, node);
      this.counts.others++;
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_INTERRUPTED') throw e;
      this.fail(e instanceof CairnError ? e.code : 'ERR_FILE_WRITE', path, `not restored: ${messageOf(e)}`);
    }
  }

  /** Whether `existing` at `path` already is the symlink or hard link `node` asks for. */
  private async sameSpecial(path: Buffer, existing: BigIntStats, node: Node): Promise<boolean> {
    if (node.type === 'symlink') return existing.isSymbolicLink() && (await readlink(path, { encoding: 'buffer' })).equals(node.linktarget ?? new Uint8Array(0));
    if (node.type !== 'file' || !existing.isFile()) return false;
    const g = this.linkGroups.get(linkKey(node)!);
    return g !== undefined && g.ok && (await lstatIfExists(g.path))?.ino === existing.ino;
  }
}

/**
 * `path` in a buffer of its own: a path kept to the end of the restore (directories, links)
 * would otherwise keep the whole 8 KiB slab of Node's buffer pool it was cut from.
 */
function own(path: Buffer): Buffer {
  const b = Buffer.alloc(path.length);
  b.set(path);
  return b;
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

/** lstat, or undefined when nothing is at `path`; other failures (EACCES, ELOOP…) throw. */
async function lstatIfExists(path: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Opens an existing file to compare and patch it. One its (non-root) owner may not write, such as
 * a file an earlier restore gave mode 0444, is first made writable through a read-only handle (no
 * symlink swapped in can redirect that), as restic resets permissions; its mode is set again
 * afterwards. Without this, re-running a restore as a user failed on every read-only file.
 * Undefined when the owner may not even read it: the caller replaces the file.
 */
async function openExisting(path: Buffer): Promise<FileHandle | undefined> {
  const denied = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'EACCES';
  try {
    return await openFile(path, FS.O_RDWR | FS.O_NOFOLLOW);
  } catch (e) {
    if (!denied(e)) throw e;
  }
  let ro: FileHandle;
  try {
    ro = await openFile(path, FS.O_RDONLY | FS.O_NOFOLLOW);
  } catch (e) {
    if (denied(e)) return undefined;
    throw e;
  }
  try {
    await ro.chmod(0o600);
  } finally {
    await ro.close();
  }
  return openFile(path, FS.O_RDWR | FS.O_NOFOLLOW);
}

/** Writes all of `data` at file offset `at` (a positional write may write less than asked). */
async function writeAll(fh: FileHandle, data: Uint8Array, at: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, at + done);
    if (bytesWritten === 0) throw new CairnError('ERR_FILE_WRITE', `a write at byte ${at + done} wrote nothing`);
    done += bytesWritten;
  }
}

/** The granularity of holes: the page and block size of every Linux file system in use. */
const HOLE_BLOCK = 4096;
const ZEROS = new Uint8Array(HOLE_BLOCK);

/**
 * Writes `data` at file offset `at`, leaving out every file-system block (aligned to the file, not
 * the blob) that is all zeros, so that it stays a hole in a file created empty. Content-defined
 * chunks rarely align with holes (a FastCDC chunk in a long zero run is max-sized and may start
 * with data), so holes are found block by block, not blob by blob.
 */
async function writeSparse(fh: FileHandle, data: Uint8Array, at: number): Promise<void> {
  let runStart = -1; // start (in data) of the current run of non-zero blocks
  let i = 0;
  while (i < data.length) {
    const end = Math.min(data.length, i + HOLE_BLOCK - ((at + i) % HOLE_BLOCK));
    const zero = Buffer.compare(data.subarray(i, end), ZEROS.subarray(0, end - i)) === 0;
    if (!zero && runStart < 0) runStart = i;
    if (zero && runStart >= 0) {
      await fh.write(data, runStart, i - runStart, at + runStart);
      runStart = -1;
    }
    i = end;
  }
  if (runStart >= 0) await fh.write(data, runStart, data.length - runStart, at + runStart);
}

/** Owner (as root), permissions (not on symlinks), times, extended attributes — restic's order. */
async function applyMetadata(path: Buffer, node: Node, root: boolean): Promise<void> {
  const symlinked = node.type === 'symlink';
  if (root) await (symlinked ? lchown : chown)(path, node.uid, node.gid);
  // A mode of 0 (a file no one may read) is omitted from the JSON: absent means 0, as in restic.
  if (!symlinked) await chmod(path, unixPermissions(node.mode ?? 0));
  try {
    setTimes(path, node.atime, node.mtime, false);
  } catch (e) {
    if (!(e instanceof CairnError && e.code === 'ERR_UNSUPPORTED')) throw e;
    // Without the native module: microseconds through Node's fs.
    await (symlinked ? lutimes : utimes)(path, timestampToSeconds(node.atime), timestampToSeconds(node.mtime));
  }
  if (node.extendedAttributes !== undefined && node.extendedAttributes.length > 0) writeXattrs(path, node.extendedAttributes);
}
