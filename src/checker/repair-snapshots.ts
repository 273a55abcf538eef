/**
 * `repair snapshots` (restic 0.16's semantics; restic 0.14 has no such command): snapshots that
 * refer to lost data are rewritten so that everything they refer to exists again.
 *
 * For each selected snapshot, its trees are walked from the root, each distinct tree once (the
 * result is remembered across snapshots):
 *
 * - a file whose data blobs are not all available loses the missing ones: its content list keeps
 *   the blobs that remain, in order, and its size becomes their total plaintext length. (A file
 *   with all its blobs is left as it is, even if its recorded size differs from their total.)
 * - a directory whose tree cannot be loaded (not in the index, stored only in missing packs, or
 *   not decodable) becomes an empty directory (the empty tree is saved).
 * - a tree is written anew only when something below it changed; an intact tree keeps its ID, so
 *   a snapshot with nothing missing is left alone.
 *
 * "Available" means: in the index and stored in a pack that exists. The index must load and
 * (except for a dry run) name only packs that exist: run `repair index` first. Otherwise a new
 * tree could be taken as already stored because a vanished pack held a copy. Damage inside a pack
 * that exists is not looked for: find it with `check --read-data`.
 *
 * A changed snapshot is saved as a new snapshot with the same fields but the new tree, `original`
 * set to the old snapshot's ID, and the tag `repaired` added; with `forget`, the old snapshot is
 * deleted and (as restic does) no tag is added. A snapshot whose root tree cannot be loaded has
 * nothing left to keep and is deleted. New trees are stored (packs, then index) before the
 * snapshot that refers to them. `dryRun` reports the same changes and writes nothing.
 *
 * Holds an exclusive lock (a shared one for a dry run).
 */
import { CairnError, isCairnError } from '../errors.js';
import { displayPath } from '../fs/index.js';
import { hashId, type BlobId, type PackId, type SnapshotId, type TreeId } from '../model/index.js';
import { withLock, type LockWarning, type Repository } from '../repository/index.js';
import { filterSnapshots, findSnapshot, sortSnapshots, type Snapshot, type SnapshotEntry, type SnapshotFilter } from '../snapshot/index.js';
import { decodeTree, encodeTree, sortNodes, type Node } from '../tree/index.js';
import { mapConcurrent } from '../util/index.js';
import { checkAborted, reason } from './index-files.js';

export type RepairSnapshotsRepository = Pick<
  Repository,
  'backend' | 'index' | 'list' | 'loadUnpacked' | 'saveUnpacked' | 'loadIndex' | 'loadBlob' | 'saveBlob' | 'flush' | 'loadSnapshot' | 'saveSnapshot'
>;

export const REPAIRED_TAG = 'repaired';

export interface RepairSnapshotsOptions {
  /** Snapshot IDs, unique prefixes or `latest` to repair. @default every snapshot passing `filter` */
  readonly snapshots?: readonly string[];
  /** @default {} (every snapshot) */
  readonly filter?: SnapshotFilter;
  /** Delete each original after its repaired copy is saved. @default false */
  readonly forget?: boolean;
  /** Report, write nothing. @default false */
  readonly dryRun?: boolean;
  /** Take a lock (exclusive; shared for a dry run). @default true */
  readonly lock?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RepairSnapshotsEvent) => void;
  /** Problems with the held lock (a failed refresh). @default process warnings */
  readonly onLockWarning?: (w: LockWarning) => void;
}

export type RepairSnapshotsEvent =
  /** Work on a snapshot begins. */
  | { readonly kind: 'snapshot'; readonly id: SnapshotId; readonly snapshot: Snapshot }
  /** A snapshot file that does not load: skipped (`cairn check` reports it; delete it by hand). */
  | { readonly kind: 'unreadable-snapshot'; readonly id: SnapshotId; readonly message: string }
  /** A file lost `missing` of its data blobs; `size` is its new size. */
  | { readonly kind: 'file-repaired'; readonly path: string; readonly missing: number; readonly size: number }
  /** A directory whose tree cannot be loaded became empty. */
  | { readonly kind: 'dir-emptied'; readonly path: string; readonly tree: TreeId; readonly message: string }
  /** The snapshot's root tree cannot be loaded: the snapshot is deleted (would be, in a dry run). */
  | { readonly kind: 'snapshot-removed'; readonly id: SnapshotId; readonly message: string }
  /** The repaired copy was saved (`id` is absent in a dry run). */
  | { readonly kind: 'snapshot-saved'; readonly original: SnapshotId; readonly id?: SnapshotId; readonly tree: TreeId }
  /** The original was deleted (`forget`). */
  | { readonly kind: 'snapshot-forgotten'; readonly id: SnapshotId };

export interface RepairSnapshotsSummary {
  readonly dryRun: boolean;
  /** Snapshots looked at. */
  readonly snapshots: number;
  /** Snapshots that changed (saved anew, or deleted because nothing could be kept). */
  readonly modified: number;
  readonly saved: readonly { readonly original: SnapshotId; readonly id?: SnapshotId }[];
  readonly removed: readonly SnapshotId[];
  readonly forgotten: readonly SnapshotId[];
  readonly unreadable: readonly SnapshotId[];
}

export async function repairSnapshots(repo: RepairSnapshotsRepository, options: RepairSnapshotsOptions = {}): Promise<RepairSnapshotsSummary> {
  const dryRun = options.dryRun === true;
  return withLock(repo, { exclusive: !dryRun, take: options.lock !== false, onWarning: options.onLockWarning }, (lock) => new SnapshotRepairer(repo, options, dryRun, async () => lock?.check()).run());
}

/** The outcome of rewriting a tree: its (possibly new) ID, or 'failed' when it cannot be loaded. */
type Rewritten = { readonly id: TreeId; readonly changed: boolean } | { readonly failed: string };

class SnapshotRepairer {
  private readonly memo = new Map<TreeId, Promise<Rewritten>>();
  private present = new Set<PackId>();
  private emptyTree: TreeId | undefined;

  constructor(
    private readonly repo: RepairSnapshotsRepository,
    private readonly options: RepairSnapshotsOptions,
    private readonly dryRun: boolean,
    /** Throws ERR_LOCK_LOST when the lock cannot be trusted; called before each change. */
    private readonly checkLock: () => Promise<void>,
  ) {}

  private emit(e: RepairSnapshotsEvent): void {
    this.options.onEvent?.(e);
  }

  async run(): Promise<RepairSnapshotsSummary> {
    const { repo, options } = this;
    const ids: SnapshotId[] = [];
    for await (const id of repo.list('snapshot')) ids.push(id);
    try {
      await repo.loadIndex();
    } catch (e) {
      if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
      throw new CairnError('ERR_CORRUPT', `the index cannot be loaded (${reason(e)}); run \`cairn repair index\` first`, { cause: e });
    }
    for await (const f of repo.backend.list('pack')) this.present.add(f.name as PackId);
    if (!this.dryRun) {
      // A tree saved now must not be taken as already stored because a vanished pack held it.
      const gone = new Set<PackId>();
      for (const { entry } of repo.index.entries()) if (!this.present.has(entry.pack)) gone.add(entry.pack);
      if (gone.size > 0) {
        const list = [...gone].sort();
        throw new CairnError('ERR_NOT_FOUND', `the index names ${gone.size} ${gone.size === 1 ? 'pack' : 'packs'} that no longer ${gone.size === 1 ? 'exists' : 'exist'} (${list.slice(0, 3).join(', ')}${gone.size > 3 ? ', …' : ''}); run \`cairn repair index\` first, then repair the snapshots`, { data: { packs: list } });
      }
    }

    const unreadable: SnapshotId[] = [];
    const loaded: SnapshotEntry[] = [];
    await mapConcurrent(ids.sort(), 8, async (id) => {
      try {
        loaded.push({ id, snapshot: await repo.loadSnapshot(id) });
      } catch (e) {
        if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
        unreadable.push(id);
        this.emit({ kind: 'unreadable-snapshot', id, message: reason(e) });
      }
    });
    const all = sortSnapshots(loaded);
    let selected: SnapshotEntry[];
    if (options.snapshots !== undefined && options.snapshots.length > 0) {
      const seen = new Set<SnapshotId>();
      selected = [];
      for (const ref of options.snapshots) {
        const e = findSnapshot(all, ref, options.filter ?? {});
        if (!seen.has(e.id)) {
          seen.add(e.id);
          selected.push(e);
        }
      }
      selected = sortSnapshots(selected);
    } else {
      selected = filterSnapshots(all, options.filter ?? {});
    }

    const saved: { original: SnapshotId; id?: SnapshotId }[] = [];
    const removed: SnapshotId[] = [];
    const forgotten: SnapshotId[] = [];
    for (const entry of selected) {
      checkAborted(options.signal);
      this.emit({ kind: 'snapshot', id: entry.id, snapshot: entry.snapshot });
      const root = await this.rewrite(entry.snapshot.tree, '/');
      if ('failed' in root) {
        this.emit({ kind: 'snapshot-removed', id: entry.id, message: root.failed });
        if (!this.dryRun) {
          await this.checkLock();
          await repo.backend.remove({ type: 'snapshot', name: entry.id });
        }
        removed.push(entry.id);
        continue;
      }
      if (!root.changed) continue;
      const forget = options.forget === true;
      if (this.dryRun) {
        this.emit({ kind: 'snapshot-saved', original: entry.id, tree: root.id });
        saved.push({ original: entry.id });
        if (forget) {
          this.emit({ kind: 'snapshot-forgotten', id: entry.id });
          forgotten.push(entry.id);
        }
        continue;
      }
      await this.checkLock();
      await repo.flush(); // the new trees are stored and indexed before a snapshot refers to them
      const tags = entry.snapshot.tags ?? [];
      const snapshot: Snapshot = {
        ...entry.snapshot,
        tree: root.id,
        original: entry.id,
        ...(forget || tags.includes(REPAIRED_TAG) ? {} : { tags: [...tags, REPAIRED_TAG] }),
      };
      const id = await repo.saveSnapshot(snapshot);
      this.emit({ kind: 'snapshot-saved', original: entry.id, id, tree: root.id });
      saved.push({ original: entry.id, id });
      if (forget) {
        await this.checkLock();
        await repo.backend.remove({ type: 'snapshot', name: entry.id });
        this.emit({ kind: 'snapshot-forgotten', id: entry.id });
        forgotten.push(entry.id);
      }
    }
    return { dryRun: this.dryRun, snapshots: selected.length, modified: saved.length + removed.length, saved, removed, forgotten, unreadable: unreadable.sort() };
  }

  /** Where a blob can be read from: undefined when it cannot (not indexed, or only in missing packs). */
  private available(id: BlobId, type: 'data' | 'tree'): { length: number } | undefined {
    for (const e of this.repo.index.lookup(id, type)) {
      if (this.present.has(e.pack)) return { length: e.uncompressedLength > 0 ? e.uncompressedLength : e.length - 32 };
    }
    return undefined;
  }

  private rewrite(id: TreeId, path: string): Promise<Rewritten> {
    let p = this.memo.get(id);
    if (p === undefined) {
      p = this.rewriteOnce(id, path);
      this.memo.set(id, p);
    }
    return p;
  }

  private async rewriteOnce(id: TreeId, path: string): Promise<Rewritten> {
    checkAborted(this.options.signal);
    let nodes: readonly Node[];
    if (this.available(id, 'tree') === undefined) {
      return { failed: this.repo.index.lookup(id, 'tree').length === 0 ? `tree ${id} is not in the index` : `tree ${id} is stored only in missing packs` };
    }
    try {
      nodes = decodeTree(await this.repo.loadBlob('tree', id), `tree ${id}`, { allowUnsafeNames: true, allowUnsorted: true }).nodes;
    } catch (e) {
      if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
      return { failed: `tree ${id} cannot be loaded: ${reason(e)}` };
    }
    let changed = false;
    const out: Node[] = [];
    for (const node of nodes) {
      const childPath = path === '/' ? `/${displayPath(node.name)}` : `${path}/${displayPath(node.name)}`;
      if (node.type === 'file' && node.content !== null) {
        const kept: BlobId[] = [];
        let size = 0;
        for (const b of node.content) {
          const a = this.available(b, 'data');
          if (a === undefined) continue;
          kept.push(b);
          size += a.length;
        }
        if (kept.length !== node.content.length) {
          changed = true;
          this.emit({ kind: 'file-repaired', path: childPath, missing: node.content.length - kept.length, size });
          const { size: _old, ...rest } = node;
          void _old;
          out.push(size > 0 ? { ...rest, content: kept, size } : { ...rest, content: kept });
          continue;
        }
      } else if (node.type === 'dir' && node.subtree !== undefined) {
        const sub = await this.rewrite(node.subtree, childPath);
        if ('failed' in sub) {
          changed = true;
          this.emit({ kind: 'dir-emptied', path: childPath, tree: node.subtree, message: sub.failed });
          out.push({ ...node, subtree: await this.saveTree([]) });
          continue;
        }
        if (sub.changed) {
          changed = true;
          out.push({ ...node, subtree: sub.id });
          continue;
        }
      }
      out.push(node);
    }
    if (!changed) return { id, changed: false };
    return { id: await this.saveTree(out, path), changed: true };
  }

  /** Stores a tree (unless a dry run) and returns its ID. */
  private async saveTree(nodes: readonly Node[], path = '/'): Promise<TreeId> {
    if (nodes.length === 0 && this.emptyTree !== undefined) return this.emptyTree;
    let bytes: Uint8Array;
    try {
      bytes = encodeTree({ nodes: sortNodes(nodes) });
    } catch (e) {
      throw new CairnError('ERR_CORRUPT', `cannot write the repaired directory ${path}: ${reason(e)} (the tree holds entries cairn cannot encode again)`, { cause: e });
    }
    const id = hashId(bytes);
    if (!this.dryRun) await this.repo.saveBlob('tree', id, bytes);
    if (nodes.length === 0) this.emptyTree = id;
    return id;
  }
}
