/**
 * Which snapshots a command works on, restic's FindFilteredSnapshots: the snapshots named (IDs,
 * unique prefixes, `latest`), or, when none is named, every snapshot passing the host/tag/path
 * filter.
 */
import { withLock, type LockWarning, type Repository, type UnreadableSnapshot } from '../repository/index.js';
import { filterSnapshots, sortSnapshots, type SnapshotEntry, type SnapshotFilter } from '../snapshot/index.js';
import type { SnapshotId } from '../model/index.js';

export interface SelectSnapshotsOptions {
  /** With no snapshot named: keep those passing it; with `latest`: the newest passing it. @default {} */
  readonly filter?: SnapshotFilter;
  /**
   * With no snapshot named: a snapshot file that does not load is reported here and left out.
   * @default undefined: such a file fails the selection with its error
   */
  readonly onUnreadable?: (w: UnreadableSnapshot) => void;
}

/**
 * The snapshots `refs` name, each once, oldest first — every reference must name exactly one
 * snapshot (ERR_SNAPSHOT_NOT_FOUND, ERR_AMBIGUOUS_ID), as cairn's other commands require; with no
 * reference, every snapshot passing the filter.
 */
export async function selectSnapshots(repo: Pick<Repository, 'findSnapshot' | 'listSnapshots'>, refs: readonly string[], options: SelectSnapshotsOptions = {}): Promise<SnapshotEntry[]> {
  const filter = options.filter ?? {};
  if (refs.length === 0) {
    const all = await repo.listSnapshots(options.onUnreadable === undefined ? {} : { onUnreadable: options.onUnreadable });
    return filterSnapshots(all, filter);
  }
  const named = new Map<SnapshotId, SnapshotEntry>();
  for (const ref of refs) {
    const e = await repo.findSnapshot(ref, filter);
    named.set(e.id, e);
  }
  return sortSnapshots([...named.values()]);
}

/** How find and stats choose their snapshots: named ones, else every one passing the filter. */
export interface SelectedSnapshotsOptions extends SelectSnapshotsOptions {
  /** These snapshots (IDs, unique prefixes, `latest`). @default every snapshot passing `filter` */
  readonly snapshots?: readonly string[];
  /** Take a shared lock, as restic does. @default true */
  readonly lock?: boolean;
  readonly onLockWarning?: (w: LockWarning) => void;
}

/**
 * Runs `fn` on the snapshots `options` select (see {@link selectSnapshots}), under a shared lock
 * (reads overlap its wait) with the index loaded.
 */
export function withSelectedSnapshots<T>(repo: Repository, options: SelectedSnapshotsOptions, fn: (list: SnapshotEntry[]) => Promise<T>): Promise<T> {
  return withLock(repo, { exclusive: false, take: options.lock !== false, onWarning: options.onLockWarning, overlap: true }, async () => {
    const list = await selectSnapshots(repo, options.snapshots ?? [], options);
    await repo.loadIndex();
    return fn(list);
  });
}
