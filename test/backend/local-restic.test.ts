/**
 * The local backend against restic 0.14 itself: it reads a repository `restic init` and `restic
 * backup` made (same key ID, same config bytes, the same packs), and a copy written through it
 * passes `restic check --read-data`, with restic's modes on disk.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/index.js';
import { ResticRepo, runRestic } from '../helpers/restic.js';
import { collect, expectBytes, expectCode, listing, sha256Hex } from './conformance.js';
import { perm, walk } from './disk.js';

describe('local backend and restic 0.14', () => {
  it('reads a repository restic made, and restic checks a copy written through the backend', async () => {
    const repo = await ResticRepo.create({ password: 'x' });
    const copyDir = join(repo.root, 'copy');
    try {
      await writeFile(join(repo.root, 'file.txt'), 'hello from restic\n'.repeat(100));
      await repo.backup(['file.txt']);
      const src = new LocalBackend(repo.dir);
      const keys = await readdir(join(repo.dir, 'keys'));
      expect(keys).toHaveLength(1);
      const keySize = (await stat(join(repo.dir, 'keys', keys[0]!))).size;
      expect(await listing(src, 'key')).toEqual([`${keys[0]}:${keySize}`]);
      expectBytes(await src.load({ type: 'config', name: 'config' }), await readFile(join(repo.dir, 'config')));
      // key files are named by the SHA-256 of their bytes
      expect(sha256Hex(await src.load({ type: 'key', name: keys[0]! }))).toBe(keys[0]);
      const packs: string[] = [];
      for (const sub of await readdir(join(repo.dir, 'data'))) packs.push(...(await readdir(join(repo.dir, 'data', sub))));
      expect(packs.length).toBeGreaterThan(0);
      packs.sort();
      expect((await collect(src.list('pack'))).map((f) => f.name).sort()).toEqual(packs);

      // Copy every file through the backend into a new repository; restic must accept it whole.
      const dst = new LocalBackend(copyDir);
      await dst.create();
      for (const t of ['config', 'key', 'pack', 'index', 'snapshot'] as const) {
        for await (const f of src.list(t)) await dst.save({ type: t, name: f.name }, await src.load({ type: t, name: f.name }));
      }
      await expectCode(dst.create(), 'ERR_REPO_EXISTS');
      const tree = await walk(copyDir);
      for (const [p, mode] of tree) expect(perm(mode), p).toBe((mode & 0o040000) !== 0 ? 0o700 : 0o400);
      const check = await runRestic(['--repo', copyDir, '--no-cache', 'check', '--read-data'], 'x', { cwd: repo.root });
      expect(check.text()).toMatch(/no errors were found/);
      // and restic's own init refuses the location, as create() does
      const again = await runRestic(['--repo', copyDir, '--no-cache', 'init'], 'x', { cwd: repo.root, allowFailure: true });
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/config file already exists/);
    } finally {
      await repo.cleanup();
    }
  });
});
