/**
 * Taking a snapshot: walk the given paths, store every file's chunks as data blobs and every
 * directory as a tree blob, bottom-up, then the snapshot. The root tree mirrors the paths as
 * restic 0.14 does: an absolute path by all its components, a relative one by its normalized
 * components without leading `..` (`.` puts the directory's entries at the root); intermediate
 * directories carry their real metadata.
 *
 * Everything restic 0.14 records is recorded: directories, files, symlinks (target bytes), hard
 * links (inode, device, link count), FIFOs, devices (rdev), sockets; permissions, owner, times to
 * the nanosecond, extended attributes. With a parent snapshot, a file whose type, size, mtime,
 * ctime and inode are unchanged (and whose blobs are all still indexed) is not read: its content
 * list is reused. An entry that cannot be read is a warning, never an abort: the snapshot is still
 * saved (and the CLI exits 3). A file that changes while it is read is reported.
 */
import { createHash } from 'node:crypto';
import { lstat, readlink, readFile } from 'node:fs/promises';
import { posix, resolve as resolvePath } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { CairnError, messageOf } from '../errors.js';
import { chunkFile, chunkStream, type ByteSource, type Chunker } from '../chunker/index.js';
import { displayPath, joinPath, nameKey, nativeAvailable, nodeFromStat, openForReading, readWhole, readXattrs, scanDir, type DirectoryScan, type NodeContent, type ScannedStats, type WholeRead } from '../fs/index.js';
import { hashId, type BlobId, type BlobType, type SnapshotId, type TreeId } from '../model/index.js';
import type { Snapshot } from '../snapshot/index.js';
import { createLimiter, type Progress } from '../util/index.js';
import { compareNames, decodeTree, encodeTree, localOffset, nowTime, sameEncoding, timestampFromNs, type Node } from '../tree/index.js';
import type { Selector } from './select.js';
import { ResumeJournal, type ResumeOptions } from './resume.js';
import type { DirCache, DirCacheEntry } from './dircache.js';

/** What the archiver needs from a repository. */
export interface ArchiverRepository {
  createChunker(): Chunker;
  hasBlob(type: BlobType, id: BlobId): boolean;
  /** Stores a blob; `plain` may be reused as soon as this returns (it is copied or sealed at once). */
  saveBlob(type: BlobType, id: BlobId, plain: Uint8Array): Promise<{ added: boolean; storedSize: number }>;
  /**
   * Stores the first `size` bytes of an open file as data blobs, the CPU work off this thread;
   * undefined when the repository cannot (then the archiver chunks and saves blob by blob).
   */
  storeFile?(fd: number, size: number, name: string, signal?: AbortSignal, lent?: Chunker, progress?: { bytesDone: number }): Promise<{ ids: BlobId[]; size: number; added: number; addedBytes: number; addedStored: number } | undefined>;
  loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array>;
  flush(): Promise<void>;
  saveSnapshot(s: Snapshot): Promise<SnapshotId>;
}

export interface ParentRef {
  readonly id: SnapshotId;
  readonly tree: TreeId;
}

export interface ArchiverWarning {
  /**
   * ERR_FILE_READ (could not read: the snapshot lacks it), SKIPPED (left out), CHANGED (changed
   * while read), DEGRADED (cairn runs without its native module: no extended attributes).
   * CHANGED and DEGRADED do not make the snapshot partial.
   */
  readonly code: 'ERR_FILE_READ' | 'SKIPPED' | 'CHANGED' | 'DEGRADED';
  readonly path: string;
  readonly message: string;
}

/** Whether a warning means the snapshot lacks something it should hold (exit code 3). */
function makesPartial(code: ArchiverWarning['code']): boolean {
  return code === 'ERR_FILE_READ' || code === 'SKIPPED';
}

export interface SnapshotOptions {
  /** Files and directories to back up; relative paths resolve against `cwd`. */
  readonly paths: readonly string[];
  /** @default process.cwd() */
  readonly cwd?: string;
  readonly tags?: readonly string[];
  readonly hostname?: string;
  readonly username?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Snapshot time. @default now */
  readonly time?: Snapshot['time'];
  /**
   * The snapshot to compare with (unchanged files are not read), or a function choosing it from
   * the absolute paths actually backed up (those that exist).
   */
  readonly parent?: ParentRef | ((paths: readonly string[]) => Promise<ParentRef | undefined>);
  /** Compare unchanged files without their ctime (restic's --ignore-ctime). */
  readonly ignoreCtime?: boolean;
  /** Compare unchanged files without their inode (restic's --ignore-inode). */
  readonly ignoreInode?: boolean;
  /** Recorded in the snapshot's `excludes` (restic records its command-line --exclude patterns). */
  readonly excludes?: readonly string[];
  /** Record each entry's real atime (restic's --with-atime); by default atime = mtime. */
  readonly withAtime?: boolean;
  /** What to leave out (patterns, caches, sizes, other file systems, .gitignore). */
  readonly selector?: Selector;
  /**
   * Keep a resume journal (see resume.ts): an interrupted run's next run takes the files it had
   * stored from it instead of reading them again. @default none
   */
  readonly resume?: ResumeOptions;
  /**
   * The directory cache (see dircache.ts): a directory whose scan matches an entry that names the
   * parent's tree of it takes that tree unread, and every directory recorded cleanly gets an
   * entry. `selection` describes `selector`'s settings (a cache keyed without them would serve a
   * tree selected otherwise); a selector that keeps a stack (.gitignore) gets no cache. The caller
   * opens the cache and saves it once the snapshot is saved. @default none
   */
  readonly dirs?: { readonly cache: DirCache; readonly selection: string };
  readonly signal?: AbortSignal;
  readonly onWarning?: (w: ArchiverWarning) => void;
  /**
   * Live counters to update (see util/progress.ts): files and bytes done, the files being read,
   * errors. Totals are filled by a separate low-priority scan of the paths (one directory at a
   * time, lstat only) when `scanSelector` says how to select, and stay -1 otherwise.
   * @default none
   */
  readonly progress?: Progress;
  /**
   * A second selector, equal to `selector` but its own instance (a selector keeps state while
   * directories are entered), for the totals scan. Without it, a run with a `selector` gets no
   * totals. Only read with `progress`. @default none
   */
  readonly scanSelector?: Selector;
}

/** restic's `backup --json` summary, plus the full snapshot ID and cairn's extra counts. */
export interface SnapshotSummary {
  readonly files_new: number;
  readonly files_changed: number;
  readonly files_unmodified: number;
  readonly dirs_new: number;
  readonly dirs_changed: number;
  readonly dirs_unmodified: number;
  readonly data_blobs: number;
  readonly tree_blobs: number;
  /** Plaintext bytes of the blobs this snapshot added, data and trees (restic's `data_added`). */
  readonly data_added: number;
  /** Bytes those blobs take in the repository, compressed and encrypted (restic 0.17's name). */
  readonly data_added_packed: number;
  readonly total_files_processed: number;
  readonly total_bytes_processed: number;
  readonly total_duration: number;
  readonly snapshot_id: SnapshotId;
  /** Entries that could not be read (each was reported). */
  readonly errors: number;
  /** Files that changed while they were read (each was reported; the snapshot holds what was read). */
  readonly files_changed_during_read: number;
}

/** A directory on the way to a backed-up path (or the path itself, when `target`). */
interface VirtualDir {
  path: Buffer;
  readonly children: Map<string, VirtualDir>;
  target: boolean;
}


/** The parent snapshot's version of a directory: its tree's ID, and its nodes by name. */
class ParentTree {
  constructor(
    readonly id: TreeId,
    /** In name order (decodeTree refuses a tree that is not). */
    readonly nodes: readonly Node[],
  ) {}

  /** The node named `name` (a binary search: no map of names, no string per name). */
  get(name: Uint8Array): Node | undefined {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareNames(this.nodes[mid]!.name, name);
      if (c === 0) return this.nodes[mid];
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }
}

type ParentDir = ParentTree | undefined;

/** A node's time as nanoseconds since the epoch (as a stat's `*timeNs`). */
const timeNs = (t: Node['mtime']): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);

/** The parent's node is of the same inode with the same ctime (nothing about it was changed since, content and xattrs included). */
const sameInodeAndCtime = (old: Node, st: BigIntStats): boolean => old.inode === st.ino && timeNs(old.ctime) === st.ctimeNs;

/** The parent snapshot's tree of the directory `old` was (undefined when it was none). */
const parentTreeOf = (old: Node | undefined): TreeId | undefined => (old?.type === 'dir' ? old.subtree : undefined);

const ENTRY_CONCURRENCY = 32;
/** Data blobs (and their bytes) handed to the repository but not stored yet: at most these. */
const STORING_BLOBS = 256;
const STORING_BYTES = 16 << 20;
const DIR_LOOKAHEAD = 4;
/** Entries of one directory started and not finished (see `directory`): at most these. */
const DIR_WINDOW = 2 * ENTRY_CONCURRENCY;
/**
 * Subdirectory visits that may run beside the walk (not awaited before the next sibling), across
 * the whole tree. Without them, every small directory costs the walk a wait for its files'
 * reads; with them, the walk stays bounded: a visit that finds no free slot runs in line.
 */
const DIR_CONCURRENCY = 8;
/** Files at least this large are stored through `storeFile` (worker threads) when the repository can. */
const LARGE_FILE = 4n << 20n;

/**
 * A directory listed ahead of its visit: names and their lstat, the parent's tree of it (unless
 * the directory cache had an entry for the scan: `hit`) and the scan's cache key; or why it could
 * not be listed.
 */
type DirRead =
  | { readonly error?: undefined; readonly scan: DirectoryScan; readonly parent: ParentDir; readonly key?: Buffer; readonly hit?: DirCacheEntry }
  | { readonly error: Error };

/** A file's content as the archiver found it. */
interface FileContent {
  readonly ids: readonly BlobId[];
  readonly size: number;
  readonly stat: BigIntStats;
}

/** Mutable counters of one snapshot run. */
function newCounts() {
  return {
    files_new: 0, files_changed: 0, files_unmodified: 0, dirs_new: 0, dirs_changed: 0, dirs_unmodified: 0,
    data_blobs: 0, tree_blobs: 0, data_added: 0, data_added_packed: 0, total_files_processed: 0, total_bytes_processed: 0, errors: 0, changed_during_read: 0,
  };
}
type Counts = ReturnType<typeof newCounts>;

/**
 * Whether `e` is the file's own failure (unreadable, vanished, shrank: a warning, the snapshot
 * goes on without it) rather than the repository's (storage, workers: the run ends).
 */
function isFileFailure(e: unknown): boolean {
  if (e instanceof CairnError) return e.code === 'ERR_FILE_READ';
  return typeof (e as { syscall?: unknown } | null)?.syscall === 'string';
}

/** Counts blobs this run added: how many, their plaintext bytes, and what they take stored. */
function countStored(counts: Counts, kind: 'data_blobs' | 'tree_blobs', blobs: number, plain: number, stored: number): void {
  counts[kind] += blobs;
  counts.data_added += plain;
  counts.data_added_packed += stored;
}

/** Counts one file the run processed, new, changed or unmodified (or `files` of them, of `size` bytes in all). */
function countFile(counts: Counts, kind: 'files_new' | 'files_changed' | 'files_unmodified', size: number, progress?: Progress, files = 1): void {
  counts[kind] += files;
  counts.total_files_processed += files;
  counts.total_bytes_processed += size;
  if (progress !== undefined) {
    progress.itemsDone += files;
    progress.bytesDone += size;
  }
}

/** The snapshot fields both kinds of snapshot take from their options as given. */
function ownerFields(options: Pick<SnapshotOptions, 'hostname' | 'username' | 'uid' | 'gid' | 'tags'>): Partial<Snapshot> {
  return {
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
    ...(options.tags !== undefined && options.tags.length > 0 ? { tags: [...options.tags] } : {}),
  };
}

/** Builds the virtual root from the paths as given (restic's naming rules, see the file comment). */
function virtualRoot(given: readonly string[], cwd: string): VirtualDir {
  const root: VirtualDir = { path: Buffer.from(resolvePath(cwd)), children: new Map(), target: false };
  for (const g of given) {
    const clean = posix.normalize(g);
    const parts = clean.split('/').filter((s) => s.length > 0 && s !== '.');
    const firstReal = parts.findIndex((s) => s !== '..');
    const ups = posix.isAbsolute(clean) ? 0 : firstReal === -1 ? parts.length : firstReal;
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
  return root;
}

export async function takeSnapshot(repo: ArchiverRepository, options: SnapshotOptions): Promise<SnapshotSummary> {
  const started = performance.now();
  if (options.paths.length === 0) throw new CairnError('ERR_USAGE', 'nothing to back up: give at least one path');
  const cwd = options.cwd ?? process.cwd();
  const counts = newCounts();
  const archiver = new Walk(repo, options, counts);
  if (!nativeAvailable()) {
    archiver.warn('DEGRADED', 'cairn', "cairn's native module is not built: extended attributes are not backed up; run `npm run build:native`");
  }
  // A path that is not there is skipped with a warning (restic skips it too); none left is fatal.
  const given: string[] = [];
  const missing: string[] = [];
  for (const g of options.paths) {
    const abs = resolvePath(cwd, g);
    try {
      await lstat(abs);
      given.push(g);
    } catch (e) {
      missing.push(`${abs} (${messageOf(e)})`);
      archiver.warn('ERR_FILE_READ', abs, `cannot back up: ${messageOf(e)}; skipped`);
    }
  }
  if (given.length === 0) {
    throw new CairnError('ERR_FILE_READ', `nothing to back up: ${missing.join(', ')}; check the paths`, { data: { paths: options.paths } });
  }
  const paths = [...new Set(given.map((p) => resolvePath(cwd, p)))].sort();
  const parent = typeof options.parent === 'function' ? await options.parent(paths) : options.parent;
  const journal = options.resume === undefined ? undefined : await ResumeJournal.open(options.resume, options.hostname ?? '', paths, (m) => archiver.warn('DEGRADED', 'resume journal', m));
  archiver.journal = journal;
  const scan = options.progress === undefined ? undefined : scanTotals(options, paths, options.progress);
  let tree: TreeId;
  try {
    tree = await archiver.virtual(virtualRoot(given, cwd), parent?.tree);
    archiver.checkAbort();
    await archiver.drain();
    await repo.flush();
    // Interrupted while the last packs were stored: no snapshot (what is stored is indexed, and
    // reused next time), as for an interruption at any earlier point.
    archiver.checkAbort();
  } catch (e) {
    await archiver.settle(e);
    await journal?.keep();
    throw e;
  } finally {
    scan?.stop();
  }
  const snapshot: Snapshot = {
    time: options.time ?? nowTime(),
    ...(parent !== undefined ? { parent: parent.id } : {}),
    tree,
    paths,
    ...ownerFields(options),
    ...(options.excludes !== undefined && options.excludes.length > 0 ? { excludes: [...options.excludes] } : {}),
  };
  const id = await repo.saveSnapshot(snapshot);
  await journal?.remove();
  return summarize(counts, started, id);
}

/**
 * Counts the files and bytes the snapshot will cover into `progress.itemsTotal`/`bytesTotal` (as
 * restic's scanner does), one directory at a time so that it never competes much with the
 * walk; lstat only, the same selection, warnings dropped (the walk reports them). Sets the
 * totals only when the scan finishes; `stop()` ends it early (the totals then stay unknown).
 */
function scanTotals(options: SnapshotOptions, paths: readonly string[], progress: Progress): { stop(): void } {
  const sel = options.selector === undefined ? undefined : (options.scanSelector ?? null);
  if (sel === null) return { stop: () => undefined };
  let stopped = false;
  let files = 0;
  let bytes = 0;
  const halted = (): boolean => stopped || options.signal?.aborted === true;
  // Only an estimate for the status line: what cannot be read here is reported by the walk itself.
  const visit = async (path: Buffer, st: BigIntStats, rootDevice: bigint): Promise<void> => {
    if (halted()) return;
    if (sel !== undefined && (await sel.excludes(path, st))) return;
    if (st.isFile()) {
      files++;
      bytes += Number(st.size);
      return;
    }
    if (!st.isDirectory() || (sel?.oneFileSystem === true && st.dev !== rootDevice)) return;
    let scan;
    try {
      // Sizes only: no entry is asked for its extended attributes.
      scan = await scanDir(path, { xattrs: false });
    } catch {
      return;
    }
    const scope = sel === undefined ? undefined : await sel.enter(path, scan.names, () => undefined);
    try {
      const keep = scope?.keepOnly === undefined ? undefined : new Set(scope.keepOnly.map(nameKey));
      for (let i = 0; i < scan.names.length; i++) {
        const n = scan.names[i]!;
        const child = scan.stat(i);
        if (child instanceof Error || (keep !== undefined && !keep.has(nameKey(n)))) continue;
        await visit(joinPath(path, n), child, rootDevice);
      }
    } finally {
      if (scope?.entered === true) sel!.leave(path);
    }
  };
  void (async () => {
    for (const p of paths) {
      const path = Buffer.from(p);
      const st = await lstat(path, { bigint: true });
      await visit(path, st, st.dev);
    }
    if (!halted()) {
      progress.itemsTotal = files;
      progress.bytesTotal = bytes;
    }
  })().catch(() => undefined); // no totals then (see above); the walk reports the failure
  return { stop: () => void (stopped = true) };
}

function summarize(counts: Counts, started: number, id: SnapshotId): SnapshotSummary {
  const { changed_during_read, ...rest } = counts;
  return { ...rest, total_duration: (performance.now() - started) / 1000, snapshot_id: id, files_changed_during_read: changed_during_read };
}

/**
 * Work of one directory started beside the walk and not finished (at most DIR_WINDOW at once):
 * the directory's loop waits for a free place instead of queueing every entry of a wide directory
 * (18,000 in /usr/share/man/man1) with its promise and closure at once. A rejection is fatal
 * (what a file or directory cannot give is a warning, not an error): `stop` stops the whole walk
 * at once, not when this directory's loop gets to it.
 */
class Window {
  private started = 0;
  failure: { readonly error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly running: Set<Promise<unknown>>,
    private readonly stop: (error: unknown) => void,
  ) {}

  private free(): Promise<void> {
    return new Promise<void>((go) => (this.wake = go));
  }

  /** Waits for a free place; false once something failed (the loop must stop starting work). */
  async room(): Promise<boolean> {
    while (this.started >= DIR_WINDOW) await this.free();
    return this.failure === undefined;
  }

  run(p: Promise<void>): void {
    this.started++;
    this.running.add(p);
    p.catch((e: unknown) => {
      this.failure ??= { error: e };
      this.stop(e);
    }).finally(() => {
      this.running.delete(p);
      this.started--;
      const go = this.wake;
      this.wake = undefined;
      go?.();
    });
  }

  /**
   * Waits for everything started; throws the first failure. Listings made ahead (`ahead`) for
   * subdirectories the loop no longer visits then have nobody waiting for them.
   */
  async finish(ahead: Iterable<Promise<unknown>>): Promise<void> {
    while (this.started > 0) await this.free();
    if (this.failure === undefined) return;
    for (const a of ahead) void a.catch(() => undefined);
    throw this.failure.error;
  }
}

/**
 * Listings of a directory's subdirectories made ahead of their visits: taking the `j`th (of
 * `count`, in visiting order) starts those of the next DIR_LOOKAHEAD, so that a visit rarely waits
 * for the disk.
 */
class ReadAhead {
  private readonly reads = new Map<number, Promise<DirRead>>();

  constructor(
    private readonly count: number,
    private readonly read: (j: number) => Promise<DirRead>,
  ) {}

  /** The `j`th listing when it was made ahead (undefined: the visit makes it). */
  take(j: number): Promise<DirRead> | undefined {
    for (let k = j + 1; k < Math.min(this.count, j + 1 + DIR_LOOKAHEAD); k++) if (!this.reads.has(k)) this.reads.set(k, this.read(k));
    const r = this.reads.get(j);
    this.reads.delete(j);
    return r;
  }

  /** Listings made and not taken (a loop that stopped early). */
  left(): Iterable<Promise<DirRead>> {
    return this.reads.values();
  }
}

/**
 * The local zone as the times in trees show it: TZ and the offset in January and July of every
 * year from 1970 to 2040 (Intl's zone name would cost ~10 ms to learn).
 */
function zoneOffsets(): string {
  const offsets: number[] = [];
  for (let year = 1970; year <= 2040; year++) offsets.push(localOffset(Date.UTC(year, 0, 15) / 1000), localOffset(Date.UTC(year, 6, 15) / 1000));
  return `${process.env['TZ'] ?? ''} ${offsets.join(',')}`;
}

/** One snapshot's walk over the file system. */
class Walk {
  private readonly chunker: Chunker;
  /** Non-directory entries in flight, across directories. */
  private readonly entries = createLimiter(ENTRY_CONCURRENCY);
  /** The chunker serves one file at a time. */
  private readonly chunking = createLimiter(1);
  /** Subdirectory visits running beside the walk (at most DIR_CONCURRENCY). */
  private dirsBeside = 0;
  /**
   * Data blobs handed to the repository and not stored yet: a file is done once its blobs are
   * hashed and handed over, so the walk goes on while the workers compress and seal. Bounded by
   * STORING_BLOBS / STORING_BYTES; `drain` waits for all of them (before the snapshot is saved)
   * and throws the first failure.
   */
  private readonly storing = new Set<Promise<void>>();
  private storingBytes = 0;
  private storeFailure: unknown;
  /** Content of files with several links, by device:inode, read once per run. */
  private readonly hardLinks = new Map<string, { content: readonly BlobId[]; size: number; mtime: bigint; ctime: bigint }>();
  /** The resume journal, when the snapshot keeps one. */
  journal: ResumeJournal | undefined;
  /** Warnings so far (a directory is cached only when none came while it was visited). */
  private warnings = 0;
  /** The directory cache, when the walk uses it, and what every key starts with (the run's options). */
  private readonly dirs: { readonly cache: DirCache; readonly base: Buffer } | undefined;

  constructor(
    private readonly repo: ArchiverRepository,
    private readonly options: SnapshotOptions,
    private readonly counts: Counts,
  ) {
    this.chunker = repo.createChunker();
    const dirs = options.dirs;
    const usable = dirs !== undefined && options.selector?.inOrder !== true && nativeAvailable();
    this.dirs = !usable ? undefined : { cache: dirs.cache, base: createHash('sha256').update(JSON.stringify({
      // Everything else that decides a directory's tree besides its entries: how the selection
      // is made, how files are compared, whether atimes are recorded, and the zone times are in.
      selection: dirs.selection,
      ignoreCtime: options.ignoreCtime === true,
      ignoreInode: options.ignoreInode === true,
      withAtime: options.withAtime === true,
      zone: zoneOffsets(),
    })).digest() };
  }

  /** The first failure, once the walk has stopped: what is still running gives up at its next step. */
  private stopped: { readonly error: unknown } | undefined;
  /** Subdirectory visits and file entries running beside the walk (see `directory`). */
  private readonly running = new Set<Promise<unknown>>();

  checkAbort(): void {
    if (this.stopped !== undefined) throw this.stopped.error;
    if (this.options.signal?.aborted) throw new CairnError('ERR_INTERRUPTED', 'the snapshot was interrupted; nothing was saved as a snapshot (stored blobs are reused next time)');
  }

  warn(code: ArchiverWarning['code'], path: Uint8Array | string, message: string): void {
    this.warnings++;
    if (makesPartial(code)) {
      this.counts.errors++;
      if (this.options.progress !== undefined) this.options.progress.errors++;
    }
    this.options.onWarning?.({ code, path: displayPath(path), message });
  }

  /** The parent's tree as a name → node map (undefined without one, or when it cannot be read). */
  async parentDir(tree: TreeId | undefined): Promise<ParentDir> {
    if (tree === undefined) return undefined;
    try {
      return new ParentTree(tree, decodeTree(await this.repo.loadBlob('tree', tree), `parent tree ${tree}`).nodes);
    } catch (e) {
      // A damaged parent only costs speed: everything below is read again.
      this.warnings++;
      this.options.onWarning?.({ code: 'ERR_FILE_READ', path: `tree ${tree}`, message: `parent snapshot's tree cannot be read, files below are read again: ${messageOf(e)}` });
      return undefined;
    }
  }

  async saveTree(nodes: Node[]): Promise<TreeId> {
    nodes.sort((a, b) => compareNames(a.name, b.name));
    const bytes = encodeTree({ nodes });
    const id = hashId(bytes);
    const saved = await this.repo.saveBlob('tree', id, bytes);
    if (saved.added) countStored(this.counts, 'tree_blobs', 1, bytes.length, saved.storedSize);
    return id;
  }

  /** The tree of a virtual directory: its children, each virtual or a real target. `parentId`: the parent's tree of it. */
  async virtual(dir: VirtualDir, parentId: TreeId | undefined): Promise<TreeId> {
    if (dir.target) {
      const st = await lstat(dir.path, { bigint: true });
      const id = await this.directory(dir.path, st, this.readDir(dir.path, parentId, st.dev));
      if (id === undefined) throw new CairnError('ERR_FILE_READ', `cannot back up ${displayPath(dir.path)}: it cannot be listed`);
      return id;
    }
    const parent = await this.parentDir(parentId);
    const nodes: Node[] = [];
    for (const [part, child] of [...dir.children].sort((a, b) => compareNames(Buffer.from(a[0]), Buffer.from(b[0])))) {
      const name = Buffer.from(part);
      const old = parent?.get(name);
      if (child.target) {
        const node = await this.entry(child.path, name, old, await this.deviceOf(child.path));
        if (node !== undefined) nodes.push(node);
        continue;
      }
      const st = await lstat(child.path, { bigint: true });
      const subtree = await this.virtual(child, parentTreeOf(old));
      nodes.push(this.node(child.path, name, st, { subtree }));
    }
    return this.saveTree(nodes);
  }

  private async deviceOf(path: Buffer): Promise<bigint> {
    return (await lstat(path, { bigint: true })).dev;
  }

  /**
   * The node for the entry at `path`, or undefined when it is left out or cannot be read. `stat`
   * is its lstat result when already known (or the error lstat gave).
   */
  private async entry(path: Buffer, name: Uint8Array, old: Node | undefined, rootDevice: bigint, stat?: BigIntStats | Error, read?: Promise<DirRead>): Promise<Node | undefined> {
    this.checkAbort();
    let st: BigIntStats;
    try {
      if (stat instanceof Error) throw stat;
      st = stat ?? (await lstat(path, { bigint: true }));
    } catch (e) {
      this.warn('ERR_FILE_READ', path, `cannot stat: ${messageOf(e)}`);
      return undefined;
    }
    const sel = this.options.selector;
    const isDir = st.isDirectory();
    if (sel !== undefined && (await sel.excludes(path, st))) return undefined;
    if (isDir) {
      const subtree = await this.subdirTree(path, st, parentTreeOf(old), rootDevice, read);
      if (subtree === undefined) return undefined;
      this.countDir(old, subtree);
      return this.node(path, name, st, { subtree }, old);
    }
    if (st.isFile()) {
      const content = await this.file(path, st, old);
      if (content === undefined) return undefined;
      return this.node(path, name, content.stat, { content: content.ids, size: content.size }, old);
    }
    if (st.isSymbolicLink()) {
      // A symlink's target cannot change without a new inode or ctime: the same inode, length,
      // mtime and ctime as in the parent snapshot mean the same target (no readlink needed).
      if (
        old?.type === 'symlink' && old.linktarget !== undefined && BigInt(old.linktarget.length) === st.size &&
        sameInodeAndCtime(old, st) && timeNs(old.mtime) === st.mtimeNs
      ) {
        return this.node(path, name, st, { linktarget: old.linktarget }, old);
      }
      try {
        return this.node(path, name, st, { linktarget: await readlink(path, { encoding: 'buffer' }) }, old);
      } catch (e) {
        this.warn('ERR_FILE_READ', path, `cannot read the link: ${messageOf(e)}`);
        return undefined;
      }
    }
    // FIFOs, devices, sockets: metadata only (restic records sockets and skips them on restore).
    return this.node(path, name, st, {}, old);
  }

  /**
   * The tree of the subdirectory at `path` (selected already), or undefined when it cannot be
   * listed. `parentId`: the parent's tree of it; `read`: its listing when made ahead.
   */
  private subdirTree(path: Buffer, st: BigIntStats, parentId: TreeId | undefined, rootDevice: bigint, read?: Promise<DirRead>): Promise<TreeId | undefined> {
    // Another file system: recorded as an empty directory, not entered.
    if (this.options.selector?.oneFileSystem === true && st.dev !== rootDevice) return this.saveTree([]);
    return this.directory(path, st, read ?? this.readDir(path, parentId, rootDevice), rootDevice);
  }

  private countDir(old: Node | undefined, subtree: TreeId | undefined): void {
    if (old?.type !== 'dir') this.counts.dirs_new++;
    else if (subtree !== undefined && old.subtree === subtree) this.counts.dirs_unmodified++;
    else this.counts.dirs_changed++;
  }

  /**
   * What a visit of the directory at `path` needs before it can build nodes: its entries' names
   * (sorted), their lstat results, and the parent snapshot's tree of it (`parentId`, read) — unless
   * the directory cache has an entry for the scan that names that very tree (`hit`: the tree is
   * not read). Read ahead of the visit for the next few subdirectories (see `directory`); failures
   * are values, reported on visit. With a parent tree the scan does not ask each entry for its
   * extended attributes: an entry the parent has with the same ctime has the parent's
   * (`scannedGives`), and any other has them read when its node is built.
   */
  private async readDir(path: Buffer, parentId: TreeId | undefined, rootDevice: bigint): Promise<DirRead> {
    // Without the directory cache, the parent's tree is read while the directory is scanned.
    const early = this.dirs === undefined ? this.parentDir(parentId) : undefined;
    let scan;
    try {
      // Names sorted by bytes (compareNames' order), each with its lstat; natively one job.
      scan = await scanDir(path, { xattrs: parentId === undefined });
    } catch (e) {
      return { error: e instanceof Error ? e : new Error(String(e)) };
    }
    const key = this.dirKey(path, scan, rootDevice);
    if (key !== undefined && parentId !== undefined) {
      const hit = this.dirs!.cache.get(key);
      if (hit !== undefined && hit.tree === parentId && this.repo.hasBlob('tree', parentId)) return { scan, parent: undefined, key, hit };
    }
    return { scan, parent: await (early ?? this.parentDir(parentId)), ...(key !== undefined ? { key } : {}) };
  }

  /** The directory cache's key for a scan of `path` (undefined when the cache is not used). */
  private dirKey(path: Buffer, scan: DirectoryScan, rootDevice: bigint): Buffer | undefined {
    if (this.dirs === undefined || scan.fingerprint === undefined) return undefined;
    // The run's options, the device --one-file-system compares with, the path (patterns match it).
    const { base } = this.dirs;
    const head = Buffer.allocUnsafe(base.length + 12 + path.length);
    base.copy(head);
    head.writeBigUInt64LE(BigInt.asUintN(64, rootDevice), base.length);
    head.writeUInt32LE(path.length, base.length + 8);
    head.set(path, base.length + 12);
    return scan.fingerprint(head, this.options.withAtime === true);
  }

  /**
   * The tree of the directory at `path`. With a directory-cache hit, its subdirectories are
   * visited first: when each gives the tree the entry names for it, the entry's tree is the
   * directory's (its files and links are not looked at: the scan says they are as recorded);
   * otherwise the parent's tree is read and the directory visited as usual, its subdirectories'
   * trees known already.
   */
  private async directory(path: Buffer, st: BigIntStats, read: Promise<DirRead>, rootDevice = st.dev): Promise<TreeId | undefined> {
    const r = await read;
    if (r.error !== undefined) {
      this.warn('ERR_FILE_READ', path, `cannot list directory: ${messageOf(r.error)}`);
      return undefined;
    }
    const { scan, key, hit } = r;
    const warnings = this.warnings;
    let parent = r.parent;
    let known: Map<number, TreeId | undefined> | undefined;
    if (hit !== undefined) {
      const subtrees = await this.subtrees(path, scan, hit, rootDevice);
      if (subtrees.every((id, k) => id === hit.subtrees[k])) {
        countFile(this.counts, 'files_unmodified', hit.bytes, this.options.progress, hit.files);
        this.counts.dirs_unmodified += subtrees.length;
        return hit.tree;
      }
      known = new Map(hit.rows.map((row, k) => [row, subtrees[k]]));
      parent = await this.parentDir(hit.tree);
    }
    const names = scan.names;
    const sel = this.options.selector;
    const scope = sel === undefined ? undefined : await sel.enter(path, names, (p, message) => this.warn('ERR_FILE_READ', p, message));
    try {
      const keep = scope?.keepOnly === undefined ? undefined : new Set(scope.keepOnly.map(nameKey));
      const chosen = names.map((_, i) => i).filter((i) => keep === undefined || keep.has(nameKey(names[i]!)));
      // Subdirectories are visited in order (some beside the walk: visitSubdir), each listed ahead
      // of its visit (ReadAhead); those a directory-cache hit visited already are not again.
      const subdirs = chosen.filter((i) => scan.isDirectory(i) && known?.has(i) !== true);
      const ahead = new ReadAhead(subdirs.length, (j) => {
        const n = names[subdirs[j]!]!;
        return this.readDir(joinPath(path, n), parentTreeOf(parent?.get(n)), rootDevice);
      });
      let nextSubdir = 0;
      // Files, links and the like are read several at once (a small file costs four round trips
      // to libuv's threads: open, read, fstat, close). Each result goes into its slot of `nodes`,
      // which keeps their sorted order.
      const nodes = new Array<Node | undefined>(chosen.length);
      const window = this.window();
      for (let slot = 0; slot < chosen.length; slot++) {
        if (!(await window.room())) break;
        const i = chosen[slot]!;
        const n = names[i]!;
        const isDir = scan.isDirectory(i);
        const old = parent?.get(n);
        // The parent's node, when the entry's stat says it would be recorded exactly so: taken as
        // it is, without a stat object, a node, or a trip through the entry limiter.
        if (!isDir && old !== undefined && this.options.withAtime !== true && scan.gives(i, old) && this.indexed(old)) {
          this.checkAbort();
          if (sel !== undefined && (await sel.excludes(joinPath(path, n), scan.stat(i) as ScannedStats))) continue;
          if (old.type === 'file') countFile(this.counts, 'files_unmodified', old.size ?? 0, this.options.progress);
          nodes[slot] = old;
          continue;
        }
        const st = scan.stat(i);
        if (isDir && known?.has(i) === true) {
          // Visited already (a directory-cache hit whose subdirectories did not all match).
          if (st instanceof Error) throw st; // the scan's digest says it is the directory it was
          const subtree = known.get(i);
          if (subtree === undefined) continue;
          this.countDir(old, subtree);
          nodes[slot] = this.node(joinPath(path, n), n, st, { subtree }, old);
          continue;
        }
        if (isDir) {
          const read = ahead.take(nextSubdir++);
          await this.visitSubdir(window, () => this.entry(joinPath(path, n), n, old, rootDevice, st, read), (node) => void (nodes[slot] = node));
        } else {
          window.run(this.entries(() => this.entry(joinPath(path, n), n, old, rootDevice, st)).then((node) => void (nodes[slot] = node)));
        }
      }
      await window.finish(ahead.left());
      const kept = nodes.filter((node): node is Node => node !== undefined);
      // Every node as the parent has it (both in name order): the parent's tree is this tree
      // (encoding and hashing it again would give its ID), and it is stored already.
      const same = parent !== undefined && kept.length === parent.nodes.length && kept.every((n, i) => n === parent!.nodes[i] || sameEncoding(n, parent!.nodes[i]!)) && this.repo.hasBlob('tree', parent.id);
      const id = same ? parent!.id : await this.saveTree(kept);
      if (key !== undefined && this.warnings === warnings) this.cacheDir(key, id, nodes, chosen);
      return id;
    } finally {
      if (scope?.entered === true) sel!.leave(path);
    }
  }

  /**
   * The trees of a directory-cache hit's subdirectories (undefined for one that cannot be listed),
   * each visited as the usual loop visits subdirectories: in order, listed ahead, some beside.
   */
  private async subtrees(path: Buffer, scan: DirectoryScan, hit: DirCacheEntry, rootDevice: bigint): Promise<Array<TreeId | undefined>> {
    const ids = new Array<TreeId | undefined>(hit.rows.length);
    const ahead = new ReadAhead(hit.rows.length, (j) => this.readDir(joinPath(path, scan.name(hit.rows[j]!)), hit.subtrees[j], rootDevice));
    const window = this.window();
    for (let k = 0; k < hit.rows.length; k++) {
      if (!(await window.room())) break;
      this.checkAbort();
      const read = ahead.take(k);
      const i = hit.rows[k]!;
      const st = scan.stat(i);
      if (st instanceof Error) throw st; // the scan's digest says it is the directory it was
      await this.visitSubdir(window, () => this.subdirTree(joinPath(path, scan.name(i)), st, hit.subtrees[k], rootDevice, read), (id) => void (ids[k] = id));
    }
    await window.finish(ahead.left());
    return ids;
  }

  /**
   * Runs a subdirectory's visit beside the walk while fewer than DIR_CONCURRENCY do (across the
   * whole tree), else in line, so that the walk stays bounded however wide or deep the tree; a
   * selector that keeps a stack (.gitignore) gets every visit in line. `done` takes the result.
   */
  private async visitSubdir<T>(window: Window, visit: () => Promise<T>, done: (result: T) => void): Promise<void> {
    if (this.options.selector?.inOrder === true || this.dirsBeside >= DIR_CONCURRENCY) {
      done(await visit());
      return;
    }
    this.dirsBeside++;
    window.run(visit().then(done).finally(() => this.dirsBeside--));
  }

  /** Records a directory visited without a warning: its tree `id`, built from `nodes` (scan rows `rows`, slot by slot). */
  private cacheDir(key: Buffer, id: TreeId, nodes: ReadonlyArray<Node | undefined>, rows: readonly number[]): void {
    const dirRows: number[] = [];
    const subtrees: TreeId[] = [];
    let files = 0;
    let bytes = 0;
    for (let slot = 0; slot < nodes.length; slot++) {
      const node = nodes[slot];
      if (node?.type === 'dir' && node.subtree !== undefined) {
        dirRows.push(rows[slot]!);
        subtrees.push(node.subtree);
      } else if (node?.type === 'file') {
        files++;
        bytes += node.size ?? 0;
      }
    }
    this.dirs!.cache.set(key, { tree: id, files, bytes, rows: dirRows, subtrees });
  }

  private window(): Window {
    return new Window(this.running, (e) => void (this.stopped ??= { error: e }));
  }

  /**
   * The node for an entry from its lstat, with its extended attributes (when the file system has
   * any). atime is recorded as mtime unless `withAtime`, as restic does: atimes change on every
   * read and would otherwise make every tree new.
   */
  private node(path: Buffer, name: Uint8Array, st: BigIntStats, content: NodeContent, old?: Node): Node {
    const plain = nodeFromStat(name, st, content);
    const node = this.options.withAtime === true ? { ...plain, atime: timestampFromNs(st.atimeNs) } : plain;
    // A directory scan already asked whether the entry has any (most have none).
    const known = (st as ScannedStats).hasXattrs;
    if (known === false) return node;
    // A scan with a parent tree did not ask: the parent's node of the same inode and ctime has
    // them (setting or removing one moves the ctime).
    if (known === undefined && old !== undefined && old.type === node.type && sameInodeAndCtime(old, st)) {
      const xattrs = old.extendedAttributes ?? [];
      return xattrs.length > 0 ? { ...node, extendedAttributes: xattrs } : node;
    }
    try {
      const xattrs = readXattrs(path);
      return xattrs.length > 0 ? { ...node, extendedAttributes: xattrs } : node;
    } catch (e) {
      this.warn('ERR_FILE_READ', path, `cannot read extended attributes: ${messageOf(e)}`);
      return node;
    }
  }

  /** A file's content: reused from the parent when unchanged, else read, chunked and stored. */
  private async file(path: Buffer, st: BigIntStats, old: Node | undefined): Promise<FileContent | undefined> {
    if (old?.type === 'file' && this.unchanged(old, st)) {
      countFile(this.counts, 'files_unmodified', old.size ?? 0, this.options.progress);
      return { ids: old.content ?? [], size: old.size ?? 0, stat: st };
    }
    const linkKey = st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
    const known = linkKey === undefined ? undefined : this.hardLinks.get(linkKey);
    if (known !== undefined && known.mtime === st.mtimeNs && known.ctime === st.ctimeNs && BigInt(known.size) === st.size) {
      countFile(this.counts, old?.type === 'file' ? 'files_changed' : 'files_new', known.size, this.options.progress);
      return { ids: known.content, size: known.size, stat: st };
    }
    const stored = this.journal?.lookup(path);
    if (stored !== undefined && this.sameFile(stored.size, stored.mtime, stored.ctime, stored.ino, st) && stored.ids.every((id) => this.repo.hasBlob('data', id))) {
      // Stored by an interrupted run (see resume.ts); recorded again in case this one is interrupted too.
      countFile(this.counts, old?.type === 'file' ? 'files_changed' : 'files_new', Number(stored.size), this.options.progress);
      this.journal!.record(path, st, stored.ids);
      return { ids: stored.ids, size: Number(stored.size), stat: st };
    }
    if (st.size < BigInt(this.chunker.minSize)) return this.smallFile(path, st, old, linkKey);
    let fh;
    try {
      fh = await openForReading(path);
    } catch (e) {
      this.warn('ERR_FILE_READ', path, `cannot open: ${messageOf(e)}`);
      return undefined;
    }
    const progress = this.options.progress;
    progress?.current.add(path);
    // Bytes of this file counted into progress chunk by chunk while it is read; taken back at the
    // end, when countFile counts the file whole (or not at all, when it fails).
    let live = 0;
    const counter = progress === undefined ? undefined : {
      get bytesDone(): number {
        return live;
      },
      set bytesDone(v: number) {
        progress.bytesDone += v - live;
        live = v;
      },
    };
    try {
      const ids: BlobId[] = [];
      let size = 0;
      await this.chunking(async () => {
        // A large file: chunked, hashed, compressed and sealed on worker threads (both cores).
        const stored = st.size >= LARGE_FILE && this.repo.storeFile !== undefined ? await this.repo.storeFile(fh.fd, Number(st.size), displayPath(path), this.options.signal, this.chunker, counter) : undefined;
        if (stored !== undefined) {
          this.checkAbort();
          ids.push(...stored.ids);
          size = stored.size;
          countStored(this.counts, 'data_blobs', stored.added, stored.addedBytes, stored.addedStored);
          return;
        }
        for await (const c of chunkFile(this.chunker, fh.fd, { size: Number(st.size), name: displayPath(path) })) {
          this.checkAbort();
          ids.push(await this.storeChunk(c.data));
          size += c.length;
          if (counter !== undefined) counter.bytesDone += c.length;
        }
      });
      return this.wasRead(path, st, await fh.stat({ bigint: true }), old, linkKey, ids, size);
    } catch (e) {
      if (!isFileFailure(e)) throw e;
      this.warn('ERR_FILE_READ', path, `cannot read: ${messageOf(e)}`);
      return undefined;
    } finally {
      if (progress !== undefined) {
        progress.current.delete(path);
        progress.bytesDone -= live;
      }
      await fh.close();
    }
  }

  /**
   * A file shorter than the smallest chunk: one blob whatever the chunker (no cut can fall
   * inside), so no chunker is needed and small files need not wait for one. Opened, read, stat-ed
   * and closed in one go (one thread-pool job with the addon); the stat after the read tells
   * whether it changed meanwhile.
   */
  private async smallFile(path: Buffer, st: BigIntStats, old: Node | undefined, linkKey: string | undefined): Promise<FileContent | undefined> {
    let read: WholeRead;
    try {
      read = await readWhole(path, Number(st.size));
    } catch (e) {
      const opening = (e as NodeJS.ErrnoException | undefined)?.syscall === 'open';
      this.warn('ERR_FILE_READ', path, `cannot ${opening ? 'open' : 'read'}: ${messageOf(e)}`);
      return undefined;
    }
    try {
      const { data, stat: after } = read;
      const size = data.length;
      // The read's memory goes back as soon as the bytes are hashed and copied (saveBlob's
      // contract), not after storeChunk's wait for room among the blobs in flight.
      const ids = size > 0 ? [await this.storeChunk(data, () => read.release())] : [];
      return this.wasRead(path, st, after, old, linkKey, ids, size);
    } catch (e) {
      if (!isFileFailure(e)) throw e;
      this.warn('ERR_FILE_READ', path, `cannot read: ${messageOf(e)}`);
      return undefined;
    } finally {
      read.release(); // an empty file, or a failure before storeChunk (releasing twice is harmless)
    }
  }

  /**
   * Bookkeeping once a file's `size` bytes were read and stored as `ids`: a warning when its stat
   * after the read (`after`) differs from the one before (`st`), the counts, the hard-link cache.
   */
  private wasRead(path: Buffer, st: BigIntStats, after: BigIntStats, old: Node | undefined, linkKey: string | undefined, ids: readonly BlobId[], size: number): FileContent {
    if (after.size !== st.size || after.mtimeNs !== st.mtimeNs || after.ctimeNs !== st.ctimeNs) {
      this.counts.changed_during_read++;
      this.warn('CHANGED', path, `changed while it was read (size ${st.size} → ${after.size}); the snapshot holds the ${size} bytes read`);
    }
    else this.journal?.record(path, st, ids);
    countFile(this.counts, old?.type === 'file' ? 'files_changed' : 'files_new', size, this.options.progress);
    if (linkKey !== undefined) this.hardLinks.set(linkKey, { content: ids, size, mtime: st.mtimeNs, ctime: st.ctimeNs });
    return { ids, size, stat: BigInt(size) === st.size ? st : ({ ...st, size: BigInt(size) } as BigIntStats) };
  }

  /**
   * Hashes `data` and hands it to the repository; resolves to its ID once the blobs in flight are
   * within bounds. `handedOver` runs as soon as `data` is no longer needed (the repository copies
   * it before saveBlob returns), before any wait — also when this throws.
   */
  async storeChunk(data: Uint8Array, handedOver?: () => void): Promise<BlobId> {
    let id: BlobId;
    let saving: Promise<{ added: boolean; storedSize: number }>;
    try {
      id = hashId(data);
      this.checkStored();
      saving = this.repo.saveBlob('data', id, data);
    } finally {
      handedOver?.();
    }
    const n = data.length;
    const p: Promise<void> = saving.then(
      (r) => {
        if (r.added) countStored(this.counts, 'data_blobs', 1, n, r.storedSize);
      },
      (e: unknown) => {
        this.storeFailure ??= e;
      },
    ).finally(() => {
      this.storing.delete(p);
      this.storingBytes -= n;
    });
    this.storing.add(p);
    this.storingBytes += n;
    while (this.storing.size > STORING_BLOBS || this.storingBytes > STORING_BYTES) await Promise.race(this.storing);
    this.checkStored();
    return id;
  }

  /**
   * After a failure (`error`): stops the walk — every visit and file entry still running beside it
   * gives up at its next step — and waits until nothing it started is running or storing, so that
   * no file is read and nothing is written to the repository once the snapshot has failed.
   */
  async settle(error: unknown): Promise<void> {
    this.stopped ??= { error };
    while (this.running.size > 0 || this.storing.size > 0) await Promise.allSettled([...this.running, ...this.storing]);
  }

  /** Waits until every data blob handed over is stored; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.storing);
    this.checkStored();
  }

  private checkStored(): void {
    if (this.storeFailure !== undefined) throw this.storeFailure;
  }

  /** Chunks and stores a stream; its blobs and length. */
  async storeStream(source: ByteSource): Promise<{ ids: BlobId[]; size: number }> {
    const ids: BlobId[] = [];
    let size = 0;
    for await (const c of chunkStream(this.chunker, source)) {
      this.checkAbort();
      ids.push(await this.storeChunk(c.data));
      size += c.length;
    }
    return { ids, size };
  }

  /** restic's change detection: type, size, mtime, ctime, inode — and every blob still indexed. */
  private unchanged(old: Node, st: BigIntStats): boolean {
    return this.sameFile(BigInt(old.size ?? 0), timeNs(old.mtime), timeNs(old.ctime), old.inode, st) && this.indexed(old);
  }

  /** Every data blob of `old` is in the index (a parent's file whose blobs were pruned is read again). */
  private indexed(old: Node): boolean {
    return (old.content ?? []).every((id) => this.repo.hasBlob('data', id));
  }

  /** The parent rule: same size, mtime, ctime and inode (unless --ignore-ctime/--ignore-inode). */
  private sameFile(size: bigint, mtime: bigint, ctime: bigint, inode: bigint | undefined, st: BigIntStats): boolean {
    const o = this.options;
    if (size !== st.size || mtime !== st.mtimeNs) return false;
    if (o.ignoreCtime !== true && ctime !== st.ctimeNs) return false;
    return o.ignoreInode === true || inode === undefined || inode === st.ino;
  }
}

export interface StdinSnapshotOptions extends Omit<SnapshotOptions, 'paths' | 'selector' | 'parent' | 'ignoreCtime' | 'ignoreInode'> {
  /** The file's name in the snapshot. @default 'stdin' */
  readonly filename?: string;
  /** The bytes to store. */
  readonly source: ByteSource;
  /** Resolves when the source is known to be complete; rejects (no snapshot is saved) otherwise. */
  readonly completed?: Promise<void>;
}

/**
 * A snapshot of one stream (stdin, or a command's output) stored as the file `/<filename>`, as
 * restic's `backup --stdin` does: mode 0644, owned by the current user, modified now. If
 * `completed` rejects (the command failed), nothing is saved as a snapshot.
 */
export async function takeStdinSnapshot(repo: ArchiverRepository, options: StdinSnapshotOptions): Promise<SnapshotSummary> {
  const started = performance.now();
  const filename = options.filename ?? 'stdin';
  if (filename.length === 0 || filename.includes('/') || filename === '.' || filename === '..') {
    throw new CairnError('ERR_INVALID_ARGUMENT', `--stdin-filename "${filename}" must be a plain file name (no "/")`);
  }
  const counts = newCounts();
  const walk = new Walk(repo, { ...options, paths: [] }, counts);
  let tree: TreeId;
  let now: ReturnType<typeof nowTime>;
  try {
    const stored = await walk.storeStream(options.source);
    const size = stored.size;
    await options.completed;
    countFile(counts, 'files_new', size, options.progress);
    now = nowTime();
    const uid = options.uid ?? 0;
    const gid = options.gid ?? 0;
    const node: Node = {
      name: Buffer.from(filename),
      type: 'file',
      mode: 0o644,
      mtime: now,
      atime: now,
      ctime: now,
      uid,
      gid,
      ...(options.username ? { user: options.username } : {}),
      ...(size > 0 ? { size } : {}),
      content: stored.ids,
    };
    tree = await walk.saveTree([node]);
    await walk.drain();
    await repo.flush();
  } catch (e) {
    await walk.settle(e); // the blobs already handed over are stored (or failed) before this returns
    throw e;
  }
  const id = await repo.saveSnapshot({ time: options.time ?? now, tree, paths: [`/${filename}`], ...ownerFields(options) });
  return summarize(counts, started, id);
}

/** Reads a list file (exclude files, files-from lists) as bytes: the parsers decode them as restic does. */
export async function readListFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new CairnError('ERR_FILE_READ', `cannot read ${what} ${path}: ${messageOf(e)}`, { cause: e, data: { path } });
  }
}
