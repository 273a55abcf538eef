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
import { BlobSet, IdSet } from '../index/index.js';
import type { Repository } from '../repository/index.js';
import type { SnapshotEntry } from '../snapshot/index.js';
import type { Node } from '../tree/index.js';
import { withSelectedSnapshots, type SelectedSnapshotsOptions } from './select.js';
import { TreeLoader } from './tree-loader.js';

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

/** restore-size: a tree's entries as that mode needs them. */
interface TreeSummary {
  readonly inodes: BigUint64Array;
  readonly sizes: Float64Array;
  readonly subtrees: readonly (TreeId | undefined)[];
}

/** Entries kept in tree summaries, at most (about 30 bytes each). */
const SUMMARY_LIMIT = 2_000_000;

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
  const loader = new TreeLoader(repo, options.signal === undefined ? {} : { signal: options.signal });

  if (mode === 'raw-data') {
    const used = new BlobSet();
    const walkUsed = async (tree: TreeId): Promise<void> => {
      const next: TreeId[] = [];
      for (const node of await loader.load(tree)) {
        if (node.type === 'file') for (const id of node.content ?? []) used.data.add(id);
        else if (node.type === 'dir' && node.subtree !== undefined && used.tree.add(node.subtree)) next.push(node.subtree);
      }
      loader.prefetch(next);
      for (const sub of next) await walkUsed(sub);
    };
    for (const s of snapshots) if (used.tree.add(s.snapshot.tree)) await walkUsed(s.snapshot.tree);
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

  if (mode === 'restore-size') {
    // What restore-size needs of a tree, compactly, so that a tree shared by several snapshots is
    // read once: per entry its inode, size and subtree (in name order).
    const summaries = new Map<TreeId, TreeSummary>();
    let summarized = 0;
    const summary = async (tree: TreeId): Promise<TreeSummary> => {
      const known = summaries.get(tree);
      if (known !== undefined) return known;
      const nodes = await loader.load(tree);
      const s: TreeSummary = {
        inodes: BigUint64Array.from(nodes, (n) => n.inode ?? 0n),
        sizes: Float64Array.from(nodes, (n) => n.size ?? 0),
        subtrees: nodes.map((n) => (n.type === 'dir' ? n.subtree : undefined)),
      };
      loader.prefetch(s.subtrees.filter((t): t is TreeId => t !== undefined && !summaries.has(t)));
      if (summarized + nodes.length <= SUMMARY_LIMIT) {
        summaries.set(tree, s);
        summarized += nodes.length;
      }
      return s;
    };
    for (const snap of snapshots) {
      const inodes = new Set<bigint>();
      const walk = async (tree: TreeId): Promise<void> => {
        const s = await summary(tree);
        for (let i = 0; i < s.sizes.length; i++) {
          // Every entry counts (restic's rule); a hard link's size once per snapshot.
          totalFileCount++;
          const inode = s.inodes[i]!;
          if (inode === 0n || !inodes.has(inode)) {
            inodes.add(inode);
            totalSize += s.sizes[i]!;
          }
          const sub = s.subtrees[i];
          if (sub !== undefined) await walk(sub);
        }
      };
      await walk(snap.snapshot.tree);
    }
    return { mode, snapshotsCount: snapshots.length, totalSize, totalFileCount };
  }

  for (const s of snapshots) {
    const visit = (node: Node, path: string): void => {
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
      const nodes = await loader.load(tree);
      loader.prefetch(nodes.flatMap((n) => (n.type === 'dir' && n.subtree !== undefined ? [n.subtree] : [])));
      for (const node of nodes) {
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

export interface SnapshotStatsOptions extends StatsOptions, SelectedSnapshotsOptions {}

/**
 * restic's `stats`: selects the snapshots (named ones, else all passing the filter) and counts
 * them under a shared lock with the index loaded. See {@link statsOfSnapshots}.
 */
export async function snapshotStats(repo: Repository, options: SnapshotStatsOptions = {}): Promise<StatsSummary> {
  const mode = options.mode ?? 'restore-size';
  if (!(STATS_MODES as readonly string[]).includes(mode)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `unknown counting mode "${String(mode)}"; use one of ${STATS_MODES.join(', ')}`, { data: { mode } });
  }
  return withSelectedSnapshots(repo, options, (list) => statsOfSnapshots(repo, list, options));
}
