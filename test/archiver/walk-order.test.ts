/**
 * Sibling directories are visited side by side (up to a bound across the tree) unless a selector
 * needs the walk in order (.gitignore rules keep a stack). Either way the snapshot must be the
 * same: the same trees (so the same root tree ID), every entry in name order, nothing lost.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from '../cli/helpers.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };

/** Every path under `dir` (directories too), depth first in byte order of names, as `ls` lists. */
async function walk(dir: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  const names = (await readdir(dir, { withFileTypes: true })).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (const d of names) {
    out.push(`${prefix}/${d.name}`);
    if (d.isDirectory()) out.push(...(await walk(join(dir, d.name), `${prefix}/${d.name}`)));
  }
  return out;
}

describe('walk order', () => {
  let root: string;
  const repo = (): string => join(root, 'repo');
  const src = (): string => join(root, 'src');

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-walk-'));
    // 14 × 4 × 3 directories (far more than run side by side), uneven: some empty, some deep.
    for (let a = 0; a < 14; a++) {
      for (let b = 0; b < 4; b++) {
        for (let c = 0; c < 3; c++) {
          const dir = join(src(), `top-${a}`, `mid ${b}`, `leaf-${c}`);
          await mkdir(dir, { recursive: true });
          for (let f = 0; f < (a + b + c) % 4; f++) await writeFile(join(dir, `f${f}.txt`), `${a}/${b}/${c}/${f}\n`.repeat(1 + f * 50));
        }
        await writeFile(join(src(), `top-${a}`, `mid ${b}`, 'Z-note'), `note ${a} ${b}`);
      }
    }
    await mkdir(join(src(), 'top-3', 'mid 1', 'leaf-0', 'deeper', 'and deeper'), { recursive: true });
    await writeFile(join(src(), 'top-3', 'mid 1', 'leaf-0', 'deeper', 'and deeper', 'bottom'), 'bottom');
    const init = await cairn(['-r', repo(), 'repo', 'init'], { env: ENV });
    expect(init.code, init.err).toBe(0);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('side by side and in order give the same trees, in name order, with every entry', { timeout: 60_000 }, async () => {
    // --git-ignore with no .gitignore anywhere selects everything, but walks in order. A relative
    // path from root: the snapshot is of src alone, without /tmp and its mtime (other tests'
    // temporary directories change it between the two snapshots).
    for (const extra of [[], ['--git-ignore']]) {
      const r = await cairn(['-r', repo(), 'snapshot', 'src', '--json', ...extra], { env: ENV, cwd: root });
      expect(r.code, r.err).toBe(0);
      expect(r.err).toBe('');
    }
    const snaps = JSON.parse((await cairn(['-r', repo(), 'snapshots', '--json'], { env: ENV })).out) as Array<{ tree: string; short_id: string }>;
    expect(snaps).toHaveLength(2);
    expect(snaps[1]!.tree).toBe(snaps[0]!.tree);

    const expected = await walk(src(), '/src');
    expect(expected.length).toBeGreaterThan(14 * 4 * 4);
    const ls = await cairn(['-r', repo(), 'ls', snaps[0]!.short_id], { env: ENV });
    expect(ls.code, ls.err).toBe(0);
    const listed = ls.out.trim().split('\n').filter((l) => l.startsWith('/src/'));
    expect(listed).toEqual(expected);
  });
});
