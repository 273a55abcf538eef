/**
 * Live progress counters. A long operation (snapshot, restore, check) takes an optional
 * `Progress` in its options and updates its plain fields as it goes — a few integer additions per
 * file or blob, never a callback per byte — and whoever passed it (the CLI's status line) samples
 * it on a timer. Nothing here prints or schedules anything.
 */

/** The counters an operation updates in place. Totals are -1 while unknown. */
export interface Progress {
  /** What the operation is doing now (`scan`, `read-data`, …); '' when it has one phase only. */
  phase: string;
  /** Items finished: files (snapshot, restore), packs or trees (check). */
  itemsDone: number;
  /** Bytes finished (read and stored, restored, read and verified). */
  bytesDone: number;
  /** All items, when known; -1 until then. */
  itemsTotal: number;
  /** All bytes, when known; -1 until then. */
  bytesTotal: number;
  /** Errors so far (entries that could not be read or written, problems found). */
  errors: number;
  /** Items being worked on now (file paths as bytes or strings, pack IDs). */
  readonly current: Set<Uint8Array | string>;
}

/** Fresh counters: nothing done, totals unknown. */
export function createProgress(): Progress {
  return { phase: '', itemsDone: 0, bytesDone: 0, itemsTotal: -1, bytesTotal: -1, errors: 0, current: new Set() };
}
