/**
 * Retagging snapshots (restic's `tag`): add, remove or replace tags of the selected snapshots.
 *
 * Invariants: a retagged snapshot is a new snapshot file whose `original` names the snapshot as it
 * was first written, saved before the old file is removed (never zero copies); snapshots whose
 * tags do not change are not rewritten; the run holds an exclusive lock. `changeTags` is the pure
 * rule (restic's AddTags/RemoveTags, order included).
 */
export { tagSnapshots, changeTags, validateTagChange, retagged, type TagChange, type TagChangeDone, type TagResult, type TagSnapshotsOptions } from './tag.js';
