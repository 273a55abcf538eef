/**
 * Prune's options and callbacks, and the `--max-unused` limit (restic's syntax: a percentage of
 * the used data, a size, or `unlimited`).
 */
import { CairnError } from '../errors.js';
import type { Id, PackId, SnapshotId } from '../model/index.js';
import { parseSize } from '../util/index.js';

/** How much unused space may stay in the repository after pruning. */
export type MaxUnused =
  | { readonly kind: 'unlimited' }
  /** At most this share of the repository, in percent (0 ≤ p < 100): unused ≤ p/(100−p) × used. */
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'bytes'; readonly bytes: number };

export const DEFAULT_MAX_UNUSED: MaxUnused = { kind: 'percent', percent: 5 };

/** Parses `--max-unused`: `5%`, `2.5%`, `500M`, `1G`, `0`, `unlimited`. */
export function parseMaxUnused(text: string): MaxUnused {
  const t = text.trim();
  if (t === '') throw new CairnError('ERR_INVALID_ARGUMENT', '--max-unused is empty; give a percentage (5%), a size (1G) or "unlimited"');
  if (t === 'unlimited') return { kind: 'unlimited' };
  if (t.endsWith('%')) {
    const num = t.slice(0, -1).trim();
    const p = /^\d+(\.\d+)?$/.test(num) ? Number(num) : NaN;
    if (!Number.isFinite(p)) throw new CairnError('ERR_INVALID_ARGUMENT', `--max-unused: "${text}" is not a percentage; use e.g. 5% or 12.5%`, { data: { value: text } });
    if (p >= 100) throw new CairnError('ERR_INVALID_ARGUMENT', `--max-unused: ${text} is not below 100%; use "unlimited" to keep all unused data in partly used packs`, { data: { value: text } });
    return { kind: 'percent', percent: p };
  }
  return { kind: 'bytes', bytes: parseSize(t, '--max-unused') };
}

/** The unused bytes tolerated after pruning, for `used` bytes in use. */
export function maxUnusedBytes(limit: MaxUnused, used: number): number {
  switch (limit.kind) {
    case 'unlimited':
      return Number.POSITIVE_INFINITY;
    case 'bytes':
      return limit.bytes;
    case 'percent':
      return Math.floor((limit.percent / (100 - limit.percent)) * used);
  }
}

/** The text form of a limit, as `--max-unused` takes it. */
export function formatMaxUnused(limit: MaxUnused): string {
  return limit.kind === 'unlimited' ? 'unlimited' : limit.kind === 'percent' ? `${limit.percent}%` : String(limit.bytes);
}

export type PrunePhase =
  | 'load-index' | 'load-snapshots' | 'find-used' | 'classify'
  | 'delete-unreferenced' | 'repack' | 'write-index' | 'delete-index' | 'delete-packs' | 'done';

/** Progress, in order: phases, and each file written or removed once it is durable or gone. */
export type PruneEvent =
  | { readonly type: 'phase'; readonly phase: PrunePhase; readonly count?: number }
  | { readonly type: 'pack-written'; readonly pack: PackId; readonly blobs: number; readonly size: number }
  | { readonly type: 'pack-repacked'; readonly pack: PackId; readonly blobs: number }
  | { readonly type: 'index-written'; readonly id: Id }
  | { readonly type: 'index-deleted'; readonly id: Id }
  | { readonly type: 'pack-deleted'; readonly pack: PackId; readonly size: number; readonly reason: 'unreferenced' | 'unused' | 'repacked' };

/** Something worth telling the user that does not stop the prune. */
export interface PruneWarning {
  /**
   * `MISSING_PACK`: the index names a pack that is gone but held nothing needed; the new index
   * drops it. `DAMAGED_COPY`: a blob to repack was damaged in one pack, an intact copy elsewhere
   * was used instead.
   */
  readonly code: 'MISSING_PACK' | 'DAMAGED_COPY';
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface PruneCallbacks {
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PruneEvent) => void;
  readonly onWarning?: (w: PruneWarning) => void;
}

export interface PruneOptions extends PruneCallbacks {
  /** Unused space tolerated in partly used data packs. @default 5% */
  readonly maxUnused?: MaxUnused;
  /** Repack at most this many bytes of packs. @default unlimited */
  readonly maxRepackBytes?: number;
  /** Repack packs holding uncompressed blobs, compressing them (version 2 only). @default false */
  readonly repackUncompressed?: boolean;
  /**
   * Snapshots to plan as if they were gone (`forget --dry-run --prune`: what prune would do once
   * forget removed them). @default []
   */
  readonly ignoreSnapshots?: readonly SnapshotId[];
}

/** Validates options on entry; throws ERR_INVALID_ARGUMENT. */
export function checkPruneOptions(o: PruneOptions, version: 1 | 2): void {
  if (o.maxRepackBytes !== undefined && !(o.maxRepackBytes >= 0)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `--max-repack-size must be a size of 0 or more, got ${o.maxRepackBytes}`);
  }
  const m = o.maxUnused;
  if (m?.kind === 'percent' && !(m.percent >= 0 && m.percent < 100)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `--max-unused must be a percentage from 0 to below 100, got ${m.percent}%`);
  }
  if (m?.kind === 'bytes' && !(m.bytes >= 0)) throw new CairnError('ERR_INVALID_ARGUMENT', `--max-unused must be 0 bytes or more, got ${m.bytes}`);
  if (o.repackUncompressed === true && version < 2) {
    throw new CairnError('ERR_INVALID_ARGUMENT', '--repack-uncompressed needs a version 2 repository; this one is version 1, which never compresses (upgrade it with `restic migrate upgrade_repo_v2`, or drop the flag)', { data: { version } });
  }
}

export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) {
    throw new CairnError('ERR_INTERRUPTED', `prune interrupted ${what}; the repository is consistent (run prune again to finish)`);
  }
}
