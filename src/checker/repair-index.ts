/**
 * `repair index` (restic 0.14's `rebuild-index`): a new index built from what the packs hold.
 *
 * 1. Load the index files that load (unless `readAllPacks`: then start empty). A file that does
 *    not load is reported and will be replaced.
 * 2. List the packs with their sizes. A pack the loaded index names with exactly its size keeps
 *    its index entries as they are; every other pack (unindexed, or of another size, or every pack
 *    with `readAllPacks`) has its header read and is indexed from it. A pack whose header cannot be
 *    read (truncated, damaged) is reported and left where it is, in no index: nothing is deleted
 *    but index files. Packs the index names that no longer exist are dropped from the index.
 * 3. Write the new index files (the first one lists every old file in `supersedes`), and only then
 *    delete the old index files. An interruption between the two leaves both, which is harmless:
 *    they name the same packs.
 *
 * Holds an exclusive lock throughout.
 */
import { CairnError, isCairnError } from '../errors.js';
import { MasterIndex, type IndexPack } from '../index/index.js';
import type { Id, PackId } from '../model/index.js';
import { withLock, type LockWarning, type Repository } from '../repository/index.js';
import { mapConcurrent } from '../util/index.js';
import { checkAborted, loadIndexFiles, reason } from './index-files.js';
import { PackTable } from './pack-table.js';

export type RepairIndexRepository = Pick<Repository, 'backend' | 'version' | 'list' | 'loadUnpacked' | 'saveUnpacked' | 'listPack' | 'saveIndexFiles'>;

export interface RepairIndexOptions {
  /** Read every pack's header instead of trusting index entries whose pack size matches. @default false */
  readonly readAllPacks?: boolean;
  /** Pack headers read at once. @default 8 */
  readonly concurrency?: number;
  /** Take an exclusive lock for the duration. @default true */
  readonly lock?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RepairIndexEvent) => void;
  /** Problems with the held lock (a failed refresh). @default process warnings */
  readonly onLockWarning?: (w: LockWarning) => void;
}

export type RepairIndexEvent =
  /** An index file that does not load; it is replaced. */
  | { readonly kind: 'invalid-index'; readonly index: Id; readonly message: string }
  /** A pack no loaded index names: indexed from its header. */
  | { readonly kind: 'pack-added'; readonly pack: PackId; readonly size: number }
  /** A pack whose size differs from what the index implies: re-indexed from its header. */
  | { readonly kind: 'pack-reindexed'; readonly pack: PackId; readonly size: number; readonly expected: number }
  /** A pack the index names that does not exist: dropped from the index. */
  | { readonly kind: 'pack-missing'; readonly pack: PackId }
  /** A pack whose header cannot be read: left in place, in no index. */
  | { readonly kind: 'pack-unreadable'; readonly pack: PackId; readonly message: string }
  /** The new index files are written; the old ones are about to be deleted. */
  | { readonly kind: 'index-written'; readonly files: readonly Id[] };

export interface RepairIndexSummary {
  /** Index files there were (all deleted, unless one has the very ID of a new one). */
  readonly oldIndexFiles: readonly Id[];
  readonly newIndexFiles: readonly Id[];
  /** Packs and blobs the new index names. */
  readonly packs: number;
  readonly blobs: number;
  /** Packs whose headers were read. */
  readonly packsRead: number;
  readonly added: number;
  readonly reindexed: number;
  readonly removed: number;
  readonly invalidIndexFiles: number;
  readonly unreadable: readonly PackId[];
}

export async function repairIndex(repo: RepairIndexRepository, options: RepairIndexOptions = {}): Promise<RepairIndexSummary> {
  return withLock(repo, { exclusive: true, take: options.lock !== false, onWarning: options.onLockWarning }, (lock) => rebuild(repo, options, async () => lock?.check()));
}

async function rebuild(repo: RepairIndexRepository, options: RepairIndexOptions, checkLock: () => Promise<void>): Promise<RepairIndexSummary> {
  const emit = options.onEvent ?? ((): void => undefined);
  const concurrency = options.concurrency ?? 8;
  const old = new MasterIndex();
  let oldFiles: Id[];
  let invalid = 0;
  if (options.readAllPacks === true) {
    oldFiles = [];
    for await (const id of repo.list('index')) oldFiles.push(id);
    oldFiles.sort();
  } else {
    const loaded = await loadIndexFiles(repo, old, concurrency, options.signal);
    oldFiles = [...loaded.all];
    for (const bad of loaded.bad) {
      invalid++;
      emit({ kind: 'invalid-index', index: bad.id, message: bad.message });
    }
  }
  const table = PackTable.from(old);

  checkAborted(options.signal);
  const present = new Map<PackId, number>();
  for await (const f of repo.backend.list('pack')) present.set(f.name as PackId, f.size);
  const keep: PackId[] = [];
  const read: PackId[] = [];
  let added = 0;
  let reindexed = 0;
  let removed = 0;
  for (const [pack, size] of [...present].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (!table.has(pack)) {
      read.push(pack);
      if (options.readAllPacks !== true) {
        added++;
        emit({ kind: 'pack-added', pack, size });
      }
      continue;
    }
    const expected = table.expectedSize(pack);
    if (expected !== size) {
      read.push(pack);
      reindexed++;
      emit({ kind: 'pack-reindexed', pack, size, expected });
    } else {
      keep.push(pack);
    }
  }
  for (const pack of [...table.packs()].sort()) {
    if (!present.has(pack)) {
      removed++;
      emit({ kind: 'pack-missing', pack });
    }
  }

  const unreadable: PackId[] = [];
  const fromHeaders = await mapConcurrent(read, concurrency, async (pack): Promise<IndexPack | undefined> => {
    checkAborted(options.signal);
    try {
      const blobs = await repo.listPack(pack);
      if (repo.version === 1 && blobs.some((b) => b.uncompressedLength > 0)) {
        throw new CairnError('ERR_CORRUPT', `pack ${pack}: its header lists compressed blobs, which a version 1 repository cannot hold`);
      }
      return { id: pack, blobs };
    } catch (e) {
      if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
      unreadable.push(pack);
      emit({ kind: 'pack-unreadable', pack, message: reason(e) });
      return undefined;
    }
  });

  const packs: IndexPack[] = [];
  for (const pack of keep) packs.push({ id: pack, blobs: table.blobs(pack) });
  for (const p of fromHeaders) if (p !== undefined) packs.push(p);
  packs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  checkAborted(options.signal);
  await checkLock();
  const newFiles = await repo.saveIndexFiles(packs, oldFiles);
  emit({ kind: 'index-written', files: newFiles });
  await checkLock(); // the old files go only while no one else can be relying on them
  const fresh = new Set(newFiles);
  for (const id of oldFiles) {
    if (!fresh.has(id)) await repo.backend.remove({ type: 'index', name: id });
  }
  return {
    oldIndexFiles: oldFiles,
    newIndexFiles: newFiles,
    packs: packs.length,
    blobs: packs.reduce((n, p) => n + p.blobs.length, 0),
    packsRead: read.length,
    added: options.readAllPacks === true ? 0 : added,
    reindexed,
    removed,
    invalidIndexFiles: invalid,
    unreadable: unreadable.sort(),
  };
}
