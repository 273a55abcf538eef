/**
 * Statistics over snapshots, restic's `stats` with its four counting modes and its numbers:
 *
 * - `restore-size` (default): every entry of each snapshot (directories, symlinks… included, as
 *   restic counts them) and the size a restore writes; within one snapshot a hard-linked file
 *   (same inode, inode not 0) counts its size once. Summed over the snapshots.
 * - `files-by-contents`: entries unique by content (the sequence of their data blob IDs) over all
 *   snapshots, and their sizes; every entry without content (directories, empty files, symlinks)
 *   is one and the same "content", as in restic.
 * - `blobs-per-file`: for files unique by content, each distinct (path, data blob) once: files,
 *   blob references and the blobs' plaintext bytes.
 * - `raw-data`: the distinct blobs (data and tree) the snapshots refer to, as stored: their packed
 *   bytes (encrypted, compressed), count, and on format-version-2 repositories restic 0.15's
 *   compression figures — uncompressed size (each blob's plaintext plus the 32 bytes of
 *   encryption overhead, so it compares with the stored size), compression ratio of the
 *   compressed blobs, the share of compressed blobs (progress) and the space saved.
 *
 * A blob the index does not know fails the count (ERR_NOT_FOUND), as it fails restic's.
 */
import { CairnError } from '../errors.js';
import type { IndexEntry } from '../index/index.js';
import { hashId, idToBytes, type BlobId, type TreeId } from '../model/index.js';
import { BlobSet, IdSet } from '../prune/index.js';
import { withLock, type LockWarning, type Repository, type UnreadableSnapshot } from '../repository/index.js';
import type { SnapshotEntry, SnapshotFilter } from '../snapshot/index.js';
import { compareNames, decodeTree, type Node } from '../tree/index.js';
import { selectSnapshots } from './select.js';

export const STATS_MODES = ['restore-size', 'files-by-contents', 'blobs-per-file', 'raw-data'] as const;
export type StatsMode = (typeof STATS_MODES)[number];

/** restic's statsContainer, with camel-case names (restic's JSON names in the comments). */
export interface StatsSummary {
  readonly mode: StatsMode;
  /** `snapshots_count` */
  readonly snapshotsCount: number;
  /** `total_size`: bytes as the mode counts them (raw-data: as stored). */
  readonly totalSize: number;
  /** `total_file_count` (0 in raw-data mode). */
  readonly totalFileCount: number;
  /** `total_blob_count`: raw-data and blobs-per-file only. */
  readonly totalBlobCount?: number;
  /** `total_uncompressed_size`: raw-data on version-2 repositories. */
  readonly totalUncompressedSize?: number;
  /** `compression_ratio`: uncompressed ÷ stored size of the compressed blobs (when there are any). */
  readonly compressionRatio?: number;
  /** `compression_progress`: percentage of the uncompressed size that is stored compressed. */
  readonly compressionProgress?: number;
  /** `compression_space_saving`: percentage of the uncompressed size that storage saves. */
  readonly compressionSpaceSaving?: number;
}

export interface StatsOptions {
  /** @default 'restore-size' */
  readonly mode?: StatsMode;
  /** Stops the count with ERR_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

/** What the statistics need of a repository. */
export type StatsRepository = Pick<Repository, 'loadBlob' | 'blobLength' | 'index' | 'version'>;

/** Sums over index entries (one per distinct blob), restic's raw-data arithmetic. */
export interface BlobTotals {
  readonly count: number;
  /** Σ stored length (encrypted, compressed when compressed). */
  readonly storedSize: number;
  /** Σ plaintext length + 32 (restic's CiphertextLength(DataLength)). */
  readonly uncompressedSize: number;
  /** Σ stored length of the compressed blobs. */
  readonly compressedStoredSize: number;
  /** Σ plaintext length + 32 of the compressed blobs. */
  readonly compressedUncompressedSize: number;
}

const OVERHEAD = 32;

/** Adds one index entry to running totals. */
export function addToTotals(t: BlobTotals, e: IndexEntry): BlobTotals {
  const plain = e.uncompressedLength > 0 ? e.uncompressedLength : e.length - OVERHEAD;
  const compressed = e.uncompressedLength > 0;
  return {
    count: t.count + 1,
    storedSize: t.storedSize + e.length,
    uncompressedSize: t.uncompressedSize + plain + OVERHEAD,
    compressedStoredSize: t.compressedStoredSize + (compressed ? e.length : 0),
    compressedUncompressedSize: t.compressedUncompressedSize + (compressed ? plain + OVERHEAD : 0),
  };
}

export const EMPTY_TOTALS: BlobTotals = { count: 0, storedSize: 0, uncompressedSize: 0, compressedStoredSize: 0, compressedUncompressedSize: 0 };

/** restic 0.15's compression figures from blob totals (absent when restic leaves them out: 0). */
export function compressionFigures(t: BlobTotals): { compressionRatio?: number; compressionProgress?: number; compressionSpaceSaving?: number } {
  const out: { compressionRatio?: number; compressionProgress?: number; compressionSpaceSaving?: number } = {};
  if (t.compressedStoredSize > 0) out.compressionRatio = t.compressedUncompressedSize / t.compressedStoredSize;
  if (t.uncompressedSize > 0) {
    const progress = (t.compressedUncompressedSize / t.uncompressedSize) * 100;
    const saving = (1 - t.storedSize / t.uncompressedSize) * 100;
    if (progress !== 0) out.compressionProgress = progress;
    if (saving !== 0) out.compressionSpaceSaving = saving;
  }
  return out;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted');
}

function missingBlob(type: 'data' | 'tree', id: BlobId, where: string): CairnError {
  return new CairnError('ERR_NOT_FOUND', `${type} blob ${id} (${where}) is not in the repository's index; run \`cairn check\``, { data: { blob: id, type } });
}

/**
 * Counts `snapshots` in `options.mode` (see the file comment). The repository's index must be
 * loaded. Throws what loading a tree throws, ERR_NOT_FOUND for a blob the index lacks, or
 * ERR_INTERRUPTED.
 */
export async function statsOfSnapshots(repo: StatsRepository, snapshots: readonly SnapshotEntry[], options: StatsOptions = {}): Promise<StatsSummary> {
  const mode = options.mode ?? 'restore-size';
  if (!(STATS_MODES as readonly string[]).includes(mode)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `unknown counting mode "${String(mode)}"; use one of ${STATS_MODES.join(', ')}`, { data: { mode } });
  }
  const load = async (id: TreeId): Promise<Node[]> => {
    checkAborted(options.signal);
    const nodes = decodeTree(await repo.loadBlob('tree', id), `tree ${id}`, { allowUnsafeNames: true, allowUnsorted: true }).nodes;
    return [...nodes].sort((x, y) => compareNames(x.name, y.name));
  };

  if (mode === 'raw-data') {
    const used = new BlobSet();
    for (const s of snapshots) {
      const stack: TreeId[] = [s.snapshot.tree];
      while (stack.length > 0) {
        const tree = stack.pop()!;
        if (!used.tree.add(tree)) continue;
        for (const node of await load(tree)) {
          if (node.type === 'file') for (const id of node.content ?? []) used.data.add(id);
          else if (node.type === 'dir' && node.subtree !== undefined && !used.tree.has(node.subtree)) stack.push(node.subtree);
        }
      }
    }
    let totals = EMPTY_TOTALS;
    for (const type of ['data', 'tree'] as const) {
      for (const id of used.of(type)) {
        const e = repo.index.lookup(id as BlobId, type)[0];
        if (e === undefined) throw missingBlob(type, id as BlobId, 'referred to by a snapshot');
        totals = addToTotals(totals, e);
      }
    }
    return {
      mode,
      snapshotsCount: snapshots.length,
      totalSize: totals.storedSize,
      totalFileCount: 0,
      totalBlobCount: totals.count,
      ...(repo.version >= 2 ? { totalUncompressedSize: totals.uncompressedSize, ...compressionFigures(totals) } : {}),
    };
  }

  let totalSize = 0;
  let totalFileCount = 0;
  let totalBlobCount = 0;
  /** files-by-contents, blobs-per-file: the content sequences seen (hashed). */
  const uniqueFiles = new IdSet();
  /** blobs-per-file: path → data blobs counted for it. */
  const fileBlobs = new Map<string, Set<BlobId>>();
  const decoder = new TextDecoder();

  const contentId = (node: Node): BlobId => {
    const content = node.content ?? [];
    const bytes = new Uint8Array(content.length * 32);
    content.forEach((id, i) => bytes.set(idToBytes(id), i * 32));
    return hashId(bytes) as BlobId;
  };

  for (const s of snapshots) {
    const inodes = new Set<bigint>();
    const visit = (node: Node, path: string): void => {
      if (mode === 'restore-size') {
        totalFileCount++;
        const inode = node.inode ?? 0n;
        if (inode === 0n || !inodes.has(inode)) {
          inodes.add(inode);
          totalSize += node.size ?? 0;
        }
        return;
      }
      if (!uniqueFiles.add(contentId(node))) return;
      if (mode === 'files-by-contents') {
        totalSize += node.size ?? 0;
        totalFileCount++;
        return;
      }
      for (const id of node.content ?? []) {
        let seen = fileBlobs.get(path);
        if (seen === undefined) {
          seen = new Set();
          fileBlobs.set(path, seen);
          totalFileCount++;
        }
        if (seen.has(id)) continue;
        const size = repo.blobLength('data', id);
        if (size === undefined) throw missingBlob('data', id, `of ${path} in snapshot ${s.id.slice(0, 8)}`);
        totalSize += size;
        seen.add(id);
        totalBlobCount++;
      }
    };
    const walk = async (tree: TreeId, prefix: string): Promise<void> => {
      for (const node of await load(tree)) {
        const path = `${prefix}/${decoder.decode(node.name)}`;
        visit(node, path);
        if (node.type === 'dir' && node.subtree !== undefined) await walk(node.subtree, path);
      }
    };
    await walk(s.snapshot.tree, '');
  }
  return {
    mode,
    snapshotsCount: snapshots.length,
    totalSize,
    totalFileCount,
    ...(mode === 'blobs-per-file' ? { totalBlobCount } : {}),
  };
}

export interface SnapshotStatsOptions extends StatsOptions {
  /** Count these snapshots (IDs, unique prefixes, `latest`). @default every snapshot passing `filter` */
  readonly snapshots?: readonly string[];
  /** Host/tag/path filter (for `latest`, or when no snapshot is named). @default {} */
  readonly filter?: SnapshotFilter;
  /** With no snapshot named: a snapshot file that does not load is reported here and left out. @default: it fails the count */
  readonly onUnreadable?: (w: UnreadableSnapshot) => void;
  /** Take a shared lock, as restic does. @default true */
  readonly lock?: boolean;
  readonly onLockWarning?: (w: LockWarning) => void;
}

/**
 * restic's `stats`: selects the snapshots (named ones, else all passing the filter) and counts
 * them under a shared lock with the index loaded. See {@link statsOfSnapshots}.
 */
export async function snapshotStats(repo: Repository, options: SnapshotStatsOptions = {}): Promise<StatsSummary> {
  const mode = options.mode ?? 'restore-size';
  if (!(STATS_MODES as readonly string[]).includes(mode)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `unknown counting mode "${String(mode)}"; use one of ${STATS_MODES.join(', ')}`, { data: { mode } });
  }
  return withLock(repo, { exclusive: false, take: options.lock !== false, onWarning: options.onLockWarning }, async () => {
    const list = await selectSnapshots(repo, options.snapshots ?? [], {
      ...(options.filter !== undefined ? { filter: options.filter } : {}),
      ...(options.onUnreadable !== undefined ? { onUnreadable: options.onUnreadable } : {}),
    });
    await repo.loadIndex();
    return statsOfSnapshots(repo, list, options);
  });
}
