/**
 * restic's default layout for a repository in a directory (restic `layout_default.go`): `config`
 * at the top, `keys/`, `index/`, `snapshots/`, `locks/` flat, and packs under `data/<id[0:2]>/`.
 * 0.14 repositories always use it; the deprecated S3-legacy layout is not read.
 */
import { join } from 'node:path';
import type { FileType } from '../../model/index.js';
import type { Handle } from '../types.js';

/** The directory of each file type that has one (`config` lives at the top). */
export const TYPE_DIRS: Readonly<Record<Exclude<FileType, 'config'>, string>> = {
  key: 'keys',
  pack: 'data',
  index: 'index',
  snapshot: 'snapshots',
  lock: 'locks',
  audit: 'cairn-log',
};

/** `00` … `ff`: the 256 subdirectories of `data/`. */
export const PACK_PREFIXES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The path of the file a (valid) handle names, under the repository directory `root`. */
export function filePath(root: string, h: Handle): string {
  if (h.type === 'config') return join(root, 'config');
  if (h.type === 'pack') return join(root, TYPE_DIRS.pack, h.name.slice(0, 2), h.name);
  return join(root, TYPE_DIRS[h.type], h.name);
}

/**
 * Every directory `create()` makes, parents first (`data` before `data/00`). Not `cairn-log`:
 * the first audit record creates it, as it must in repositories restic made.
 */
export function repositoryDirs(root: string): string[] {
  return [
    ...Object.entries(TYPE_DIRS).filter(([t]) => t !== 'audit').map(([, d]) => join(root, d)),
    ...PACK_PREFIXES.map((p) => join(root, TYPE_DIRS.pack, p)),
  ];
}
