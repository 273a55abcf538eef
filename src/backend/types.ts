/**
 * The storage contract. A backend stores named, immutable files of the kinds a repository holds
 * and knows nothing of what they contain (no crypto, no blobs): restic's design.
 *
 * Names: `config` has the fixed name 'config'; every other file is named by 64 lowercase hex
 * characters (its storage ID). A backend lays them out as restic does (local: `config`,
 * `keys/<id>`, `data/<id[0:2]>/<id>`, `index/<id>`, `snapshots/<id>`, `locks/<id>`).
 *
 * MUST rules (the conformance suite, test/backend/conformance.ts, checks each one):
 * 1. `save` is atomic: a reader sees either no file or the whole file, never a part, under the
 *    final name, even if the process dies mid-write. On success the data is durable (fsync'ed
 *    where the storage has such a notion). Saving a name that exists replaces it.
 * 2. `load(h, offset, length)` returns exactly `length` bytes (to the end when `length` is
 *    omitted) or throws; a short read is an error (`ERR_BACKEND`, retryable), never silent. A range
 *    past the end of the file is `ERR_INVALID_ARGUMENT`.
 * 3. A missing file — `load`, `stat`, `remove` — is `ERR_NOT_FOUND` with `data: { type, name }`.
 * 4. `list(type)` yields every file of that type with its size, once, in any order, skipping
 *    names that are not valid for the type (temporary files, stray names).
 * 5. Failures of the storage itself are `ERR_BACKEND` naming the backend, the file and the cause,
 *    with `retryable` set when trying again can help.
 * 6. Concurrent calls are allowed (many saves and loads at once).
 * 7. A handle whose name is neither 'config' (for the config) nor 64 lowercase hex digits is
 *    refused with `ERR_INVALID_ARGUMENT` before it reaches the storage (no `../` can escape).
 * 8. `load` returns a plain Uint8Array the caller owns (a copy, never a view of stored state).
 */
import type { FileType } from '../model/index.js';

export interface Handle {
  readonly type: FileType;
  /** 'config' for the config file, else the file's 64-hex-digit ID. */
  readonly name: string;
}

export interface FileInfo {
  readonly name: string;
  readonly size: number;
}

/** A pack's file descriptor lent by `Backend.lendPack`. */
export interface LentPack {
  readonly fd: number;
  /** The pack's size in bytes. */
  readonly size: number;
  /** Where the pack is, for messages. */
  readonly path: string;
  /** Gives the descriptor back (once; later calls do nothing). */
  release(): void;
}

export interface Backend {
  /** Where the repository is, for messages (a path or URL; never credentials). */
  readonly location: string;
  /**
   * Prepares an empty repository location (directories; for local: `keys`, `snapshots`, `index`,
   * `locks`, `data/00`…`data/ff`). Fails with `ERR_REPO_EXISTS` if a config file is already
   * there. Creating the location itself when missing is allowed.
   */
  create(): Promise<void>;
  save(h: Handle, data: Uint8Array): Promise<void>;
  load(h: Handle, offset?: number, length?: number): Promise<Uint8Array>;
  stat(h: Handle): Promise<FileInfo>;
  list(type: FileType): AsyncIterable<FileInfo>;
  remove(h: Handle): Promise<void>;
  /**
   * Optional: a directory where a caller may write a file to hand to `saveFile`, chosen so that
   * `saveFile` can rename it into place (the repository's own file system).
   */
  spillDir?(): string;
  /**
   * Optional: stores the complete, closed file at `path` as `h`, with `save`'s guarantees
   * (atomic, durable), taking it over: on success nothing is left at `path`. On failure the file
   * may still be there; the caller removes it. A backend without it gets `save` with the bytes.
   */
  saveFile?(h: Handle, path: string): Promise<void>;
  /**
   * Optional: lends the caller an open file descriptor of the pack `h`, for positional reads of
   * its bytes in this process (a worker thread may read through it): the pack's `size` comes with
   * it. The caller MUST call `release` once, after its last read; the descriptor stays open until
   * then even if the pack is removed or the backend closed meanwhile (it is closed after the last
   * release). A read through it is the caller's to check (a range past `size` is the caller's
   * error). Only backends whose packs are local files have it; the others are read with `load`.
   * A missing pack is `ERR_NOT_FOUND` as for `load`.
   */
  lendPack?(h: Handle): Promise<LentPack>;
  /**
   * Optional: how long (ms) a file another process saved may take to appear in `list`. The lock
   * protocol waits this long between writing its lock file and its second look for conflicting
   * locks. Absent: restic's 200 ms, for storage whose listings may lag behind writes.
   */
  lockSettleMs?(): Promise<number>;
  /**
   * Optional: removes the temporary files that interrupted saves left behind (names starting
   * with `.tmp-`, which `list` never yields); how many and their bytes. Only safe when no writer
   * can be active: under an exclusive lock (prune calls it).
   */
  removeLeftovers?(): Promise<{ files: number; bytes: number }>;
  /** Releases resources (connections). The backend is not used afterwards. */
  close(): Promise<void>;
}
