/**
 * Changing the tags of snapshots, restic's `tag --add/--remove/--set`.
 *
 * A snapshot file is named by the hash of its content, so a snapshot with other tags is a new
 * file: it is saved first (with `original` set to the ID it had before its first rewrite, as
 * restic records it), and only then is the old file removed — an interruption between the two
 * leaves both, never neither. Snapshots whose tags come out the same are left alone. The whole run
 * holds an exclusive lock, as restic's does (a concurrent forget or tag could otherwise rewrite
 * or remove a snapshot between our read and our write); the lock is checked before each change.
 */
import { CairnError } from '../errors.js';
import { selectSnapshots } from '../inspect/index.js';
import type { SnapshotId } from '../model/index.js';
import { withLock, type LockWarning, type Repository, type UnreadableSnapshot } from '../repository/index.js';
import type { Snapshot, SnapshotEntry, SnapshotFilter } from '../snapshot/index.js';

/** What to do to the tags. `set` excludes `add` and `remove`; empty tags are ignored, as restic ignores them. */
export interface TagChange {
  /** Tags to add (each once; appended in this order after the present ones). */
  readonly add?: readonly string[];
  /** Tags to remove. */
  readonly remove?: readonly string[];
  /** The new tag list, replacing the old one (`[]`: no tags). */
  readonly set?: readonly string[];
}

/** ERR_INVALID_ARGUMENT when the change does nothing or mixes `set` with `add`/`remove`. */
export function validateTagChange(change: TagChange): void {
  const add = change.add ?? [];
  const remove = change.remove ?? [];
  if (change.set !== undefined && (add.length > 0 || remove.length > 0)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', '--set replaces all tags and cannot be combined with --add or --remove');
  }
  if (change.set === undefined && add.every((t) => t === '') && remove.every((t) => t === '')) {
    throw new CairnError('ERR_INVALID_ARGUMENT', 'nothing to do: give tags to --add, --remove or --set');
  }
}

/**
 * The tag list after `change` (restic's AddTags, RemoveTags, or the `set` list), or undefined
 * when it is the same list as before. As restic does, a removed tag's place is taken by the last
 * tag (so the order may change), and an added tag goes to the end.
 */
export function changeTags(tags: readonly string[], change: TagChange): string[] | undefined {
  let next: string[];
  if (change.set !== undefined) {
    next = [];
    for (const t of change.set) if (t !== '' && !next.includes(t)) next.push(t);
  } else {
    next = [...tags];
    for (const t of change.add ?? []) if (t !== '' && !next.includes(t)) next.push(t);
    for (const t of change.remove ?? []) {
      const i = next.indexOf(t);
      if (t === '' || i < 0) continue;
      next[i] = next[next.length - 1]!;
      next.pop();
    }
  }
  return next.length === tags.length && next.every((t, i) => t === tags[i]) ? undefined : next;
}

/** The snapshot with `tags` (omitted when empty) and `original` recorded. */
export function retagged(entry: SnapshotEntry, tags: readonly string[]): Snapshot {
  const { tags: _old, original, ...rest } = entry.snapshot;
  return { ...rest, ...(tags.length > 0 ? { tags } : {}), original: original ?? entry.id };
}

export interface TagSnapshotsOptions {
  /** Change these snapshots (IDs, unique prefixes, `latest`). @default every snapshot passing `filter` */
  readonly snapshots?: readonly string[];
  /** Host/tag/path filter (for `latest`, or when no snapshot is named). @default {} */
  readonly filter?: SnapshotFilter;
  /** With no snapshot named: a snapshot file that does not load is reported here and left as it is. @default: it fails the run */
  readonly onUnreadable?: (w: UnreadableSnapshot) => void;
  /** Called after each rewrite, once the old file is removed. */
  readonly onChanged?: (c: TagChangeDone) => void;
  /** Take the exclusive lock. @default true */
  readonly lock?: boolean;
  readonly onLockWarning?: (w: LockWarning) => void;
  /** Stops before the next snapshot with ERR_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

export interface TagChangeDone {
  readonly old: SnapshotId;
  readonly new: SnapshotId;
  readonly tags: readonly string[];
}

export interface TagResult {
  /** Snapshots selected. */
  readonly considered: number;
  /** Those rewritten, in order (oldest first). */
  readonly changed: readonly TagChangeDone[];
}

/**
 * Applies `change` to the selected snapshots under an exclusive lock (see the file comment).
 * ERR_INVALID_ARGUMENT for a change that does nothing; lookup errors for a reference that names
 * no single snapshot; a failed save or removal stops the run (the snapshots changed before it stay
 * changed, the one being changed is at worst present twice).
 */
export async function tagSnapshots(repo: Repository, change: TagChange, options: TagSnapshotsOptions = {}): Promise<TagResult> {
  validateTagChange(change);
  return withLock(repo, { exclusive: true, take: options.lock !== false, onWarning: options.onLockWarning, overlap: true }, async (lock) => {
    const list = await selectSnapshots(repo, options.snapshots ?? [], {
      ...(options.filter !== undefined ? { filter: options.filter } : {}),
      ...(options.onUnreadable !== undefined ? { onUnreadable: options.onUnreadable } : {}),
    });
    const changed: TagChangeDone[] = [];
    for (const entry of list) {
      if (options.signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted');
      const tags = changeTags(entry.snapshot.tags ?? [], change);
      if (tags === undefined) continue;
      await lock?.check();
      const id = (await repo.saveSnapshot(retagged(entry, tags))) as SnapshotId;
      if (id !== entry.id) await repo.backend.remove({ type: 'snapshot', name: entry.id });
      const done = { old: entry.id, new: id, tags };
      changed.push(done);
      options.onChanged?.(done);
    }
    return { considered: list.length, changed };
  });
}
