/**
 * Repositories to check and damage: a cairn repository with many small packs (so that one lost
 * pack loses some files, not all), copies to damage, restic fixtures unpacked, and the two
 * checkers (cairn's CLI in-process, restic's binary) side by side.
 */
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, open, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeTree, initRepository, listSnapshots, openRepository, snapshot, type Repository } from '../../src/index.js';
import { cairn } from '../cli/helpers.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { runRestic } from '../helpers/restic.js';

export const PASSWORD = 'check me';
export const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
export const FIXTURE_PASSWORD = 'geheim';
const FIXTURES = '/work/shared/fixtures/restic';

/**
 * A source tree of 4 directories × 6 files of 20–60 kB (each file one blob), one empty file and
 * a symlink, backed up twice (a file changed in between) into a repository with ~100 kB packs.
 */
export async function makeRepository(root: string): Promise<{ repo: string; src: string }> {
  const src = join(root, 'src');
  for (let d = 0; d < 4; d++) {
    await mkdir(join(src, `d${d}`, 'sub'), { recursive: true });
    for (let f = 0; f < 6; f++) {
      const where = f % 2 === 0 ? join(src, `d${d}`) : join(src, `d${d}`, 'sub');
      await writeFile(join(where, `f${f}.bin`), pseudoRandomBytes(20_000 + ((d * 6 + f) * 7919) % 40_000, 100 + d * 6 + f));
    }
  }
  await writeFile(join(src, 'empty'), new Uint8Array(0));
  execFileSync('ln', ['-s', 'd0/f0.bin', join(src, 'link')]);
  const repo = join(root, 'repo');
  const r = await initRepository(repo, { password: PASSWORD, kdf: { N: 1024, r: 8, p: 1 }, packSize: 100_000 });
  try {
    await snapshot(r, [src], { tags: ['first'] });
    await writeFile(join(src, 'd1', 'f0.bin'), pseudoRandomBytes(33_333, 999));
    await snapshot(r, [src], { tags: ['second'] });
  } finally {
    await r.close();
  }
  return { repo, src };
}

/** A writable copy of a repository (restic's local backend makes files read-only). */
export async function copyRepository(from: string, to: string): Promise<string> {
  await cp(from, to, { recursive: true });
  return to;
}

/** Unpacks a restic fixture (`small-repo` …) into `dir`; returns the repository path. */
export function unpackFixture(name: string, dir: string): string {
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('tar', ['xzf', join(FIXTURES, `${name}.tar.gz`), '-C', dir]);
  return join(dir, 'repo');
}

/** Every pack file of a repository: ID and path. */
export async function packFiles(repo: string): Promise<Array<{ id: string; path: string; size: number }>> {
  const out: Array<{ id: string; path: string; size: number }> = [];
  for (const d of await readdir(join(repo, 'data'))) {
    for (const f of await readdir(join(repo, 'data', d))) {
      const path = join(repo, 'data', d, f);
      out.push({ id: f, path, size: (await stat(path)).size });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export async function filesOf(repo: string, dir: 'index' | 'snapshots'): Promise<string[]> {
  return (await readdir(join(repo, dir))).sort();
}

/** XORs one byte of a file. */
export async function flipByte(path: string, offset: number): Promise<void> {
  await chmod(path, 0o600);
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0x5a;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

export async function truncateFile(path: string, length: number): Promise<void> {
  await chmod(path, 0o600);
  await truncate(path, length);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path);
}

export function cairnIn(repo: string, password = PASSWORD) {
  return (args: string[]) => cairn(['-r', repo, ...args], { env: { ...ENV, CAIRN_PASSWORD: password } });
}

/** `restic check ARGS` on the repository: exit code and all output. */
export async function resticCheck(repo: string, args: string[] = [], password = PASSWORD): Promise<{ code: number; output: string }> {
  const r = await runRestic(['--repo', repo, '--no-cache', 'check', ...args], password, { allowFailure: true });
  return { code: r.code, output: r.text() + r.stderr };
}

/** Which data packs hold which files (by path in the latest snapshot), via the library. */
export async function filesByPack(repo: string, password = PASSWORD): Promise<{ packs: Map<string, Set<string>>; types: Map<string, 'data' | 'tree'> }> {
  const r: Repository = await openRepository(repo, { password });
  try {
    await r.loadIndex();
    const packs = new Map<string, Set<string>>();
    const types = new Map<string, 'data' | 'tree'>();
    for (const { entry } of r.index.entries()) types.set(entry.pack, entry.type);
    const list = await listSnapshots(r);
    const walk = async (tree: string, path: string): Promise<void> => {
      for (const n of decodeTree(await r.loadBlob('tree', tree as never)).nodes) {
        const p = `${path}/${Buffer.from(n.name).toString()}`;
        if (n.type === 'dir' && n.subtree !== undefined) await walk(n.subtree, p);
        for (const b of n.content ?? []) {
          for (const e of r.index.lookup(b, 'data')) {
            const set = packs.get(e.pack) ?? new Set<string>();
            set.add(p);
            packs.set(e.pack, set);
          }
        }
      }
    };
    for (const s of list) await walk(s.snapshot.tree, '');
    return { packs, types };
  } finally {
    await r.close();
  }
}
