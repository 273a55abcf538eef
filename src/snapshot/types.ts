/**
 * A snapshot as restic stores it in `snapshots/<id>`: when, which tree, of which paths, by whom.
 */
import type { SnapshotId, TreeId } from '../model/index.js';
import type { Timestamp } from '../tree/index.js';

export interface Snapshot {
  /** When the backup started, with the UTC offset of the machine that made it. */
  readonly time: Timestamp;
  /** The snapshot this one was compared with (restic's `parent`). */
  readonly parent?: SnapshotId;
  /** The root tree. */
  readonly tree: TreeId;
  /** The backed-up paths, absolute, as given (restic writes `[]` rather than null). */
  readonly paths: readonly string[];
  /** Omitted when empty. */
  readonly hostname?: string;
  /** Omitted when empty. */
  readonly username?: string;
  /** Omitted when 0 (Go's omitempty cannot tell root from unknown). */
  readonly uid?: number;
  /** Omitted when 0. */
  readonly gid?: number;
  /** Exclude patterns; omitted when empty. */
  readonly excludes?: readonly string[];
  /** Omitted when empty. */
  readonly tags?: readonly string[];
  /** The ID of the snapshot this one was rewritten from (set once, by the first rewrite). */
  readonly original?: SnapshotId;
  /**
   * JSON fields restic 0.14 does not know (newer restic's `program_version`, `summary`), kept
   * verbatim as raw JSON text and written back after the known fields, sorted by key.
   */
  readonly extra?: Readonly<Record<string, string>>;
}

/** A snapshot with its ID, as listings and lookups hand them around. */
export interface SnapshotEntry {
  readonly id: SnapshotId;
  readonly snapshot: Snapshot;
}
