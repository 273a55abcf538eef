/**
 * Planning a prune (restic 0.14's rules, spec/prune.md): which packs to delete, which to repack,
 * which blobs to copy out of the repacked ones, and the statistics the user sees.
 *
 * 1. Used blobs: every tree reachable from every snapshot (each tree walked once) and every data
 *    blob those trees name. A snapshot or tree that cannot be loaded stops the plan
 *    (ERR_PRUNE_UNSAFE): without it we cannot know what it still needs.
 * 2. Each index entry is used (the first entry of a used blob), a duplicate (a further copy of a
 *    used blob) or unused. A used blob missing from the index stops the plan.
 * 3. Per pack: used and unused bytes (its header counted as used), its blob type (data, tree, or
 *    mixed), whether it holds uncompressed blobs. Duplicates are then given to packs: a copy in a
 *    pack that already holds used blobs is used, else the last copy seen is; the others count
 *    as unused.
 * 4. Per pack file listed in storage: not in the index → delete first (unreferenced); nothing used
 *    → delete; fully used, one type, nothing to compress → keep (small ones are repack candidates
 *    when there are at least 10); otherwise a repack candidate. A used pack whose size differs
 *    from the index, or a needed pack that is missing, stops the plan.
 * 5. Candidates are sorted: tree and mixed packs first, then small packs, then by unused share;
 *    tree, mixed and to-be-compressed packs are repacked (limited only by --max-repack-size), data
 *    packs until the unused space left is within --max-unused.
 * 6. The blobs to copy: used blobs with no copy in a pack that stays.
 */
import { CairnError, messageOf } from '../errors.js';
import type { Repository } from '../repository/index.js';
import { CRYPTO_OVERHEAD } from '../crypto/index.js';
import { shortId, type BlobType, type Id, type PackId, type SnapshotId, type TreeId } from '../model/index.js';
import { entrySize, PACK_OVERHEAD } from '../pack/index.js';
import { decodeTree } from '../tree/index.js';
import { mapConcurrent } from '../util/index.js';
import { BlobSet } from '../index/index.js';
import { checkAborted, checkPruneOptions, DEFAULT_MAX_UNUSED, maxUnusedBytes, type PruneOptions, type PruneWarning } from './options.js';

/** What prune needs of a repository (a narrow view, so a fake can stand in). */
export type PruneRepository = Pick<
  Repository,
  'index' | 'version' | 'packSize' | 'backend' | 'loadIndex' | 'list' | 'loadSnapshot' | 'loadBlob' | 'unsealBlob' | 'sealBlob' | 'createPackWriter' | 'saveIndexFiles' | 'replaceIndex'
>;

/**
 * The plan's numbers (restic 0.14's prune statistics). Sizes are stored blob bytes (as the index
 * gives them), except `repackSize`, which includes the repacked packs' headers, and
 * `unreferencedSize`, the file size of packs no index names.
 */
export interface PruneStats {
  /** Snapshots whose trees were walked. */
  readonly snapshots: number;
  readonly usedBlobs: number;
  readonly usedSize: number;
  /** Further copies of used blobs. */
  readonly duplicateBlobs: number;
  readonly duplicateSize: number;
  readonly unusedBlobs: number;
  readonly unusedSize: number;
  readonly unreferencedSize: number;
  /** used + duplicate + unused. */
  readonly totalBlobs: number;
  /** used + duplicate + unused + unreferenced. */
  readonly totalSize: number;
  /** Blobs (used and unused) in the packs to repack, and their packs' bytes. */
  readonly repackBlobs: number;
  readonly repackSize: number;
  /** The unused blobs among them: repacking drops these. */
  readonly repackRemovesBlobs: number;
  readonly repackRemovesSize: number;
  /** Blobs in packs deleted whole (and in missing packs dropped from the index). */
  readonly deleteBlobs: number;
  readonly deleteSize: number;
  /** delete + repackRemoves (+ unreferenced bytes). */
  readonly pruneBlobs: number;
  readonly pruneSize: number;
  readonly remainingBlobs: number;
  readonly remainingSize: number;
  /** Unused (and duplicate) bytes left after pruning. */
  readonly unusedSizeAfter: number;
  readonly packsUsed: number;
  readonly packsPartlyUsed: number;
  readonly packsUnused: number;
  readonly packsUnreferenced: number;
  readonly packsKeep: number;
  readonly packsRepack: number;
  readonly packsDelete: number;
}

export interface PrunePlan {
  readonly stats: PruneStats;
  /** The index files read; the new index replaces all of them. */
  readonly indexFiles: readonly Id[];
  /** Packs no index names: deleted first. */
  readonly unreferencedPacks: readonly PackId[];
  /** Packs whose used blobs are copied into new packs, then deleted. */
  readonly repackPacks: readonly PackId[];
  /** Packs holding nothing used: deleted. */
  readonly removePacks: readonly PackId[];
  /** Packs the index names that are missing from storage and hold nothing used: dropped from the index. */
  readonly missingPacks: readonly PackId[];
  /** Used blobs to copy out of the repacked packs (none of them is in a pack that stays). */
  readonly keepBlobs: BlobSet;
  /** File sizes of the packs to delete, unreferenced ones included. */
  readonly packSizes: ReadonlyMap<PackId, number>;
}

/** True when executing the plan would change nothing. */
export function isNoop(plan: PrunePlan): boolean {
  return plan.unreferencedPacks.length === 0 && plan.repackPacks.length === 0 && plan.removePacks.length === 0 && plan.missingPacks.length === 0;
}


type PackKind = BlobType | 'mixed';

interface PackInfo {
  usedBlobs: number;
  unusedBlobs: number;
  usedSize: number;
  unusedSize: number;
  kind: PackKind | undefined;
  uncompressed: boolean;
}

interface Candidate {
  readonly id: PackId;
  readonly p: PackInfo;
  readonly mustCompress: boolean;
}

function unsafe(message: string, data: Record<string, unknown>, cause?: unknown): CairnError {
  return new CairnError('ERR_PRUNE_UNSAFE', `${message}; prune changed nothing`, { data, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Plans a prune. The caller holds an exclusive lock (see spec/prune.md: the plan is only right
 * while nobody adds snapshots or packs). Loads the index files (and returns their IDs in the
 * plan), every snapshot, and every tree they reach; writes nothing.
 */
export async function planPrune(repo: PruneRepository, options: PruneOptions = {}): Promise<PrunePlan> {
  checkPruneOptions(options, repo.version);
  const { signal } = options;
  const event = options.onEvent ?? (() => undefined);
  const warn = (w: PruneWarning): void => options.onWarning?.(w);

  event({ type: 'phase', phase: 'load-index' });
  const indexFiles = await repo.loadIndex();
  checkAborted(signal, 'while loading the index');

  event({ type: 'phase', phase: 'load-snapshots' });
  const snapshotIds: SnapshotId[] = [];
  const ignored = new Set<string>(options.ignoreSnapshots ?? []);
  for await (const id of repo.list('snapshot')) if (!ignored.has(id)) snapshotIds.push(id);
  const roots = await mapConcurrent(snapshotIds, 8, async (id) => {
    try {
      return { snapshot: id, tree: (await repo.loadSnapshot(id)).tree };
    } catch (e) {
      throw unsafe(`snapshot ${id} cannot be loaded (${messageOf(e)}), so the data it needs is unknown; run \`cairn check\`, then remove or repair the damaged snapshot file (\`cairn repair snapshots\`) and prune again`, { snapshot: id }, e);
    }
  });
  checkAborted(signal, 'while loading snapshots');

  event({ type: 'phase', phase: 'find-used', count: roots.length });
  const used = await findUsedBlobs(repo, roots, signal);

  event({ type: 'phase', phase: 'classify' });
  const index = repo.index;

  // Step 2: used, duplicate and unused entries.
  const found = new BlobSet();
  const duplicates = new Map<string, number>();
  const s = { usedBlobs: 0, usedSize: 0, duplicateBlobs: 0, duplicateSize: 0, unusedBlobs: 0, unusedSize: 0 };
  for (const { id, entry } of index.entries()) {
    if (used.of(entry.type).has(id)) {
      if (found.of(entry.type).add(id)) {
        s.usedBlobs++;
        s.usedSize += entry.length;
      } else {
        const key = `${entry.type}:${id}`;
        const count = duplicates.get(key);
        duplicates.set(key, count === undefined ? 2 : Math.min(count + 1, 255));
        s.duplicateBlobs++;
        s.duplicateSize += entry.length;
      }
    } else {
      s.unusedBlobs++;
      s.unusedSize += entry.length;
    }
  }
  if (found.size !== used.size) {
    const missing: string[] = [];
    for (const type of ['tree', 'data'] as const) {
      for (const id of used.of(type)) if (!found.of(type).has(id) && missing.length < 5) missing.push(`${type} ${id}`);
    }
    throw unsafe(
      `${used.size - found.size} blobs that snapshots need are in no index (${missing.join(', ')}${used.size - found.size > missing.length ? ', …' : ''}); pruning now could delete their packs. Run \`cairn check\`, and \`cairn repair index\` to index packs the index misses`,
      { missing: used.size - found.size },
    );
  }

  // Step 3: per pack.
  const packs = new Map<PackId, PackInfo>();
  for (const { id, entry } of index.entries()) {
    let p = packs.get(entry.pack);
    if (p === undefined) {
      p = { usedBlobs: 0, unusedBlobs: 0, usedSize: PACK_OVERHEAD, unusedSize: 0, kind: undefined, uncompressed: false };
      packs.set(entry.pack, p);
    }
    p.usedSize += entrySize(entry);
    p.kind = p.kind === undefined || p.kind === entry.type ? entry.type : 'mixed';
    // An empty blob cannot be stored compressed; it does not make its pack "uncompressed".
    if (entry.uncompressedLength === 0 && entry.length > CRYPTO_OVERHEAD) p.uncompressed = true;
    if (duplicates.has(`${entry.type}:${id}`)) continue;
    if (found.of(entry.type).has(id)) {
      p.usedBlobs++;
      p.usedSize += entry.length;
    } else {
      p.unusedBlobs++;
      p.unusedSize += entry.length;
    }
  }
  if (duplicates.size > 0) {
    for (const { id, entry } of index.entries()) {
      const key = `${entry.type}:${id}`;
      const count = duplicates.get(key);
      if (count === undefined) continue;
      const p = packs.get(entry.pack)!;
      if (count === 0) {
        p.unusedBlobs++;
        p.unusedSize += entry.length;
      } else if (p.usedBlobs > 0 || count === 1) {
        p.usedBlobs++;
        p.usedSize += entry.length;
        duplicates.set(key, 0);
      } else {
        p.unusedBlobs++;
        p.unusedSize += entry.length;
        duplicates.set(key, count - 1);
      }
    }
  }
  checkAborted(signal, 'while classifying packs');

  // Step 4: per pack file.
  const st = {
    unreferencedSize: 0, repackBlobs: 0, repackSize: 0, repackRemovesBlobs: 0, repackRemovesSize: 0, deleteBlobs: 0, deleteSize: 0,
    packsUsed: 0, packsPartlyUsed: 0, packsUnused: 0, packsKeep: 0,
  };
  const unreferencedPacks: PackId[] = [];
  const removePacks: PackId[] = [];
  const repackPacks: PackId[] = [];
  const packSizes = new Map<PackId, number>();
  const candidates: Candidate[] = [];
  const smallCandidates: Candidate[] = [];
  const targetPackSize = Math.floor(repo.packSize / 25);
  const seen = new Set<PackId>();
  for await (const f of repo.backend.list('pack')) {
    const id = f.name as PackId;
    const p = packs.get(id);
    if (p === undefined) {
      unreferencedPacks.push(id);
      packSizes.set(id, f.size);
      st.unreferencedSize += f.size;
      continue;
    }
    seen.add(id);
    if (p.usedSize + p.unusedSize !== f.size && p.usedBlobs !== 0) {
      throw unsafe(
        `pack ${id} has ${f.size} bytes, but the index describes ${p.usedSize + p.unusedSize}; it holds blobs that snapshots need, so it cannot be repacked or trusted. Run \`cairn check --read-data\`, then \`cairn repair index\``,
        { pack: id, size: f.size, indexed: p.usedSize + p.unusedSize },
      );
    }
    if (p.usedBlobs === 0) st.packsUnused++;
    else if (p.unusedBlobs === 0) st.packsUsed++;
    else st.packsPartlyUsed++;

    const mustCompress = repo.version >= 2 && (p.kind === 'tree' || options.repackUncompressed === true) && p.uncompressed;
    if (p.usedBlobs === 0) {
      removePacks.push(id);
      packSizes.set(id, f.size);
      st.deleteBlobs += p.unusedBlobs;
      st.deleteSize += p.unusedSize;
    } else if (p.unusedBlobs === 0 && p.kind !== 'mixed' && !mustCompress) {
      if (f.size >= targetPackSize) st.packsKeep++;
      else smallCandidates.push({ id, p, mustCompress });
    } else {
      candidates.push({ id, p, mustCompress });
    }
  }

  const missingPacks: PackId[] = [];
  const neededMissing: PackId[] = [];
  for (const [id, p] of packs) {
    if (seen.has(id)) continue;
    if (p.usedBlobs === 0) {
      missingPacks.push(id);
      st.deleteBlobs += p.unusedBlobs;
      st.deleteSize += p.unusedSize;
      warn({ code: 'MISSING_PACK', message: `pack ${id} is in the index but missing from storage; it held nothing needed, so the new index leaves it out`, data: { pack: id } });
    } else {
      neededMissing.push(id);
    }
  }
  if (neededMissing.length > 0) {
    throw unsafe(
      `${neededMissing.length} packs the index names are missing from storage and hold data that snapshots need (${neededMissing.slice(0, 5).join(', ')}${neededMissing.length > 5 ? ', …' : ''}). Run \`cairn check\`; recover the packs from another copy, or run \`cairn repair index\` and \`cairn repair snapshots\``,
      { packs: neededMissing },
    );
  }

  // Too few small packs are not worth it (and one small pack would be repacked forever).
  if (smallCandidates.length < 10) st.packsKeep += smallCandidates.length;
  else candidates.push(...smallCandidates);

  // Step 5: trees and mixed packs first, then small packs, then by unused share (highest first).
  const total = (c: Candidate): number => c.p.unusedSize + c.p.usedSize;
  candidates.sort((a, b) => {
    const aData = a.p.kind === 'data';
    const bData = b.p.kind === 'data';
    if (aData !== bData) return aData ? 1 : -1;
    const aSmall = total(a) < targetPackSize;
    const bSmall = total(b) < targetPackSize;
    if (aSmall !== bSmall) return aSmall ? -1 : 1;
    const x = a.p.unusedSize * b.p.usedSize;
    const y = b.p.unusedSize * a.p.usedSize;
    return x > y ? -1 : x < y ? 1 : 0;
  });
  const maxRepack = options.maxRepackBytes ?? Number.POSITIVE_INFINITY;
  const maxUnusedAfter = maxUnusedBytes(options.maxUnused ?? DEFAULT_MAX_UNUSED, s.usedSize);
  for (const c of candidates) {
    const unusedLeft = s.unusedSize - st.deleteSize - st.repackRemovesSize;
    const reachedUnused = unusedLeft < maxUnusedAfter;
    const reachedRepackSize = st.repackSize + total(c) >= maxRepack;
    const largeEnough = total(c) >= targetPackSize;
    let repack: boolean;
    if (reachedRepackSize) repack = false;
    else if (c.p.kind !== 'data' || c.mustCompress) repack = true;
    else repack = !(reachedUnused && largeEnough);
    if (!repack) {
      st.packsKeep++;
      continue;
    }
    repackPacks.push(c.id);
    st.repackBlobs += c.p.unusedBlobs + c.p.usedBlobs;
    st.repackSize += total(c);
    st.repackRemovesBlobs += c.p.unusedBlobs;
    st.repackRemovesSize += c.p.unusedSize;
  }
  for (const id of repackPacks) packSizes.set(id, packs.get(id)!.usedSize + packs.get(id)!.unusedSize);

  // Step 6: used blobs with no copy in a pack that stays.
  const keepBlobs = new BlobSet();
  if (repackPacks.length > 0) {
    const leaving = new Set<PackId>([...removePacks, ...repackPacks, ...missingPacks]);
    const stays = new BlobSet();
    for (const { id, entry } of index.entries()) if (!leaving.has(entry.pack)) stays.of(entry.type).add(id);
    for (const type of ['tree', 'data'] as const) {
      for (const id of found.of(type)) if (!stays.of(type).has(id)) keepBlobs.of(type).add(id);
    }
  }

  const totalBlobs = s.usedBlobs + s.duplicateBlobs + s.unusedBlobs;
  const totalSize = s.usedSize + s.duplicateSize + s.unusedSize + st.unreferencedSize;
  const pruneBlobs = st.deleteBlobs + st.repackRemovesBlobs;
  const pruneSize = st.deleteSize + st.repackRemovesSize + st.unreferencedSize;
  const stats: PruneStats = {
    snapshots: roots.length,
    ...s,
    unreferencedSize: st.unreferencedSize,
    totalBlobs,
    totalSize,
    repackBlobs: st.repackBlobs,
    repackSize: st.repackSize,
    repackRemovesBlobs: st.repackRemovesBlobs,
    repackRemovesSize: st.repackRemovesSize,
    deleteBlobs: st.deleteBlobs,
    deleteSize: st.deleteSize,
    pruneBlobs,
    pruneSize,
    remainingBlobs: totalBlobs - pruneBlobs,
    remainingSize: totalSize - pruneSize,
    unusedSizeAfter: s.duplicateSize + s.unusedSize - st.deleteSize - st.repackRemovesSize,
    packsUsed: st.packsUsed,
    packsPartlyUsed: st.packsPartlyUsed,
    packsUnused: st.packsUnused,
    packsUnreferenced: unreferencedPacks.length,
    packsKeep: st.packsKeep,
    packsRepack: repackPacks.length,
    packsDelete: removePacks.length,
  };
  return { stats, indexFiles, unreferencedPacks, repackPacks, removePacks, missingPacks, keepBlobs, packSizes };
}

/** Every tree reachable from the roots, and every data blob those trees name (each tree loaded once). */
async function findUsedBlobs(repo: PruneRepository, roots: readonly { snapshot: SnapshotId; tree: TreeId }[], signal: AbortSignal | undefined): Promise<BlobSet> {
  const used = new BlobSet();
  let frontier: { snapshot: SnapshotId; tree: TreeId }[] = [];
  for (const r of roots) if (used.tree.add(r.tree)) frontier.push(r);
  while (frontier.length > 0) {
    const next: { snapshot: SnapshotId; tree: TreeId }[] = [];
    await mapConcurrent(frontier, 8, async ({ snapshot, tree }) => {
      checkAborted(signal, 'while finding the data in use');
      let nodes;
      try {
        nodes = decodeTree(await repo.loadBlob('tree', tree), `tree ${tree}`, { allowUnsafeNames: true, allowUnsorted: true }).nodes;
      } catch (e) {
        throw unsafe(
          `tree ${tree} of snapshot ${shortId(snapshot)} cannot be loaded (${messageOf(e)}), so the data that snapshot needs is unknown; run \`cairn check\`, then \`cairn repair snapshots\` (or forget the damaged snapshot) and prune again`,
          { tree, snapshot },
          e,
        );
      }
      for (const n of nodes) {
        if (n.type === 'file') {
          for (const id of n.content ?? []) used.data.add(id);
        } else if (n.type === 'dir' && n.subtree !== undefined && used.tree.add(n.subtree)) {
          next.push({ snapshot, tree: n.subtree });
        }
      }
    });
    frontier = next;
  }
  return used;
}
