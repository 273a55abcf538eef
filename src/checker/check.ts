/**
 * `check`: finds every problem in a repository's structure and, on request, in its data. It never
 * stops at the first problem; each one goes to `onProblem` as it is found, and the summary counts
 * them.
 *
 * Phases, in restic's order (snapshots are listed before the index is read, so a snapshot written
 * meanwhile cannot refer to blobs of an index we did not load):
 *
 * 1. Index: every index file loads (each bad one is a problem; the others still count). Packs
 *    named by several index files and packs mixing tree and data blobs are hints. Index entries
 *    of one pack whose byte ranges overlap are a problem.
 * 2. Packs: every pack the index names exists, with the size the index implies (36 + Σ stored
 *    length + header entry sizes, see pack-table.ts). Packs present but named by no index are a
 *    hint: an interrupted backup or prune leaves them; `prune` or `repair index` deals with them.
 * 3. Structure: every snapshot file loads; from each snapshot's root tree, every tree (each one
 *    once) is in the index, loads and decodes; every file's data blobs and every directory's
 *    subtree are in the index and stored in a pack that exists. A problem names the snapshots
 *    and the path that lead to it.
 * 4. Data (only with `readData`): each selected pack is read whole (a few at a time); its SHA-256
 *    must equal its name, its header must decrypt and list exactly the index's entries, and every
 *    blob must pass its MAC, decompress and hash to its ID.
 */
import { isCairnError, messageOf, type ErrorCode } from '../errors.js';
import { displayPath } from '../fs/index.js';
import { hashId, idToBytes, shortId, type BlobId, type BlobType, type Id, type PackId, type SnapshotId, type TreeId } from '../model/index.js';
import { packReads, type PackedBlob } from '../pack/index.js';
import { GrowingScratch, withLock, type LockWarning, type Repository } from '../repository/index.js';
import { sortSnapshots, type SnapshotEntry } from '../snapshot/index.js';
import { IdSet, type IndexEntry } from '../index/index.js';
import { visitTree, type Node } from '../tree/index.js';
import { mapConcurrent, type Progress } from '../util/index.js';
import { checkAborted, loadIndexFiles, reason } from './index-files.js';
import { PackTable } from './pack-table.js';
import { selectPacks, type ReadDataSelection } from './subset.js';

/** What check needs of a repository. */
export type CheckRepository = Pick<Repository, 'backend' | 'index' | 'version' | 'list' | 'loadUnpacked' | 'saveUnpacked' | 'loadBlob' | 'unsealBlob' | 'unsealBlobInto' | 'listPack' | 'loadSnapshot'>;

export type CheckProblemKind =
  | 'index'
  | 'pack-missing'
  | 'pack-size'
  | 'pack-overlap'
  | 'snapshot'
  | 'tree'
  | 'blob-missing'
  | 'pack-read'
  | 'pack-id'
  | 'pack-header'
  | 'blob-damaged';

/** One error found by check. Fields beyond kind, code and message are present when they apply. */
export interface CheckProblem {
  readonly kind: CheckProblemKind;
  /** The code an operation hitting this problem fails with (ERR_NOT_FOUND, ERR_CORRUPT, ERR_AUTH_FAILED…). */
  readonly code: ErrorCode;
  /** One line, naming the file (and blob, snapshot, path) concerned. */
  readonly message: string;
  readonly index?: Id;
  readonly pack?: PackId;
  readonly blob?: BlobId;
  readonly blobType?: BlobType;
  readonly tree?: TreeId;
  /** The snapshot file that failed to load. */
  readonly snapshot?: SnapshotId;
  /** Snapshots whose trees lead to the problem (oldest first). */
  readonly snapshots?: readonly SnapshotId[];
  /** Where in the first of `snapshots` (`/` is the root). */
  readonly path?: string;
}

export type CheckHintKind = 'unreferenced-pack' | 'duplicate-pack' | 'mixed-pack';

/** Something worth knowing that is not an error. */
export interface CheckHint {
  readonly kind: CheckHintKind;
  readonly message: string;
  readonly pack: PackId;
  /** duplicate-pack: the index files naming the pack. */
  readonly indexes?: readonly Id[];
}

export type CheckPhase =
  | { readonly phase: 'index' }
  | { readonly phase: 'packs' }
  | { readonly phase: 'structure' }
  | { readonly phase: 'read-data'; readonly selection: ReadDataSelection; readonly selected: number; readonly bytes: number; readonly total: number };

export interface CheckOptions {
  /** Read pack data too: all packs, or a subset. @default undefined (structure only) */
  readonly readData?: ReadDataSelection;
  /** Packs read at once with `readData`. @default 4 */
  readonly readConcurrency?: number;
  /** Index files, snapshots and trees loaded at once. @default 8 */
  readonly loadConcurrency?: number;
  /** Take a shared lock for the duration (released on every path out). @default true */
  readonly lock?: boolean;
  readonly signal?: AbortSignal;
  /** For random subsets (`P%`, `SIZE`): numbers in [0, 1). @default Math.random */
  readonly random?: () => number;
  readonly onProblem?: (problem: CheckProblem) => void;
  readonly onHint?: (hint: CheckHint) => void;
  readonly onPhase?: (phase: CheckPhase) => void;
  /**
   * Live counters to update (see util/progress.ts): `phase` as onPhase names it; in `structure`
   * the trees loaded (no total), in `read-data` the packs and bytes read of those selected (the
   * totals), the packs being read; errors = problems found. @default none
   */
  readonly progress?: Progress;
  /** Problems with the held lock (a failed refresh). @default process warnings */
  readonly onLockWarning?: (w: LockWarning) => void;
}

export interface CheckSummary {
  /** Problems found (0: the repository is sound as far as checked). */
  readonly errors: number;
  readonly hints: number;
  readonly indexFiles: number;
  /** Packs the index names. */
  readonly packs: number;
  /** Packs present that no index names. */
  readonly unreferencedPacks: number;
  readonly snapshots: number;
  /** Distinct trees visited. */
  readonly trees: number;
  /** Packs read with `readData`, and their bytes. */
  readonly readPacks: number;
  readonly readBytes: number;
  /** Packs that are missing, of the wrong size, or damaged: a restore from them fails. */
  readonly brokenPacks: readonly PackId[];
  /** Index problems (bad index files, duplicates, missing, wrong-size or unindexed packs): `repair index` fixes them. */
  readonly suggestRepairIndex: boolean;
  /** Unreferenced or mixed packs: `prune` tidies them. */
  readonly suggestPrune: boolean;
}

function codeOf(e: unknown, fallback: ErrorCode = 'ERR_CORRUPT'): ErrorCode {
  return isCairnError(e) ? e.code : fallback;
}

/** `what: failure: why`, without saying `what` twice when `why` already starts with it. */
function about(what: string, failure: string, why: string): string {
  const rest = why.startsWith(`${what}: `) ? why.slice(what.length + 2) : why;
  return `${what}: ${failure}: ${rest}`;
}

function describeBlob(b: PackedBlob): string {
  return `${b.type} blob ${b.id} at offset ${b.offset} (${b.length} bytes${b.uncompressedLength > 0 ? `, ${b.uncompressedLength} uncompressed` : ''})`;
}

/** Checks the repository; resolves with the summary (errors > 0 when anything is wrong). */
export async function checkRepository(repo: CheckRepository, options: CheckOptions = {}): Promise<CheckSummary> {
  return withLock(repo, { exclusive: false, take: options.lock !== false, onWarning: options.onLockWarning }, () => new Checker(repo, options).run());
}

/**
 * The trees reached so far, each once, numbered in the order reached, with how they were first
 * reached (for paths). IDs are kept as bytes (an IdSet: ~40 bytes a tree).
 */
class TreeGraph {
  private readonly ids = new IdSet();
  /** The tree that first led here (-1: a snapshot root). */
  private readonly parent: number[] = [];
  /** The directory's name in that tree, for display. */
  private readonly name: string[] = [];
  private readonly extraParents = new Map<number, number[]>();
  private readonly roots = new Map<number, number[]>();
  private readonly affected = new Map<number, number[]>();

  /** The number of trees reached. */
  get size(): number {
    return this.ids.size;
  }

  /** The ID of tree `t`. */
  id(t: number): TreeId {
    return this.ids.at(t) as TreeId;
  }

  /** Registers an edge to the tree with ID bytes `id`; returns its number when it is new (to be visited), else undefined. */
  reach(id: Uint8Array, from: number, name: string): number | undefined {
    const n = this.ids.addBytes(id);
    if (n < 0) {
      const known = -1 - n;
      if (from >= 0 && known !== from) {
        const list = this.extraParents.get(known);
        if (list === undefined) this.extraParents.set(known, [from]);
        else if (!list.includes(from)) list.push(from);
      }
      return undefined;
    }
    this.parent.push(from);
    this.name.push(name);
    return n;
  }

  /** Registers a snapshot's root tree; returns its number when it is new. */
  root(id: TreeId, snapshot: number): number | undefined {
    const n = this.ids.addBytes(idToBytes(id));
    const t = n >= 0 ? n : -1 - n;
    if (n >= 0) {
      this.parent.push(-1);
      this.name.push('');
    }
    const list = this.roots.get(t);
    if (list === undefined) this.roots.set(t, [snapshot]);
    else list.push(snapshot);
    return n >= 0 ? n : undefined;
  }

  /** The path of tree `t` in the snapshot that first reached it (`/` for a root). */
  path(t: number): string {
    const parts: string[] = [];
    for (let x = t; this.parent[x]! >= 0; x = this.parent[x]!) parts.push(this.name[x]!);
    return '/' + parts.reverse().join('/');
  }

  /** The snapshot (index) whose root first led to tree `t`. */
  firstSnapshot(t: number): number {
    let x = t;
    while (this.parent[x]! >= 0) x = this.parent[x]!;
    return this.roots.get(x)![0]!;
  }

  /** Every snapshot (index, sorted) whose tree contains tree `t`. */
  snapshotsOf(t: number): number[] {
    const memo = this.affected.get(t);
    if (memo !== undefined) return memo;
    const seen = new Set<number>([t]);
    const stack = [t];
    const out = new Set<number>();
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (const s of this.roots.get(x) ?? []) out.add(s);
      for (const p of [this.parent[x]!, ...(this.extraParents.get(x) ?? [])]) {
        if (p >= 0 && !seen.has(p)) {
          seen.add(p);
          stack.push(p);
        }
      }
    }
    const list = [...out].sort((a, b) => a - b);
    this.affected.set(t, list);
    return list;
  }
}

const DECODE = { allowUnsafeNames: true, allowUnsorted: true } as const;

/** Trees closer than this in a pack are read in one range (the bytes between are read too). */
const RANGE_GAP = 64 << 10;
/** A range grows to at most this many bytes (a larger tree is a range of its own). */
const RANGE_MAX = 1 << 20;

/** A tree's entry for a directory: the subtree's ID bytes and the directory's name for display. */
type Edge = [subtree: Uint8Array, name: string];

/** A problem found in a tree, made into a CheckProblem once every snapshot leading to it is known. */
interface Found {
  readonly tree: number;
  readonly name?: string;
  readonly make: (snapshots: SnapshotId[], path: string) => CheckProblem;
}

/** Plaintexts of trees up to this size are decompressed into a reused buffer (see checkStructure). */
const SCRATCH_MAX = 1 << 20;
const SCRATCH_STEP = 64 << 10;

/** A tree to load: its number in the graph and the index entry (in a pack that exists) to load it from. */
interface WantedTree {
  readonly t: number;
  readonly id: TreeId;
  readonly entry: IndexEntry;
}

class Checker {
  private errors = 0;
  private hints = 0;
  private readonly broken = new Set<PackId>();
  private suggestRepairIndex = false;
  private suggestPrune = false;
  private readonly loadConcurrency: number;

  constructor(
    private readonly repo: CheckRepository,
    private readonly options: CheckOptions,
  ) {
    this.loadConcurrency = options.loadConcurrency ?? 8;
  }

  private problem(p: CheckProblem): void {
    this.errors++;
    if (this.options.progress !== undefined) this.options.progress.errors++;
    if (p.pack !== undefined && p.kind !== 'pack-overlap') this.broken.add(p.pack);
    this.options.onProblem?.(p);
  }

  private hint(h: CheckHint): void {
    this.hints++;
    this.options.onHint?.(h);
  }

  private aborted(): void {
    checkAborted(this.options.signal);
  }

  async run(): Promise<CheckSummary> {
    const { repo, options } = this;
    const snapshotIds: SnapshotId[] = [];
    for await (const id of repo.list('snapshot')) snapshotIds.push(id);

    // 1. Index files.
    options.onPhase?.({ phase: 'index' });
    const loaded = await loadIndexFiles(repo, repo.index, this.loadConcurrency, options.signal);
    for (const bad of loaded.bad) {
      this.suggestRepairIndex = true;
      this.problem({ kind: 'index', code: bad.code, index: bad.id, message: about(`index/${bad.id}`, 'cannot be loaded', bad.message) });
    }
    const table = PackTable.from(repo.index);
    for (const pack of table.packs()) {
      const files = loaded.packFiles.get(pack) ?? [];
      if (files.length > 1) {
        this.suggestRepairIndex = true;
        this.hint({ kind: 'duplicate-pack', pack, indexes: files, message: `pack ${pack} is named by ${files.length} index files: ${files.map((f) => shortId(f)).join(', ')}` });
      }
      if (table.mixed(pack)) {
        this.suggestPrune = true;
        this.hint({ kind: 'mixed-pack', pack, message: `pack ${pack} holds both tree and data blobs` });
      }
    }
    for (const o of table.overlaps()) {
      this.suggestRepairIndex = true;
      this.problem({ kind: 'pack-overlap', code: 'ERR_CORRUPT', pack: o.pack, blob: o.second.id, blobType: o.second.type, message: `pack ${o.pack}: the index has overlapping entries: ${describeBlob(o.first)} and ${describeBlob(o.second)}` });
    }

    // 2. Packs.
    this.aborted();
    options.onPhase?.({ phase: 'packs' });
    const present = new Map<PackId, number>();
    for await (const f of repo.backend.list('pack')) present.set(f.name as PackId, f.size);
    const missing = new Set<PackId>();
    const sizes = new Map<PackId, number>();
    for (const pack of table.packs()) {
      const expected = table.expectedSize(pack);
      sizes.set(pack, expected);
      const actual = present.get(pack);
      if (actual === undefined) {
        missing.add(pack);
        this.suggestRepairIndex = true;
        this.problem({ kind: 'pack-missing', code: 'ERR_NOT_FOUND', pack, message: `pack ${pack}: does not exist (the index lists ${table.count(pack)} blobs in it)` });
      } else if (actual !== expected) {
        this.suggestRepairIndex = true;
        this.problem({ kind: 'pack-size', code: 'ERR_CORRUPT', pack, message: `pack ${pack}: unexpected file size: ${actual} bytes, the index implies ${expected}${actual < expected ? ' (truncated?)' : ''}` });
      }
    }
    let unreferenced = 0;
    for (const pack of [...present.keys()].sort()) {
      if (table.has(pack)) continue;
      unreferenced++;
      this.suggestPrune = true;
      this.suggestRepairIndex = true;
      this.hint({ kind: 'unreferenced-pack', pack, message: `pack ${pack}: not referenced in any index` });
    }

    // 3. Snapshots and trees.
    this.aborted();
    options.onPhase?.({ phase: 'structure' });
    const progress = options.progress;
    if (progress !== undefined) progress.phase = 'structure';
    const trees = await this.checkStructure(snapshotIds, missing);

    // 4. Data.
    let readPacks = 0;
    let readBytes = 0;
    if (options.readData !== undefined) {
      this.aborted();
      const selected = selectPacks(sizes, options.readData, options.random);
      const toRead = selected.filter((p) => !missing.has(p)).sort();
      const bytes = toRead.reduce((s, p) => s + (present.get(p) ?? 0), 0);
      options.onPhase?.({ phase: 'read-data', selection: options.readData, selected: selected.length, bytes, total: sizes.size });
      if (progress !== undefined) {
        Object.assign(progress, { phase: 'read-data', itemsDone: 0, bytesDone: 0, itemsTotal: toRead.length, bytesTotal: bytes });
      }
      await mapConcurrent(toRead, options.readConcurrency ?? 4, async (pack) => {
        this.aborted();
        progress?.current.add(pack);
        try {
          const n = await this.readPack(pack, table);
          readBytes += n;
          readPacks++;
          if (progress !== undefined) {
            progress.itemsDone++;
            progress.bytesDone += present.get(pack) ?? n;
          }
        } finally {
          progress?.current.delete(pack);
        }
      });
    }

    return {
      errors: this.errors,
      hints: this.hints,
      indexFiles: loaded.all.length,
      packs: table.packs().length,
      unreferencedPacks: unreferenced,
      snapshots: snapshotIds.length,
      trees,
      readPacks,
      readBytes,
      brokenPacks: [...this.broken].sort(),
      suggestRepairIndex: this.suggestRepairIndex,
      suggestPrune: this.suggestPrune,
    };
  }

  /** Phase 3; returns the number of distinct trees visited. */
  private async checkStructure(snapshotIds: readonly SnapshotId[], missing: ReadonlySet<PackId>): Promise<number> {
    const { repo } = this;
    const loaded: SnapshotEntry[] = [];
    await mapConcurrent([...snapshotIds].sort(), this.loadConcurrency, async (id) => {
      this.aborted();
      try {
        loaded.push({ id, snapshot: await repo.loadSnapshot(id) });
      } catch (e) {
        if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
        this.problem({ kind: 'snapshot', code: codeOf(e), snapshot: id, message: about(`snapshots/${id}`, 'cannot be loaded', reason(e)) });
      }
    });
    const snapshots = sortSnapshots(loaded);
    const graph = new TreeGraph();
    // Tree problems are reported after the walk, when every snapshot leading to them is known.
    const found: Found[] = [];
    const record = (kind: CheckProblemKind, code: ErrorCode, tree: number, name: string | undefined, text: string, extra: Partial<CheckProblem> = {}): Found => ({
      tree,
      ...(name !== undefined ? { name } : {}),
      make: (ids, path) => ({
        kind,
        code,
        ...extra,
        snapshots: ids,
        path,
        message: `snapshot ${shortId(ids[0]!)} ${path}: ${text}${ids.length > 1 ? ` (also in ${ids.length - 1} other snapshot${ids.length > 2 ? 's' : ''})` : ''}`,
      }),
    });
    const where = (kind: CheckProblemKind, code: ErrorCode, tree: number, name: string | undefined, text: string, extra: Partial<CheckProblem> = {}): void => {
      found.push(record(kind, code, tree, name, text, extra));
    };
    const whereIs = (id: BlobId, type: BlobType): 'ok' | 'unindexed' | PackId => {
      if (missing.size === 0) return repo.index.has(id, type) ? 'ok' : 'unindexed';
      const entries = repo.index.lookup(id, type);
      if (entries.length === 0) return 'unindexed';
      return entries.some((e) => !missing.has(e.pack)) ? 'ok' : entries[0]!.pack;
    };

    /**
     * Decodes tree `t` from its plaintext and checks each node as it is read (a tree of many
     * thousand nodes is never held whole); returns its directories. Throws when the tree does not
     * decode: what its nodes showed counts only when the whole tree decodes.
     */
    const readTree = (t: number, id: TreeId, plain: Uint8Array): Edge[] => {
      const dirs: Edge[] = [];
      const problems: Found[] = [];
      const node = (node: Node): void => {
        if (node.name.length === 0) {
          problems.push(record('tree', 'ERR_CORRUPT', t, undefined, `tree ${id} has a node with an empty name`, { tree: id }));
          return;
        }
        if (node.type === 'file') {
          if (node.content === null) {
            problems.push(record('tree', 'ERR_CORRUPT', t, displayPath(node.name), `file has no content list (tree ${id})`, { tree: id }));
            return;
          }
          for (const blob of node.content) {
            const b = whereIs(blob, 'data');
            if (b === 'ok') continue;
            const text = b === 'unindexed' ? `data blob ${blob} is not in the index` : `data blob ${blob} is stored only in missing pack ${b}`;
            problems.push(record('blob-missing', 'ERR_NOT_FOUND', t, displayPath(node.name), text, { tree: id, blob, blobType: 'data', ...(b !== 'unindexed' ? { pack: b } : {}) }));
          }
        } else if (node.type === 'dir') {
          if (node.subtree === undefined) {
            problems.push(record('tree', 'ERR_CORRUPT', t, displayPath(node.name), `directory has no subtree (tree ${id})`, { tree: id }));
            return;
          }
          dirs.push([idToBytes(node.subtree), displayPath(node.name)]);
        }
      };
      const restart = (): void => {
        dirs.length = 0;
        problems.length = 0;
      };
      visitTree(plain, `tree ${id}`, DECODE, { node, restart });
      for (const p of problems) found.push(p);
      if (this.options.progress !== undefined) this.options.progress.itemsDone++;
      return dirs;
    };
    /** Loads tree `t` through `loadBlob` (every copy the index knows); a failure is a problem. */
    const loadOne = async (t: number): Promise<Edge[] | undefined> => {
      const id = graph.id(t);
      try {
        return readTree(t, id, await repo.loadBlob('tree', id));
      } catch (e) {
        if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
        where('tree', codeOf(e), t, undefined, `tree ${id} cannot be loaded: ${reason(e)}`, { tree: id, blob: id, blobType: 'tree' });
        return undefined;
      }
    };

    // A tree's plaintext lives only while it is decoded (decodeUtf8 copies it into a string), so
    // trees are opened into two reused buffers (plaintexts up to SCRATCH_MAX) instead of new arrays each.
    const scratch = new GrowingScratch((n) => Math.ceil(n / SCRATCH_STEP) * SCRATCH_STEP, SCRATCH_MAX);
    const unseal = (stored: Uint8Array, blob: PackedBlob & { readonly pack: PackId }): Uint8Array =>
      repo.unsealBlobInto(stored, blob, scratch.for(stored.length, blob.uncompressedLength));

    // Breadth first, one level at a time. A level's trees are read in byte ranges of their packs
    // (packReads: neighbours at most RANGE_GAP apart share a read of at most RANGE_MAX bytes)
    // rather than one read each; a tree whose range cannot be read, or that does not open or
    // decode from it, is loaded again on its own through loadBlob, whose error (after
    // trying every copy) is the one reported. Subtrees are registered in the order of the level,
    // so the path that first reaches a tree does not depend on which read finished first.
    let frontier: number[] = [];
    snapshots.forEach((s, i) => {
      const n = graph.root(s.snapshot.tree, i);
      if (n !== undefined) frontier.push(n);
    });
    while (frontier.length > 0) {
      this.aborted();
      const edges = new Map<number, Edge[]>();
      const wanted: WantedTree[] = [];
      for (const t of frontier) {
        const id = graph.id(t);
        const entries = repo.index.lookup(id, 'tree');
        const entry = entries.find((e) => !missing.has(e.pack));
        if (entry !== undefined) wanted.push({ t, id, entry });
        else if (entries.length === 0) where('tree', 'ERR_NOT_FOUND', t, undefined, `tree ${id} is not in the index`, { tree: id, blob: id, blobType: 'tree' });
        else where('tree', 'ERR_NOT_FOUND', t, undefined, `tree ${id} is stored only in missing pack ${entries[0]!.pack}`, { tree: id, blob: id, blobType: 'tree', pack: entries[0]!.pack });
      }
      await mapConcurrent(packReads(wanted, (w) => w.entry, RANGE_GAP, RANGE_MAX), this.loadConcurrency, async (range) => {
        this.aborted();
        let bytes: Uint8Array | undefined;
        try {
          bytes = await repo.backend.load({ type: 'pack', name: range.pack }, range.start, range.end - range.start);
        } catch (e) {
          if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
          bytes = undefined; // each tree is loaded on its own below, and its failure reported
        }
        for (const w of range.items) {
          this.aborted();
          let dirs: Edge[] | undefined;
          if (bytes !== undefined) {
            try {
              const stored = bytes.subarray(w.entry.offset - range.start, w.entry.offset - range.start + w.entry.length);
              dirs = readTree(w.t, w.id, unseal(stored, { ...w.entry, id: w.id, type: 'tree' }));
            } catch {
              dirs = await loadOne(w.t); // loadBlob's error (after every copy) is the one reported
            }
          } else {
            dirs = await loadOne(w.t);
          }
          if (dirs !== undefined && dirs.length > 0) edges.set(w.t, dirs);
        }
      });
      const next: number[] = [];
      for (const t of frontier) {
        for (const [sub, name] of edges.get(t) ?? []) {
          const n = graph.reach(sub, t, name);
          if (n !== undefined) next.push(n);
        }
      }
      frontier = next;
    }

    // In the order the trees were reached (each tree's problems in node order), not in the order
    // the reads finished.
    found.sort((a, b) => a.tree - b.tree);
    for (const f of found) {
      const ids = graph.snapshotsOf(f.tree).map((i) => snapshots[i]!.id);
      // The path follows the first snapshot that reached the tree; list that snapshot first.
      const first = snapshots[graph.firstSnapshot(f.tree)]!.id;
      const ordered = [first, ...ids.filter((s) => s !== first)];
      const dir = graph.path(f.tree);
      const path = f.name === undefined ? dir : dir === '/' ? `/${f.name}` : `${dir}/${f.name}`;
      this.problem(f.make(ordered, path));
    }
    return graph.size;
  }

  /** Phase 4 for one pack; returns the bytes read. */
  private async readPack(pack: PackId, table: PackTable): Promise<number> {
    const { repo } = this;
    let bytes: Uint8Array;
    try {
      bytes = await repo.backend.load({ type: 'pack', name: pack });
    } catch (e) {
      if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
      this.problem({ kind: 'pack-read', code: codeOf(e, 'ERR_BACKEND'), pack, message: about(`pack ${pack}`, 'cannot be read', messageOf(e)) });
      return 0;
    }
    const problems: CheckProblem[] = [];
    const indexed = table.blobs(pack);
    let header: PackedBlob[] | undefined;
    try {
      header = await repo.listPack(pack);
    } catch (e) {
      if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
      problems.push({ kind: 'pack-header', code: codeOf(e), pack, message: about(`pack ${pack}`, 'its header cannot be read', reason(e)) });
    }
    if (header !== undefined) {
      const key = (b: PackedBlob): string => `${b.type}:${b.id}:${b.offset}:${b.length}:${b.uncompressedLength}`;
      const inIndex = new Set(indexed.map(key));
      const inHeader = new Set(header.map(key));
      for (const b of header) {
        if (!inIndex.has(key(b))) problems.push({ kind: 'pack-header', code: 'ERR_CORRUPT', pack, blob: b.id, blobType: b.type, message: `pack ${pack}: its header lists ${describeBlob(b)}, which the index does not` });
      }
      for (const b of indexed) {
        if (!inHeader.has(key(b))) problems.push({ kind: 'pack-header', code: 'ERR_CORRUPT', pack, blob: b.id, blobType: b.type, message: `pack ${pack}: the index lists ${describeBlob(b)}, which its header does not` });
      }
    }
    for (const b of indexed) {
      if (b.offset + b.length > bytes.length) {
        problems.push({ kind: 'blob-damaged', code: 'ERR_CORRUPT', pack, blob: b.id, blobType: b.type, message: `pack ${pack}: ${b.type} blob ${b.id} ends at byte ${b.offset + b.length}, past the end of the pack (${bytes.length} bytes)` });
        continue;
      }
      try {
        repo.unsealBlob(bytes.subarray(b.offset, b.offset + b.length), { ...b, pack });
      } catch (e) {
        problems.push({ kind: 'blob-damaged', code: codeOf(e), pack, blob: b.id, blobType: b.type, message: about(`pack ${pack}`, `${b.type} blob ${b.id} is damaged`, reason(e)) });
      }
    }
    const actual = hashId(bytes);
    // A changed byte shows up in a blob or the header; the hash is news only when nothing else is.
    if (actual !== pack && problems.length === 0) {
      problems.push({ kind: 'pack-id', code: 'ERR_CORRUPT', pack, message: `pack ${pack}: its content hashes to ${actual}, not to its name: the file was altered` });
    }
    for (const p of problems) this.problem(p);
    return bytes.length;
  }
}
