/**
 * `prune --repack-uncompressed` on restic-made repositories: restic's v1 fixture (refused while
 * v1, then upgraded to v2 with `restic migrate upgrade_repo_v2`), and a fresh restic v2 repository
 * written with `--compression off`. Afterwards every blob is compressed, data and tree blobs are
 * in separate packs, `restic check --read-data` passes, and restic restores every snapshot exactly
 * as before.
 */
import { jsonLines } from '../helpers/json.js';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from '../cli/helpers.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { ResticRepo, runRestic } from '../helpers/restic.js';
import { describeTree, diffTrees, makeMixedTree } from '../helpers/trees.js';
import { resticCheck, tar, withIndex } from './helpers.js';

/** The last stdout line of `prune --json` (status lines come before it): the summary. */
function summaryOf(out: string): Record<string, unknown> {
  return jsonLines(out).at(-1)!;
}

const CRYPTO_OVERHEAD = 32;

/** restic restores each snapshot into `into/<id>`; returns the snapshot IDs. */
async function restoreAll(dir: string, password: string, into: string): Promise<string[]> {
  const list = JSON.parse((await runRestic(['--repo', dir, '--no-cache', 'snapshots', '--json'], password)).text()) as { id: string }[];
  for (const s of list) await runRestic(['--repo', dir, '--no-cache', 'restore', s.id, '--target', join(into, s.id)], password);
  return list.map((s) => s.id).sort();
}

async function expectSameRestores(dir: string, password: string, before: string, after: string): Promise<void> {
  const ids = await restoreAll(dir, password, after);
  expect(ids).toEqual((await readdir(before)).sort());
  for (const id of ids) expect(diffTrees(await describeTree(join(before, id)), await describeTree(join(after, id)), { times: true })).toEqual([]);
}

/** Every blob compressed (an empty one cannot be), and no pack mixing data and trees. */
async function expectAllCompressed(dir: string, password: string): Promise<void> {
  await withIndex(dir, (repo) => {
    const types = new Map<string, Set<string>>();
    let n = 0;
    for (const { id, entry } of repo.index.entries()) {
      n++;
      if (entry.length > CRYPTO_OVERHEAD) expect(entry.uncompressedLength, `${entry.type} blob ${id}`).toBeGreaterThan(0);
      const t = types.get(entry.pack) ?? new Set<string>();
      t.add(entry.type);
      types.set(entry.pack, t);
    }
    expect(n).toBeGreaterThan(0);
    for (const [pack, t] of types) expect(t.size, `pack ${pack} mixes data and trees`).toBe(1);
  }, password);
}

describe('prune --repack-uncompressed', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-prune-compress-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("on restic's v1 fixture: refused while v1; after upgrade_repo_v2 it compresses everything and restic restores the same", async () => {
    const env = { CAIRN_PASSWORD: 'geheim' };
    const into = join(root, 'fixture');
    await mkdir(into);
    tar(['xzf', join(FIXTURES_DIR, 'restic', 'small-repo.tar.gz'), '-C', into]);
    const dir = join(into, 'repo');
    await restoreAll(dir, 'geheim', join(root, 'fixture-before'));

    const refused = await cairn(['-r', dir, '--json', 'prune', '--repack-uncompressed'], { env });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.err.trim())).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('version 2') });

    await runRestic(['--repo', dir, '--no-cache', 'migrate', 'upgrade_repo_v2'], 'geheim');
    const r = await cairn(['-r', dir, '--json', 'prune', '--repack-uncompressed'], { env });
    expect(r.code, r.err).toBe(0);
    const summary = summaryOf(r.out) as Record<string, number>;
    expect(summary).toMatchObject({ packs_repack: 3, packs_repacked: 3, unused_blobs: 0 });
    expect(summary['blobs_repacked']).toBe(summary['used_blobs']);

    await expectAllCompressed(dir, 'geheim');
    await resticCheck(dir, true, 'geheim');
    await expectSameRestores(dir, 'geheim', join(root, 'fixture-before'), join(root, 'fixture-after'));
    const again = await cairn(['-r', dir, '--json', 'prune', '--repack-uncompressed', '--dry-run'], { env });
    expect(summaryOf(again.out)).toMatchObject({ packs_repack: 0, packs_delete: 0 });
  });

  it('on a restic v2 repository written with --compression off: plain prune leaves the data packs, --repack-uncompressed compresses them', async () => {
    const restic = await ResticRepo.create({ password: 'pw' });
    try {
      const src = join(restic.root, 'src');
      await makeMixedTree(src, { dirs: 3, perDir: 20 });
      await writeFile(join(src, 'text.txt'), 'compressible line of text\n'.repeat(200_000));
      await restic.backup([src], ['--compression', 'off']);
      await restoreAll(restic.dir, 'pw', join(restic.root, 'before'));
      const env = { CAIRN_PASSWORD: 'pw' };

      const plain = await cairn(['-r', restic.dir, '--json', 'prune'], { env });
      expect(plain.code, plain.err).toBe(0);
      expect(summaryOf(plain.out)).toMatchObject({ packs_repack: 0 }); // restic compresses trees even with compression off

      const sizeBefore = (await withIndex(restic.dir, (repo) => [...repo.index.entries()].reduce((n, e) => n + e.entry.length, 0), 'pw'));
      const r = await cairn(['-r', restic.dir, '--json', 'prune', '--repack-uncompressed'], { env });
      expect(r.code, r.err).toBe(0);
      expect(Number(summaryOf(r.out)['packs_repacked'])).toBeGreaterThan(0);
      const sizeAfter = (await withIndex(restic.dir, (repo) => [...repo.index.entries()].reduce((n, e) => n + e.entry.length, 0), 'pw'));
      expect(sizeAfter).toBeLessThan(sizeBefore - 4_000_000); // the 5 MB of text shrinks to almost nothing

      await expectAllCompressed(restic.dir, 'pw');
      await resticCheck(restic.dir, true, 'pw');
      await expectSameRestores(restic.dir, 'pw', join(restic.root, 'before'), join(restic.root, 'after'));
    } finally {
      await restic.cleanup();
    }
  });
});
