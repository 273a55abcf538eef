/**
 * Building source trees for tests and comparing a restored tree with its source: every entry's
 * type, content (SHA-256), permission bits and modification time (to the microsecond: Node's
 * utimes takes seconds as a double).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pseudoRandomBytes } from './fixtures.js';

export interface EntryInfo {
  readonly type: 'file' | 'dir' | 'other';
  readonly mode: number;
  readonly mtimeUs: bigint;
  readonly sha?: string;
  readonly size?: number;
}

/** Every entry below `root` (relative path → info), the root itself excluded. */
export async function describeTree(root: string): Promise<Map<string, EntryInfo>> {
  const out = new Map<string, EntryInfo>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(p, { bigint: true });
      const base = { mode: Number(st.mode & 0o7777n), mtimeUs: st.mtimeNs / 1000n };
      if (st.isDirectory()) {
        out.set(r, { type: 'dir', ...base });
        await walk(p, r);
      } else if (st.isFile()) {
        const data = await readFile(p);
        out.set(r, { type: 'file', ...base, size: data.length, sha: createHash('sha256').update(data).digest('hex') });
      } else {
        out.set(r, { type: 'other', ...base });
      }
    }
  };
  await walk(root, '');
  return out;
}

/** The differences between two descriptions, as readable lines (empty when identical). */
export function diffTrees(a: Map<string, EntryInfo>, b: Map<string, EntryInfo>, options: { times?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const [p, x] of a) {
    const y = b.get(p);
    if (y === undefined) out.push(`missing: ${p}`);
    else if (x.type !== y.type) out.push(`type ${x.type} vs ${y.type}: ${p}`);
    else if (x.sha !== y.sha) out.push(`content differs: ${p}`);
    else if (x.mode !== y.mode) out.push(`mode ${x.mode.toString(8)} vs ${y.mode.toString(8)}: ${p}`);
    else if ((options.times ?? true) && x.mtimeUs !== y.mtimeUs) out.push(`mtime ${x.mtimeUs} vs ${y.mtimeUs}: ${p}`);
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`extra: ${p}`);
  return out;
}

/**
 * A mixed tree: `dirs` directories of `perDir` small files of varied sizes (some empty, some
 * duplicated), nested a level deep, with varied permissions and times.
 */
export async function makeMixedTree(root: string, options: { dirs: number; perDir: number; seed?: number }): Promise<number> {
  let n = 0;
  const seed = options.seed ?? 1;
  for (let d = 0; d < options.dirs; d++) {
    const dir = join(root, `dir-${d}`, d % 3 === 0 ? 'nested' : '');
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < options.perDir; f++) {
      const size = (f * 7919 + d * 104729) % 9000;
      const data = f % 17 === 0 ? new Uint8Array(0) : f % 13 === 0 ? pseudoRandomBytes(size, seed) : pseudoRandomBytes(size, seed * 1_000_003 + d * 10_007 + f);
      const p = join(dir, `file-${f}${f % 5 === 0 ? '.txt' : '.bin'}`);
      await writeFile(p, data, { mode: f % 4 === 0 ? 0o600 : f % 4 === 1 ? 0o644 : f % 4 === 2 ? 0o755 : 0o640 });
      await utimes(p, 1_600_000_000 + f * 101 + d, 1_600_000_000 + f * 97 + d * 3 + 0.123456);
      n++;
    }
  }
  return n;
}
