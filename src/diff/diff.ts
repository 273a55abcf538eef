/**
 * Comparing two snapshots, restic's `diff`.
 *
 * Both trees are walked together, directory by directory, names merged in byte order. A
 * subdirectory whose tree ID is the same on both sides is identical and is not loaded: nothing in
 * it is reported. Within directories that differ:
 *
 * - `+` an entry only in the second snapshot, `-` only in the first; a directory's whole contents
 *   follow it, each entry on its own line;
 * - `M` a file whose content (its list of data blobs) differs — never decided by mtime or size;
 * - `T` an entry whose type changed (file → directory, …); the old entry counts as removed, the
 *   new one as added, and a directory on either side has its contents listed as `-` or `+`;
 * - `U` (only with `metadata`) an entry whose metadata (mode, times, owner, size, link target,
 *   extended attributes…) differs while its content is the same; `TU` when both.
 *
 * Statistics, in restic's terms: files/dirs/others added and removed (entries reported `+`/`-`,
 * and both sides of a `T`), changed files (`M`), and the blobs (data and tree) only the second
 * snapshot refers to (added) and only the first one refers to (removed), with their plaintext
 * sizes. The blob sets are exact: a blob that one side's changed part refers to and that also lies
 * somewhere in an identical subtree is not new. Deciding that needs the identical subtrees'
 * contents, so they are read afterwards — only when there are such candidate blobs, each tree once,
 * and stopping as soon as every candidate is settled.
 */
import type { BlobId, BlobType, TreeId } from '../model/index.js';
import { TreeLoader } from '../inspect/index.js';
import { withLock, type LockWarning, type Repository } from '../repository/index.js';
import type { SnapshotEntry } from '../snapshot/index.js';
import { compareNames, sameMetadata, type Node } from '../tree/index.js';

/** What a diff needs of a repository: tree blobs, and the index's blob sizes. */
export type DiffRepository = Pick<Repository, 'loadBlob' | 'blobLength'>;

/** restic's modifiers; `TU` is a type change with other metadata changed too (only with `metadata`). */
export type DiffModifier = '+' | '-' | 'M' | 'T' | 'U' | 'TU';

/** One difference between the snapshots. */
export interface DiffChange {
  /**
   * The entry's path from the snapshot root, `/`-separated, as restic prints it: a directory (the
   * entry as it is in the second snapshot, or in the first for `-`) ends with `/`.
   */
  readonly path: string;
  readonly modifier: DiffModifier;
  /** The entry in the first snapshot (absent for `+`). */
  readonly before?: Node;
  /** The entry in the second snapshot (absent for `-`). */
  readonly after?: Node;
}

/** Counts for one side of a diff (restic's DiffStat). */
export interface DiffStat {
  readonly files: number;
  readonly dirs: number;
  /** Symlinks, devices, FIFOs, sockets. */
  readonly others: number;
  readonly dataBlobs: number;
  readonly treeBlobs: number;
  /** Plaintext (uncompressed) bytes of those blobs, from the index. */
  readonly bytes: number;
}

export interface DiffResult {
  /** Files present on both sides with different content (`M`). */
  readonly changedFiles: number;
  /** What only the second snapshot has. */
  readonly added: DiffStat;
  /** What only the first snapshot has. */
  readonly removed: DiffStat;
}

export interface DiffOptions {
  /** Report metadata-only changes (`U`), as restic's `--metadata`. @default false */
  readonly metadata?: boolean;
  /** Called for each change, in path order (an entry before its contents). @default none */
  readonly onChange?: (change: DiffChange) => void;
  /** Stops the diff with ERR_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

interface MutableStat {
  files: number;
  dirs: number;
  others: number;
  dataBlobs: number;
  treeBlobs: number;
  bytes: number;
}

const newStat = (): MutableStat => ({ files: 0, dirs: 0, others: 0, dataBlobs: 0, treeBlobs: 0, bytes: 0 });

function count(stat: MutableStat, node: Node): void {
  if (node.type === 'file') stat.files++;
  else if (node.type === 'dir') stat.dirs++;
  else stat.others++;
}

const decoder = new TextDecoder();

function nodeName(node: Node): string {
  return decoder.decode(node.name);
}

function sameContent(a: Node, b: Node): boolean {
  const x = a.content ?? [];
  const y = b.content ?? [];
  return x.length === y.length && x.every((id, i) => id === y[i]);
}

function dataKey(id: BlobId): string {
  return `d${id}`;
}

function treeKey(id: TreeId): string {
  return `t${id}`;
}

class Differ {
  private readonly added = newStat();
  private readonly removed = newStat();
  private changedFiles = 0;
  /** Blobs the first snapshot refers to outside its identical subtrees. */
  private readonly before = new Set<string>();
  /** Blobs the second snapshot refers to outside its identical subtrees. */
  private readonly after = new Set<string>();
  /** Subtrees both snapshots have, not walked. */
  private readonly common = new Set<TreeId>();

  private readonly loader: TreeLoader;

  constructor(
    private readonly repo: DiffRepository,
    private readonly options: DiffOptions,
  ) {
    this.loader = new TreeLoader(repo, options.signal === undefined ? {} : { signal: options.signal });
  }

  async run(a: TreeId, b: TreeId): Promise<DiffResult> {
    if (a !== b) {
      this.before.add(treeKey(a));
      this.after.add(treeKey(b));
      await this.diffTree('', a, b);
      await this.settleCandidates();
    }
    return { changedFiles: this.changedFiles, added: { ...this.added }, removed: { ...this.removed } };
  }

  private load(id: TreeId): Promise<Node[]> {
    return this.loader.load(id);
  }

  private emit(path: string, modifier: DiffModifier, before: Node | undefined, after: Node | undefined): void {
    this.options.onChange?.({ path, modifier, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) });
  }

  /** Adds a node's own blobs (a file's data, a directory's tree) to `set`. */
  private blobsOf(node: Node, set: Set<string>): void {
    if (node.type === 'file') for (const id of node.content ?? []) set.add(dataKey(id));
    else if (node.type === 'dir' && node.subtree !== undefined) set.add(treeKey(node.subtree));
  }

  private async diffTree(prefix: string, a: TreeId, b: TreeId): Promise<void> {
    const [na, nb] = await Promise.all([this.load(a), this.load(b)]);
    // Merge by name first, so the subtrees the walk will read can be announced for read-ahead.
    const pairs: [Node | undefined, Node | undefined][] = [];
    let i = 0;
    let j = 0;
    while (i < na.length || j < nb.length) {
      const x = na[i];
      const y = nb[j];
      const c = x === undefined ? 1 : y === undefined ? -1 : compareNames(x.name, y.name);
      pairs.push([c <= 0 ? x : undefined, c >= 0 ? y : undefined]);
      if (c <= 0) i++;
      if (c >= 0) j++;
    }
    const dir = (n: Node | undefined): TreeId[] => (n?.type === 'dir' && n.subtree !== undefined ? [n.subtree] : []);
    this.loader.prefetch(pairs.flatMap(([x, y]) => (x !== undefined && y !== undefined && x.type === y.type && x.subtree === y.subtree ? [] : [...dir(x), ...dir(y)])));
    for (const [x, y] of pairs) {
      if (y === undefined) await this.side(prefix, x!, '-');
      else if (x === undefined) await this.side(prefix, y, '+');
      else await this.both(prefix, x, y);
    }
  }

  private async both(prefix: string, x: Node, y: Node): Promise<void> {
    const path = `${prefix}/${nodeName(y)}`;
    this.blobsOf(x, this.before);
    this.blobsOf(y, this.after);
    if (x.type !== y.type) {
      const modifier: DiffModifier = this.options.metadata === true && !sameMetadata(x, y) ? 'TU' : 'T';
      this.emit(y.type === 'dir' ? `${path}/` : path, modifier, x, y);
      // The old entry is gone and the new one is new, contents included.
      count(this.removed, x);
      if (x.type === 'dir' && x.subtree !== undefined) await this.listDir(path, x.subtree, '-');
      count(this.added, y);
      if (y.type === 'dir' && y.subtree !== undefined) await this.listDir(path, y.subtree, '+');
      return;
    }
    let modifier: DiffModifier | undefined;
    if (x.type === 'file' && !sameContent(x, y)) {
      modifier = 'M';
      this.changedFiles++;
    } else if (this.options.metadata === true && !sameMetadata(x, y)) {
      modifier = 'U';
    }
    if (modifier !== undefined) this.emit(x.type === 'dir' ? `${path}/` : path, modifier, x, y);
    if (x.type === 'dir' && x.subtree !== undefined && y.subtree !== undefined) {
      if (x.subtree === y.subtree) this.common.add(x.subtree);
      else await this.diffTree(path, x.subtree, y.subtree);
    }
  }

  /** An entry on one side only: reported, counted, and a directory's contents likewise. */
  private async side(prefix: string, node: Node, modifier: '+' | '-'): Promise<void> {
    const path = `${prefix}/${nodeName(node)}`;
    this.emit(node.type === 'dir' ? `${path}/` : path, modifier, modifier === '-' ? node : undefined, modifier === '+' ? node : undefined);
    count(modifier === '+' ? this.added : this.removed, node);
    this.blobsOf(node, modifier === '+' ? this.after : this.before);
    if (node.type === 'dir' && node.subtree !== undefined) await this.listDir(path, node.subtree, modifier);
  }

  private async listDir(prefix: string, tree: TreeId, modifier: '+' | '-'): Promise<void> {
    const nodes = await this.load(tree);
    this.loader.prefetch(nodes.flatMap((n) => (n.type === 'dir' && n.subtree !== undefined ? [n.subtree] : [])));
    for (const node of nodes) await this.side(prefix, node, modifier);
  }

  /**
   * Turns the candidate sets into the statistics: a blob only one side's walked part refers to is
   * added (or removed) unless an identical subtree refers to it too.
   */
  private async settleCandidates(): Promise<void> {
    const addedOnly = new Set<string>();
    const removedOnly = new Set<string>();
    for (const k of this.after) if (!this.before.has(k)) addedOnly.add(k);
    for (const k of this.before) if (!this.after.has(k)) removedOnly.add(k);
    const settle = (k: string): void => {
      addedOnly.delete(k);
      removedOnly.delete(k);
    };
    const visited = new Set<TreeId>();
    const stack = [...this.common];
    while (stack.length > 0 && addedOnly.size + removedOnly.size > 0) {
      const tree = stack.pop()!;
      if (visited.has(tree)) continue;
      visited.add(tree);
      settle(treeKey(tree));
      for (const node of await this.load(tree)) {
        if (node.type === 'file') for (const id of node.content ?? []) settle(dataKey(id));
        else if (node.type === 'dir' && node.subtree !== undefined && !visited.has(node.subtree)) stack.push(node.subtree);
      }
    }
    this.tally(addedOnly, this.added);
    this.tally(removedOnly, this.removed);
  }

  private tally(keys: Set<string>, stat: MutableStat): void {
    for (const k of keys) {
      const type: BlobType = k[0] === 't' ? 'tree' : 'data';
      if (type === 'tree') stat.treeBlobs++;
      else stat.dataBlobs++;
      stat.bytes += this.repo.blobLength(type, k.slice(1) as BlobId) ?? 0;
    }
  }
}

/**
 * Compares the tree `before` with the tree `after` (root trees of two snapshots, or any two
 * trees); reports each change through `options.onChange` and returns the statistics. The
 * repository's index must be loaded. Throws what loading a tree throws (ERR_NOT_FOUND,
 * ERR_CORRUPT…), or ERR_INTERRUPTED.
 */
export async function diffTrees(repo: DiffRepository, before: TreeId, after: TreeId, options: DiffOptions = {}): Promise<DiffResult> {
  return new Differ(repo, options).run(before, after);
}

export interface DiffSnapshotsOptions extends DiffOptions {
  /** Take a shared lock for the diff, as restic does. @default true */
  readonly lock?: boolean;
  /** Problems with the lock while it is held (a failed refresh). */
  readonly onLockWarning?: (w: LockWarning) => void;
  /** Called once both snapshots are found, before the comparison starts. */
  readonly onSnapshots?: (source: SnapshotEntry, target: SnapshotEntry) => void;
}

export interface DiffSummary extends DiffResult {
  readonly source: SnapshotEntry;
  readonly target: SnapshotEntry;
}

/**
 * Compares snapshot `source` with snapshot `target` (each a full ID, a unique prefix or `latest`)
 * under a shared lock: loads the index, then runs {@link diffTrees} on their root trees.
 * ERR_SNAPSHOT_NOT_FOUND / ERR_AMBIGUOUS_ID for a reference that names no single snapshot.
 */
export async function diffSnapshots(repo: Repository, source: string, target: string, options: DiffSnapshotsOptions = {}): Promise<DiffSummary> {
  return withLock(repo, { exclusive: false, take: options.lock !== false, onWarning: options.onLockWarning, overlap: true }, async () => {
    const a = await repo.findSnapshot(source);
    const b = await repo.findSnapshot(target);
    options.onSnapshots?.(a, b);
    await repo.loadIndex();
    const result = await diffTrees(repo, a.snapshot.tree, b.snapshot.tree, options);
    return { ...result, source: a, target: b };
  });
}
