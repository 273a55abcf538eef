/**
 * A repository's vital statistics (`cairn repo info`): its config (format version, ID, chunker),
 * how many key, snapshot, index and pack files it stores, and from the index how many distinct
 * blobs of each type it holds, their stored and uncompressed sizes and the compression achieved.
 *
 * The blob figures use the arithmetic of restic's `stats --mode raw-data` (see stats.ts), over
 * every indexed blob rather than the ones snapshots refer to: when nothing is unreferenced (after
 * a prune), they equal `stats --mode raw-data` over all snapshots. A blob indexed in several packs
 * counts once (its first index entry, as restic's lookups use).
 */
import { formatPolynomial } from '../chunker/index.js';
import type { Id } from '../model/index.js';
import { withLock, type ChunkerConfig, type LockWarning, type Repository } from '../repository/index.js';
import { addToTotals, compressionFigures, EMPTY_TOTALS, type BlobTotals } from './stats.js';

export interface RepositoryInfo {
  readonly id: Id;
  /** Repository format version: 1 (no compression) or 2. */
  readonly version: 1 | 2;
  /** The chunker new snapshots use (restic-made repositories: Rabin). */
  readonly chunker: ChunkerConfig;
  /** The config's Rabin polynomial, hex (used only by the Rabin chunker). */
  readonly chunkerPolynomial: string;
  readonly keys: number;
  readonly snapshots: number;
  readonly indexFiles: number;
  /** Pack files stored (in `data/`), and their total bytes. */
  readonly packs: number;
  readonly packBytes: number;
  /** Packs the index names. */
  readonly indexedPacks: number;
  /** Distinct blobs in the index. */
  readonly dataBlobs: number;
  readonly treeBlobs: number;
  /** Σ stored length of the distinct blobs (encrypted, compressed when compressed). */
  readonly blobStoredSize: number;
  /** Σ plaintext length + 32 of the distinct blobs (restic's `total_uncompressed_size`). */
  readonly blobUncompressedSize: number;
  /** As restic 0.15's `stats --mode raw-data`: absent when 0. */
  readonly compressionRatio?: number;
  readonly compressionProgress?: number;
  readonly compressionSpaceSaving?: number;
}

export interface RepositoryInfoOptions {
  /** Take a shared lock while the index is read. @default true */
  readonly lock?: boolean;
  readonly onLockWarning?: (w: LockWarning) => void;
}

/** Reads the listings, the config and the index (loading it) and returns the figures. */
export async function repositoryInfo(repo: Repository, options: RepositoryInfoOptions = {}): Promise<RepositoryInfo> {
  return withLock(repo, { exclusive: false, take: options.lock !== false, onWarning: options.onLockWarning, overlap: true }, async () => {
    const countFiles = async (type: 'key' | 'snapshot' | 'index'): Promise<number> => {
      let n = 0;
      for await (const _ of repo.backend.list(type)) n++;
      return n;
    };
    const [keys, snapshots, indexFiles] = await Promise.all([countFiles('key'), countFiles('snapshot'), countFiles('index')]);
    let packs = 0;
    let packBytes = 0;
    for await (const f of repo.backend.list('pack')) {
      packs++;
      packBytes += f.size;
    }
    await repo.loadIndex();
    const index = repo.index;
    let data = EMPTY_TOTALS;
    let tree = EMPTY_TOTALS;
    for (const { id, entry } of index.entries()) {
      const all = index.lookup(id, entry.type);
      const first = all[0];
      // A blob stored twice counts once: by its first entry.
      if (all.length > 1 && first !== undefined && (first.pack !== entry.pack || first.offset !== entry.offset)) continue;
      if (entry.type === 'tree') tree = addToTotals(tree, entry);
      else data = addToTotals(data, entry);
    }
    const all: BlobTotals = {
      count: data.count + tree.count,
      storedSize: data.storedSize + tree.storedSize,
      uncompressedSize: data.uncompressedSize + tree.uncompressedSize,
      compressedStoredSize: data.compressedStoredSize + tree.compressedStoredSize,
      compressedUncompressedSize: data.compressedUncompressedSize + tree.compressedUncompressedSize,
    };
    return {
      id: repo.config.id,
      version: repo.config.version,
      chunker: repo.config.chunker,
      chunkerPolynomial: formatPolynomial(repo.config.chunkerPolynomial),
      keys,
      snapshots,
      indexFiles,
      packs,
      packBytes,
      indexedPacks: index.packCount,
      dataBlobs: data.count,
      treeBlobs: tree.count,
      blobStoredSize: all.storedSize,
      blobUncompressedSize: all.uncompressedSize,
      ...compressionFigures(all),
    };
  });
}
