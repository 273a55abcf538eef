/** Small helpers for tests that look at a local repository on disk. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every entry under `dir`, as relative path -> mode (type bits included), recursively. */
export async function walk(dir: string, prefix = ''): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix + e.name;
    out.set(rel, (await stat(join(dir, e.name))).mode);
    if (e.isDirectory()) for (const [k, v] of await walk(join(dir, e.name), rel + '/')) out.set(k, v);
  }
  return out;
}

/** The permission bits of a mode. */
export const perm = (mode: number): number => mode & 0o777;
