/**
 * Copying snapshots from one repository to another, restic 0.14's `copy`.
 *
 * For each selected source snapshot, oldest first:
 * 1. Skip it when the target already holds a "similar" copy (restic's rule, `isSimilarCopy`): a
 *    target snapshot whose `original` (or own ID) is the source snapshot's `original` (or its own
 *    ID), and whose time, tree, host, user, uid, gid, paths, excludes and tags are the same.
 * 2. Otherwise walk its trees in the source (each tree once per run): every tree blob the target
 *    lacks is stored there as the very bytes the source holds (restic copies raw trees, so the
 *    tree ID stays the same whatever the serialisation); every data blob the target lacks is
 *    collected (in batches of DATA_BATCH), then read from the source pack by pack (nearby blobs
 *    in one read), verified (MAC, decompression, SHA-256 = ID) and stored in the target —
 *    compressed per the target's format version, encrypted with the target's key. Blob IDs are SHA-256 of the plaintext, so a blob the
 *    target has already, or one this run stored for an earlier snapshot, is not stored again.
 * 3. Flush the target (packs, then index files), check the target lock, and only then save the
 *    snapshot there with `parent` dropped and `original` set to the source ID (kept when it was
 *    already set). An interruption at any point leaves no snapshot that names missing data: at
 *    worst packs (and index files) for a snapshot never saved, which a later copy reuses and prune
 *    removes otherwise.
 *
 * Locks: shared on both repositories, as restic takes them. Chunks are not cut again: a file
 * stored in both repositories by separate backups deduplicates with the copy only when both cut it
 * the same way (cairn repositories cut with keyed FastCDC parameters of their own, restic
 * repositories with their own Rabin polynomial), so copied files may take space twice.
 */
import { CairnError } from '../errors.js';
import { selectSnapshots } from '../inspect/index.js';
import type { BlobId, PackId, SnapshotId, TreeId } from '../model/index.js';
import { packReads } from '../pack/index.js';
import { withLock, type LockWarning, type RepoLock, type Repository, type UnreadableSnapshot } from '../repository/index.js';
import { filterSnapshots, type Snapshot, type SnapshotEntry, type SnapshotFilter } from '../snapshot/index.js';
import { compareTime, decodeTree } from '../tree/index.js';
import { mapConcurrent } from '../util/index.js';

/** What the copy needs of a repository. */
export type CopyRepository = Repository;

export interface CopySnapshotsOptions {
  /** Copy these source snapshots (IDs, unique prefixes, `latest`). @default every snapshot passing `filter` */
  readonly snapshots?: readonly string[];
  /**
   * Host/tag/path filter: selects the source snapshots when none is named (and `latest`), and, as
   * restic does, the target snapshots considered as earlier copies. @default {}
   */
  readonly filter?: SnapshotFilter;
  /** A source snapshot file that does not load (no snapshot named): reported here and skipped. @default it fails the run */
  readonly onUnreadable?: (w: UnreadableSnapshot) => void;
  /** A target snapshot file that does not load: reported here (it cannot count as a copy). @default ignored */
  readonly onTargetUnreadable?: (w: UnreadableSnapshot) => void;
  /** Progress of each snapshot: `start`, then `skipped`, or `copying` and (once saved) `copied`. */
  readonly onSnapshot?: (e: CopyEvent) => void;
  /** Take the shared locks. @default true */
  readonly lock?: boolean;
  readonly onLockWarning?: (w: LockWarning & { readonly repository: 'source' | 'target' }) => void;
  /** Stops at the next tree or pack with ERR_INTERRUPTED (no snapshot of the unfinished copy is saved). */
  readonly signal?: AbortSignal;
  /** Source reads in flight (trees, or pack ranges). @default 4 */
  readonly concurrency?: number;
}

/** One source snapshot's outcome. */
export type CopyEvent =
  | { readonly kind: 'start'; readonly source: SnapshotEntry }
  | { readonly kind: 'skipped'; readonly source: SnapshotEntry; readonly existing: SnapshotId }
  | { readonly kind: 'copying'; readonly source: SnapshotEntry }
  | ({ readonly kind: 'copied'; readonly source: SnapshotEntry; readonly target: SnapshotId } & CopyCounts);

export interface CopyCounts {
  /** Blobs stored in the target (tree and data) for this snapshot. */
  readonly blobsCopied: number;
  /** Their plaintext bytes. */
  readonly bytesCopied: number;
  /** What they take in the target (compressed, encrypted). */
  readonly bytesStored: number;
}

export interface CopyResult extends CopyCounts {
  /** Source snapshots selected. */
  readonly considered: number;
  /** Source → new target snapshot, in order. */
  readonly copied: readonly { readonly source: SnapshotId; readonly target: SnapshotId }[];
  /** Source → the target snapshot that already is its copy. */
  readonly skipped: readonly { readonly source: SnapshotId; readonly existing: SnapshotId }[];
}

/**
 * restic's similarSnapshots: everything but `parent` and `original` is the same (paths and tags
 * as sets of the same size, excludes in order, time as an instant).
 */
export function isSimilarSnapshot(a: Snapshot, b: Snapshot): boolean {
  const tagsA = a.tags ?? [];
  const tagsB = b.tags ?? [];
  const excA = a.excludes ?? [];
  const excB = b.excludes ?? [];
  if (compareTime(a.time, b.time) !== 0 || a.tree !== b.tree) return false;
  if ((a.hostname ?? '') !== (b.hostname ?? '') || (a.username ?? '') !== (b.username ?? '')) return false;
  if ((a.uid ?? 0) !== (b.uid ?? 0) || (a.gid ?? 0) !== (b.gid ?? 0)) return false;
  if (a.paths.length !== b.paths.length || excA.length !== excB.length || tagsA.length !== tagsB.length) return false;
  if (!b.paths.every((p) => a.paths.includes(p))) return false;
  // restic's HasTags: an empty tag matches a snapshot without tags.
  if (!tagsB.every((t) => (t === '' && tagsA.length === 0) || tagsA.includes(t))) return false;
  return excA.every((e, i) => e === excB[i]);
}

/**
 * The target snapshot that already is a copy of `source` (restic's rule: same persistent ID —
 * `original`, else the ID — and similar), or undefined.
 */
export function findCopy(source: SnapshotEntry, byOriginal: ReadonlyMap<SnapshotId, readonly SnapshotEntry[]>): SnapshotEntry | undefined {
  const key = source.snapshot.original ?? source.id;
  return byOriginal.get(key)?.find((t) => isSimilarSnapshot(t.snapshot, source.snapshot));
}

/** Target snapshots by persistent ID: each under its `original` and under its own ID. */
export function indexCopies(target: readonly SnapshotEntry[]): Map<SnapshotId, SnapshotEntry[]> {
  const map = new Map<SnapshotId, SnapshotEntry[]>();
  const add = (k: SnapshotId, e: SnapshotEntry): void => {
    const list = map.get(k);
    if (list === undefined) map.set(k, [e]);
    else list.push(e);
  };
  for (const e of target) {
    if (e.snapshot.original !== undefined) add(e.snapshot.original, e);
    add(e.id, e);
  }
  return map;
}

/** The snapshot as the target stores it: no parent (it means nothing there), `original` kept or set. */
export function copiedSnapshot(source: SnapshotEntry): Snapshot {
  const { parent: _parent, original, ...rest } = source.snapshot;
  return { ...rest, original: original ?? source.id };
}

/** Gaps between blobs of one pack up to this size are read along with them (one read, not two). */
const MAX_GAP = 256 << 10;
/** One read of a pack covers at most this much (unless a single blob is larger). */
const MAX_READ = 8 << 20;

interface PackedRef {
  readonly id: BlobId;
  readonly pack: PackId;
  readonly offset: number;
  readonly length: number;
  readonly uncompressedLength: number;
}

function interrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted; no snapshot of the unfinished copy was saved');
}

/**
 * Copies the selected snapshots of `source` into `target` (see the file comment). Both
 * repositories must be open; their indexes are loaded here. Lookup errors for a reference that
 * names no single snapshot; a blob that cannot be read from the source stops the run with its
 * error (the snapshots copied before it stay copied).
 */
export async function copySnapshots(source: CopyRepository, target: CopyRepository, options: CopySnapshotsOptions = {}): Promise<CopyResult> {
  const take = options.lock !== false;
  const warn = (repository: 'source' | 'target') => (w: LockWarning): void => options.onLockWarning?.({ ...w, repository });
  return withLock(source, { exclusive: false, take, onWarning: options.onLockWarning === undefined ? undefined : warn('source') }, () =>
    withLock(target, { exclusive: false, take, onWarning: options.onLockWarning === undefined ? undefined : warn('target') }, (lock) =>
      copyLocked(source, target, lock, options),
    ),
  );
}

async function copyLocked(source: CopyRepository, target: CopyRepository, lock: RepoLock | undefined, options: CopySnapshotsOptions): Promise<CopyResult> {
  const { signal } = options;
  const filter = options.filter ?? {};
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const selected = await selectSnapshots(source, options.snapshots ?? [], {
    filter,
    ...(options.onUnreadable !== undefined ? { onUnreadable: options.onUnreadable } : {}),
  });
  const existing = filterSnapshots(await target.listSnapshots({ onUnreadable: (w) => options.onTargetUnreadable?.(w) }), filter);
  const byOriginal = indexCopies(existing);
  interrupted(signal);
  await source.loadIndex();
  await target.loadIndex();

  /** Trees walked in this run (restic's visitedTrees): a tree shared by snapshots is walked once. */
  const visited = new Set<TreeId>();
  const copied: { source: SnapshotId; target: SnapshotId }[] = [];
  const skipped: { source: SnapshotId; existing: SnapshotId }[] = [];
  const total = { blobsCopied: 0, bytesCopied: 0, bytesStored: 0 };

  for (const entry of selected) {
    interrupted(signal);
    options.onSnapshot?.({ kind: 'start', source: entry });
    const copy = findCopy(entry, byOriginal);
    if (copy !== undefined) {
      skipped.push({ source: entry.id, existing: copy.id });
      options.onSnapshot?.({ kind: 'skipped', source: entry, existing: copy.id });
      continue;
    }
    options.onSnapshot?.({ kind: 'copying', source: entry });
    const counts = { blobsCopied: 0, bytesCopied: 0, bytesStored: 0 };
    const stored = (added: boolean, plainLength: number, storedSize: number): void => {
      if (!added) return;
      counts.blobsCopied++;
      counts.bytesCopied += plainLength;
      counts.bytesStored += storedSize;
    };
    await copyTrees(source, target, entry.snapshot.tree, visited, stored, concurrency, signal, (ids) => copyData(source, target, ids, stored, concurrency, signal));
    // Blobs, then the index naming them, then the snapshot: never a snapshot naming missing data.
    await target.flush();
    interrupted(signal);
    await lock?.check();
    const snapshot = copiedSnapshot(entry);
    const id = await target.saveSnapshot(snapshot);
    const saved = { id, snapshot };
    // A later source snapshot with the same persistent ID (a retagged twin) is checked against it too.
    for (const k of new Set([snapshot.original ?? id, id])) byOriginal.set(k, [...(byOriginal.get(k) ?? []), saved]);
    copied.push({ source: entry.id, target: id });
    total.blobsCopied += counts.blobsCopied;
    total.bytesCopied += counts.bytesCopied;
    total.bytesStored += counts.bytesStored;
    options.onSnapshot?.({ kind: 'copied', source: entry, target: id, ...counts });
  }
  return { considered: selected.length, copied, skipped, ...total };
}

/** Data blobs collected by the walk are copied once this many wait (and at its end): memory stays bounded. */
const DATA_BATCH = 50_000;

/**
 * Walks the trees under `root` not yet visited (breadth first, `concurrency` loads at once),
 * stores the tree blobs the target lacks, and hands the data blobs the target lacks (each once)
 * to `copy`, in batches of about DATA_BATCH.
 */
async function copyTrees(
  source: CopyRepository,
  target: CopyRepository,
  root: TreeId,
  visited: Set<TreeId>,
  stored: (added: boolean, plainLength: number, storedSize: number) => void,
  concurrency: number,
  signal: AbortSignal | undefined,
  copy: (ids: readonly BlobId[]) => Promise<void>,
): Promise<void> {
  let data: BlobId[] = [];
  /** Collected and not yet copied (once copied, the target knows them: hasBlob). */
  const wanted = new Set<BlobId>();
  const copyCollected = async (): Promise<void> => {
    const ids = data;
    data = [];
    await copy(ids);
    wanted.clear();
  };
  let level: TreeId[] = [];
  if (!visited.has(root)) {
    visited.add(root);
    level.push(root);
  }
  while (level.length > 0) {
    const next: TreeId[] = [];
    await mapConcurrent(level, concurrency, async (id) => {
      interrupted(signal);
      const bytes = await source.loadBlob('tree', id);
      const tree = decodeTree(bytes, `tree ${id} in the source repository`);
      if (!target.hasBlob('tree', id)) {
        const r = await target.saveBlob('tree', id, bytes);
        stored(r.added, bytes.length, r.storedSize);
      }
      for (const node of tree.nodes) {
        for (const blob of node.content ?? []) {
          if (!wanted.has(blob) && !target.hasBlob('data', blob)) {
            wanted.add(blob);
            data.push(blob);
          }
        }
        if (node.subtree !== undefined && !visited.has(node.subtree)) {
          visited.add(node.subtree);
          next.push(node.subtree);
        }
      }
    });
    level = next;
    if (data.length >= DATA_BATCH) await copyCollected();
  }
  if (data.length > 0) await copyCollected();
}

/**
 * Copies data blobs: grouped by the source pack holding them (its first copy), read in ranges
 * covering nearby blobs, each verified on the way. A blob whose first copy fails to read or verify
 * is loaded through `loadBlob`, which tries every copy the index knows (and names the damage).
 */
async function copyData(
  source: CopyRepository,
  target: CopyRepository,
  ids: readonly BlobId[],
  stored: (added: boolean, plainLength: number, storedSize: number) => void,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const refs: PackedRef[] = ids.map((id) => {
    const e = source.index.lookup(id, 'data')[0];
    if (e === undefined) {
      throw new CairnError('ERR_NOT_FOUND', `data blob ${id} is not in the source repository's index; run \`cairn check\` on the source, and \`cairn repair index\` if packs exist that the index misses`, { data: { blob: id, type: 'data', repository: 'source' } });
    }
    return { id, pack: e.pack, offset: e.offset, length: e.length, uncompressedLength: e.uncompressedLength };
  });
  await mapConcurrent(packReads(refs, (b) => b, MAX_GAP, MAX_READ), concurrency, async ({ pack, start, end, items: blobs }) => {
    interrupted(signal);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await source.backend.load({ type: 'pack', name: pack }, start, end - start);
    } catch {
      interrupted(signal);
      bytes = undefined; // each blob falls back to loadBlob below, which reports what is wrong
    }
    const saves: Promise<void>[] = [];
    for (const b of blobs) {
      let plain: Uint8Array;
      try {
        if (bytes === undefined) throw new Error('pack range not read');
        plain = source.unsealBlob(bytes.subarray(b.offset - start, b.offset - start + b.length), { id: b.id, type: 'data', offset: b.offset, length: b.length, uncompressedLength: b.uncompressedLength, pack });
      } catch {
        plain = await source.loadBlob('data', b.id);
      }
      const length = plain.length;
      // saveBlob copies the plaintext before it returns; its promise settles once the blob is sealed.
      const save = target.saveBlob('data', b.id, plain).then((r) => stored(r.added, length, r.storedSize));
      save.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
      saves.push(save);
    }
    await Promise.all(saves);
  });
}
