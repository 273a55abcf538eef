/**
 * Executing a prune plan. The order keeps the repository valid at every instant, so that a crash
 * (SIGKILL, power loss after the durable steps) anywhere leaves a repository restic accepts and
 * the next prune completes:
 *
 * 1. delete unreferenced packs (no index names them, and under the exclusive lock nobody is
 *    about to);
 * 2. repack: copy each needed blob of the packs to repack — verified first (MAC, decompression,
 *    SHA-256), so damage is never copied — into new packs, each durable before it is recorded;
 * 3. write the new index: every pack that stays plus the new ones (old and new index files now
 *    overlap, which readers accept);
 * 4. delete the old index files (the new ones already cover every pack that stays);
 * 5. delete the packs that no index names any more (unused and repacked ones).
 *
 * Until step 3 the old index still describes every old pack, which all still exist; after it
 * every index file names only existing packs; packs are deleted only once no index names them.
 * The lock is checked before each destructive step.
 */
import { CairnError, messageOf } from '../errors.js';
import type { Id, PackId } from '../model/index.js';
import type { IndexPack } from '../index/index.js';
import { readRuns, type PackedBlob, type SealedBlob } from '../pack/index.js';
import { mapConcurrent } from '../util/index.js';
import { BlobSet } from '../index/index.js';
import { checkAborted, type PruneCallbacks, type PruneEvent } from './options.js';
import { isNoop, type PrunePlan, type PruneRepository } from './plan.js';

export interface ExecutePruneOptions extends PruneCallbacks {
  /** The exclusive lock held; checked before each destructive step. */
  readonly lock?: { check(): Promise<void> };
  /** Files removed at once. @default 8 */
  readonly deleteConcurrency?: number;
}

/** What executing the plan did. */
export interface PruneResult {
  readonly unreferencedPacksDeleted: number;
  /** Unused and repacked packs deleted. */
  readonly packsDeleted: number;
  readonly packsRepacked: number;
  readonly blobsRepacked: number;
  readonly packsWritten: number;
  readonly bytesWritten: number;
  readonly indexFilesWritten: number;
  readonly indexFilesDeleted: number;
  /** File bytes of every pack deleted (unreferenced ones included). */
  readonly bytesDeleted: number;
}

interface CopyEntry extends PackedBlob {
  readonly pack: PackId;
}

/** Gap between two blobs up to which one read covers both. */
const MERGE_GAP = 1 << 20;
/** Longest single read while repacking. */
const MAX_READ = 32 << 20;

/** Carries out `plan` (made by planPrune on the same repository, under the same exclusive lock). */
export async function executePrune(repo: PruneRepository, plan: PrunePlan, options: ExecutePruneOptions = {}): Promise<PruneResult> {
  const { signal, lock } = options;
  const event = (e: PruneEvent): void => options.onEvent?.(e);
  const concurrency = options.deleteConcurrency ?? 8;
  const result = {
    unreferencedPacksDeleted: 0, packsDeleted: 0, packsRepacked: 0, blobsRepacked: 0, packsWritten: 0, bytesWritten: 0,
    indexFilesWritten: 0, indexFilesDeleted: 0, bytesDeleted: 0,
  };
  if (isNoop(plan)) {
    event({ type: 'phase', phase: 'done' });
    return result;
  }
  const checkLock = async (): Promise<void> => {
    if (lock !== undefined) await lock.check();
  };
  const removePack = async (pack: PackId, reason: 'unreferenced' | 'unused' | 'repacked'): Promise<void> => {
    checkAborted(signal, 'while deleting packs');
    await removeIfPresent(repo, 'pack', pack);
    const size = plan.packSizes.get(pack) ?? 0;
    result.bytesDeleted += size;
    if (reason === 'unreferenced') result.unreferencedPacksDeleted++;
    else result.packsDeleted++;
    event({ type: 'pack-deleted', pack, size, reason });
  };

  // 1. Packs no index names.
  await checkLock();
  if (plan.unreferencedPacks.length > 0) {
    event({ type: 'phase', phase: 'delete-unreferenced', count: plan.unreferencedPacks.length });
    await mapConcurrent(plan.unreferencedPacks, concurrency, (p) => removePack(p, 'unreferenced'));
  }

  // 2. Repack.
  const newPacks: IndexPack[] = [];
  if (plan.repackPacks.length > 0) {
    checkAborted(signal, 'before repacking');
    event({ type: 'phase', phase: 'repack', count: plan.repackPacks.length });
    const copied = await repack(repo, plan, options, (p, size) => {
      result.packsWritten++;
      result.bytesWritten += size;
      event({ type: 'pack-written', pack: p.id, blobs: p.blobs.length, size });
    }, (pack, blobs) => {
      result.packsRepacked++;
      result.blobsRepacked += blobs;
      event({ type: 'pack-repacked', pack, blobs });
    }, newPacks);
    for (const type of ['tree', 'data'] as const) {
      for (const id of plan.keepBlobs.of(type)) {
        if (!copied.of(type).has(id)) {
          throw new CairnError('ERR_INTERNAL', `prune: ${type} blob ${id} was to be copied out of the repacked packs but was not found in them; nothing was deleted (the new packs are unreferenced until the next prune)`, { data: { blob: id, type } });
        }
      }
    }
  }

  // 3. The new index: every pack that stays, and the new ones.
  checkAborted(signal, 'before writing the new index');
  await checkLock();
  const leaving = new Set<PackId>([...plan.removePacks, ...plan.repackPacks, ...plan.missingPacks]);
  const staying = new Map<PackId, PackedBlob[]>();
  for (const { id, entry } of repo.index.entries()) {
    if (leaving.has(entry.pack)) continue;
    let list = staying.get(entry.pack);
    if (list === undefined) staying.set(entry.pack, (list = []));
    list.push({ id, type: entry.type, offset: entry.offset, length: entry.length, uncompressedLength: entry.uncompressedLength });
  }
  const packs: IndexPack[] = [...[...staying].map(([id, blobs]) => ({ id, blobs })), ...newPacks];
  event({ type: 'phase', phase: 'write-index', count: packs.length });
  const written = await repo.saveIndexFiles(packs, plan.indexFiles);
  result.indexFilesWritten = written.length;
  for (const id of written) event({ type: 'index-written', id });
  repo.replaceIndex(packs);

  // 4. The old index files.
  event({ type: 'phase', phase: 'delete-index', count: plan.indexFiles.length });
  await mapConcurrent(plan.indexFiles, concurrency, async (id) => {
    checkAborted(signal, 'while deleting old index files');
    await removeIfPresent(repo, 'index', id);
    result.indexFilesDeleted++;
    event({ type: 'index-deleted', id });
  });

  // 5. Packs no index names any more.
  await checkLock();
  const doomed: [PackId, 'unused' | 'repacked'][] = [...plan.removePacks.map((p) => [p, 'unused'] as [PackId, 'unused']), ...plan.repackPacks.map((p) => [p, 'repacked'] as [PackId, 'repacked'])];
  if (doomed.length > 0) {
    event({ type: 'phase', phase: 'delete-packs', count: doomed.length });
    await mapConcurrent(doomed, concurrency, ([p, reason]) => removePack(p, reason));
  }
  event({ type: 'phase', phase: 'done' });
  return result;
}

/** Removes a file; one already gone is fine (a previous run got that far). */
async function removeIfPresent(repo: PruneRepository, type: 'pack' | 'index', name: Id): Promise<void> {
  try {
    await repo.backend.remove({ type, name });
  } catch (e) {
    if (!(e instanceof CairnError && e.code === 'ERR_NOT_FOUND')) throw e;
  }
}

/**
 * Copies the blobs of `plan.keepBlobs` out of the packs to repack into new packs; returns the set
 * copied. Each blob is verified before it is written; a damaged one is taken from another copy if
 * one is intact (reported), else the prune stops naming pack and blob.
 */
async function repack(
  repo: PruneRepository,
  plan: PrunePlan,
  options: ExecutePruneOptions,
  onPackWritten: (p: IndexPack, size: number) => void,
  onPackRepacked: (pack: PackId, blobs: number) => void,
  out: IndexPack[],
): Promise<BlobSet> {
  const repackSet = new Set(plan.repackPacks);
  const perPack = new Map<PackId, CopyEntry[]>();
  for (const { id, entry } of repo.index.entries()) {
    if (!repackSet.has(entry.pack) || !plan.keepBlobs.of(entry.type).has(id)) continue;
    let list = perPack.get(entry.pack);
    if (list === undefined) perPack.set(entry.pack, (list = []));
    list.push({ id, type: entry.type, offset: entry.offset, length: entry.length, uncompressedLength: entry.uncompressedLength, pack: entry.pack });
  }
  const copied = new BlobSet();
  const writer = repo.createPackWriter(onPackWritten);
  const compress = repo.version >= 2;
  let failure: unknown;
  try {
    await mapConcurrent(plan.repackPacks, 2, async (pack) => {
      const entries = (perPack.get(pack) ?? []).sort((a, b) => a.offset - b.offset);
      let count = 0;
      for (const run of readRuns(entries, (e) => e, MERGE_GAP, MAX_READ)) {
        checkAborted(options.signal, 'while repacking');
        const todo = run.filter((e) => !copied.of(e.type).has(e.id));
        if (todo.length === 0) continue;
        const start = todo[0]!.offset;
        const end = todo[todo.length - 1]!.offset + todo[todo.length - 1]!.length;
        const bytes = await repo.backend.load({ type: 'pack', name: pack }, start, end - start);
        for (const e of todo) {
          if (copied.of(e.type).has(e.id)) continue; // the other worker was faster
          const sealed = bytes.subarray(e.offset - start, e.offset - start + e.length);
          let plain: Uint8Array;
          let intact = true;
          try {
            plain = repo.unsealBlob(sealed, e);
          } catch (damage) {
            plain = await otherCopy(repo, e, damage);
            intact = false;
            options.onWarning?.({
              code: 'DAMAGED_COPY',
              message: `${e.type} blob ${e.id} in pack ${pack} is damaged (${messageOf(damage)}); an intact copy from another pack was repacked instead`,
              data: { pack, blob: e.id, type: e.type },
            });
          }
          if (!copied.of(e.type).add(e.id)) continue;
          await writer.add(blobToWrite(repo, e, sealed, plain, intact, compress));
          count++;
        }
      }
      onPackRepacked(pack, count);
    });
  } catch (e) {
    failure = e;
  }
  // Wait for the packs in flight either way, so nothing is written after we return.
  try {
    out.push(...(await writer.finish()));
  } catch (e) {
    failure ??= e;
  }
  if (failure !== undefined) throw failure;
  return copied;
}

/** What to store for a verified blob: its sealed bytes as they were, or compressed anew. */
function blobToWrite(repo: PruneRepository, e: CopyEntry, sealed: Uint8Array, plain: Uint8Array, intact: boolean, compress: boolean): SealedBlob {
  if (intact && (e.uncompressedLength > 0 || !compress || plain.length === 0)) {
    return { id: e.id, type: e.type, uncompressedLength: e.uncompressedLength, sealed: sealed.slice() };
  }
  // Version 2: a repacked blob is stored compressed (as restic 0.14 does), so that it never counts
  // as uncompressed again; a copy taken from elsewhere is sealed anew.
  return repo.sealBlob(e.type, e.id, plain, compress ? 'always' : 'auto');
}

/** An intact copy of a damaged blob from any other pack, or an error naming pack and blob. */
async function otherCopy(repo: PruneRepository, e: CopyEntry, damage: unknown): Promise<Uint8Array> {
  const others = repo.index.lookup(e.id, e.type).filter((x) => x.pack !== e.pack);
  for (const o of others) {
    try {
      const bytes = await repo.backend.load({ type: 'pack', name: o.pack }, o.offset, o.length);
      return repo.unsealBlob(bytes, { id: e.id, type: e.type, offset: o.offset, length: o.length, uncompressedLength: o.uncompressedLength, pack: o.pack });
    } catch {
      // try the next copy; the first damage is what we report
    }
  }
  const code = damage instanceof CairnError && (damage.code === 'ERR_AUTH_FAILED' || damage.code === 'ERR_CORRUPT') ? damage.code : 'ERR_CORRUPT';
  throw new CairnError(
    code,
    `prune stopped: ${e.type} blob ${e.id} in pack ${e.pack} is damaged (${messageOf(damage)}) and no intact copy exists${others.length > 0 ? ` (${others.length} other copies failed too)` : ''}; nothing was deleted and the index is unchanged (new packs written so far are unreferenced). Run \`cairn check --read-data\`; the snapshots that use this blob (see \`cairn check\`) have lost it`,
    { cause: damage, data: { pack: e.pack, blob: e.id, type: e.type } },
  );
}
