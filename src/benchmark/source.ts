/**
 * What a snapshot of a directory would read: regular files and their sizes (symlinks are not
 * followed), for `cairn plan SOURCE`. A directory that cannot be listed is counted and skipped,
 * as the snapshot itself would warn and go on.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../errors.js';

export interface SourceTotals {
  /** Sum of the regular files' sizes. */
  readonly bytes: number;
  /** Regular files. */
  readonly files: number;
  readonly dirs: number;
  /** Symlinks, devices, sockets, FIFOs. */
  readonly others: number;
  /** Directories or files that could not be read (skipped). */
  readonly unreadable: number;
}

const BATCH = 64;

/** Walks `path` (a directory or a file); ERR_FILE_READ when `path` itself cannot be read. */
export async function sourceTotals(path: string, signal?: AbortSignal): Promise<SourceTotals> {
  let bytes = 0;
  let files = 0;
  let dirs = 0;
  let others = 0;
  let unreadable = 0;
  const root = await lstat(path).catch((e: unknown) => {
    throw new CairnError('ERR_FILE_READ', `cannot read ${path}: ${(e as Error).message}`, { cause: e, data: { path } });
  });
  if (!root.isDirectory()) {
    return root.isFile() ? { bytes: root.size, files: 1, dirs: 0, others: 0, unreadable: 0 } : { bytes: 0, files: 0, dirs: 0, others: 1, unreadable: 0 };
  }
  const stack = [path];
  while (stack.length > 0) {
    if (signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted while measuring the source', {});
    const dir = stack.pop()!;
    dirs++;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      unreadable++;
      continue;
    }
    for (let i = 0; i < names.length; i += BATCH) {
      const stats = await Promise.all(names.slice(i, i + BATCH).map((n) => lstat(join(dir, n)).then((st) => ({ n, st }), () => undefined)));
      for (const s of stats) {
        if (s === undefined) unreadable++;
        else if (s.st.isDirectory()) stack.push(join(dir, s.n));
        else if (s.st.isFile()) {
          files++;
          bytes += s.st.size;
        } else others++;
      }
    }
  }
  return { bytes, files, dirs, others, unreadable };
}
