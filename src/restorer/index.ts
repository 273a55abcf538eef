/**
 * Restoring snapshots into a directory. Invariants: a byte is written only after its blob passed
 * the MAC and ID checks; a file that cannot be restored whole is removed and reported; names that
 * could escape the target (`..`, `/`) are refused; directory metadata is applied after children.
 */
export { restore, findNode, loadTree, type RestorerRepository, type RestoreOptions, type RestoreSummary, type RestoreWarning, type RestoreAction, type OverwriteMode } from './restorer.js';
