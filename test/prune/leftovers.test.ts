/**
 * Temporary files that killed saves leave behind (a half-written `.tmp-<id>-<random>` next to its
 * final name, a blob worker's `data/.tmp-pack-<random>`) are removed by a real prune, under its
 * exclusive lock, and counted in its output; a dry run leaves them. restic still checks the
 * repository clean afterwards, and the snapshots restore.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cairn } from '../cli/helpers.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { expectResticCheck } from '../helpers/repo-invariants.js';
import { tempDir } from '../helpers/tmp.js';
import { ENV, PASSWORD } from './helpers.js';

async function leftovers(repo: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (e.name.startsWith('.tmp-')) found.push(rel + e.name);
    }
  };
  await walk(repo, '');
  return found.sort();
}

describe('prune and leftover temporary files', () => {
  it('a real prune removes every .tmp-* file and says so; a dry run keeps them', async () => {
    const root = tempDir('cairn-leftovers-');
    const repo = join(root, 'repo');
    const src = join(root, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a'), pseudoRandomBytes(300_000, 1));
    expect((await cairn(['-r', repo, 'repo', 'init'], { env: ENV })).code).toBe(0);
    expect((await cairn(['-r', repo, 'snapshot', src], { env: ENV })).code).toBe(0);
    const planted = ['data/.tmp-pack-0123456789abcdef', `data/3f/.tmp-${'3f'.repeat(32)}-00112233aabbccdd`, `index/.tmp-${'ab'.repeat(32)}-0011223344556677`];
    for (const p of planted) await writeFile(join(repo, p), pseudoRandomBytes(5000, p.length));
    expect(await leftovers(repo)).toEqual([...planted].sort());

    const dry = await cairn(['-r', repo, 'prune', '--dry-run'], { env: ENV });
    expect(dry.code, dry.err).toBe(0);
    expect(await leftovers(repo)).toHaveLength(3);

    const real = await cairn(['-r', repo, 'prune'], { env: ENV });
    expect(real.code, real.err).toBe(0);
    expect(real.out).toContain('removed 3 temporary files left by interrupted saves');
    expect(await leftovers(repo)).toEqual([]);

    for (const p of planted) await writeFile(join(repo, p), pseudoRandomBytes(100, 7));
    const json = await cairn(['-r', repo, 'prune', '--json'], { env: ENV });
    expect(json.code, json.err).toBe(0);
    const summary = JSON.parse(json.out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(summary).toMatchObject({ temporary_files_deleted: 3, temporary_bytes_deleted: 300 });

    await expectResticCheck(repo, PASSWORD);
    const target = join(root, 'restore');
    expect((await cairn(['-r', repo, 'restore', 'latest', '--target', target], { env: ENV })).code).toBe(0);
  });
});
