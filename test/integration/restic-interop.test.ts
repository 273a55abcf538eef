/**
 * restic 0.14 is the oracle. restic reads what cairn writes (check --read-data, restore); cairn
 * reads what restic writes (a fresh v2 repository, compressed; the v1 repositories in
 * test/fixtures/restic); and with restic's Rabin chunker cairn stores a file as the very blobs
 * restic stored for it.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTree, initRepository, listSnapshots, openRepository, restoreSnapshot, snapshot, type Repository } from '../../src/index.js';
import { FIXTURES_DIR, pseudoRandomBytes } from '../helpers/fixtures.js';
import { ResticRepo, runRestic } from '../helpers/restic.js';
import { describeTree, diffTrees, makeMixedTree, type EntryInfo } from '../helpers/trees.js';

const CHEAP_KDF = { N: 1024, r: 8, p: 1 };

async function sourceTree(root: string): Promise<string> {
  const src = join(root, 'src');
  await makeMixedTree(src, { dirs: 6, perDir: 40 });
  await writeFile(join(src, 'big.bin'), pseudoRandomBytes(12_000_000, 3));
  await writeFile(join(src, 'zeros.bin'), new Uint8Array(3_000_000));
  return src;
}

describe('restic reads what cairn writes', () => {
  let root: string;
  let src: string;
  let repo: Repository;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-ours-'));
    src = await sourceTree(root);
    repo = await initRepository(join(root, 'repo'), { password: 'pw', kdf: CHEAP_KDF });
    await snapshot(repo, [src]);
    await snapshot(repo, ['src/dir-1'], { cwd: root, tags: ['partial'] });
  });

  afterAll(async () => {
    await repo?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('restic check --read-data finds no errors', async () => {
    const r = await runRestic(['--repo', join(root, 'repo'), '--no-cache', 'check', '--read-data'], 'pw');
    expect(r.text()).toContain('no errors were found');
  });

  it('restic lists cairn snapshots with cairn IDs, and restores them identically', async () => {
    const ours = await listSnapshots(repo);
    const theirs = JSON.parse((await runRestic(['--repo', join(root, 'repo'), '--no-cache', 'snapshots', '--json'], 'pw')).text()) as Array<{ id: string; paths: string[]; tags?: string[] }>;
    expect(theirs.map((s) => s.id).sort()).toEqual(ours.map((s) => s.id).sort());
    expect(theirs.find((s) => s.tags?.includes('partial'))?.paths).toEqual([join(root, 'src/dir-1')]);
    const out = join(root, 'restic-out');
    await runRestic(['--repo', join(root, 'repo'), '--no-cache', 'restore', ours[0]!.id, '--target', out], 'pw');
    expect(diffTrees(await describeTree(src), await describeTree(join(out, src)))).toEqual([]);
  });
});

describe('cairn reads what restic writes', () => {
  let restic: ResticRepo;
  let src: string;

  beforeAll(async () => {
    restic = await ResticRepo.create({ password: 'pw' });
    src = await sourceTree(restic.root);
    await restic.backup([src]);
  }, 60_000);

  afterAll(async () => {
    await restic?.cleanup();
  });

  it('lists restic snapshots and restores a compressed v2 repository identically', async () => {
    const repo = await openRepository(restic.dir, { password: 'pw' });
    try {
      expect(repo.version).toBe(2);
      expect(repo.config.chunker.algorithm).toBe('rabin');
      const theirs = await restic.snapshots();
      const ours = await listSnapshots(repo);
      expect(ours.map((s) => s.id)).toEqual(theirs.map((s) => s.id));
      const out = join(restic.root, 'cairn-out');
      const r = await restoreSnapshot(repo, 'latest', { target: out });
      expect(r.errors).toBe(0);
      expect(diffTrees(await describeTree(src), await describeTree(join(out, src)))).toEqual([]);
    } finally {
      await repo.close();
    }
  });

  it('with Rabin, cairn stores a file as exactly the blobs restic stored (nothing new)', async () => {
    const file = join(restic.root, 'one.bin');
    await writeFile(file, pseudoRandomBytes(9_500_000, 11));
    const resticSummary = await restic.backup(['one.bin']);
    const node = await restic.lookup(resticSummary.snapshot_id, 'one.bin');
    expect(node.content!.length).toBeGreaterThan(1);
    const repo = await openRepository(restic.dir, { password: 'pw' });
    try {
      const s = await snapshot(repo, ['one.bin'], { cwd: restic.root });
      expect(s.data_blobs).toBe(0);
      const snap = await repo.loadSnapshot(s.snapshot_id);
      const tree = decodeTree(await repo.loadBlob('tree', snap.tree));
      expect(tree.nodes.map((n) => n.content)).toEqual([node.content]);
    } finally {
      await repo.close();
    }
  });
});

describe('cairn restores the restic-made v1 fixtures as restic does', () => {
  const fixtures = ['small-repo', 'repo-restore-permissions-test', 'repo-same-timestamps', 'repo-mixed', 'copy-unstable-json', 'repo-duplicates'];
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-fixtures-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Only what this version restores: files and directories (symlinks etc. come later). */
  const filesAndDirs = (m: Map<string, EntryInfo>): Map<string, EntryInfo> => new Map([...m].filter(([, e]) => e.type !== 'other'));

  for (const name of fixtures) {
    it(`${name}: every snapshot restores like restic's own restore`, { timeout: 120_000 }, async () => {
      const dir = join(root, name);
      await mkdir(dir);
      execFileSync('tar', ['xzf', join(FIXTURES_DIR, 'restic', `${name}.tar.gz`), '-C', dir]);
      const repoDir = join(dir, 'repo');
      const repo = await openRepository(repoDir, { password: 'geheim' });
      try {
        expect(repo.version).toBe(1);
        const snaps = await listSnapshots(repo);
        const theirs = JSON.parse((await runRestic(['--repo', repoDir, '--no-cache', 'snapshots', '--json'], 'geheim')).text()) as Array<{ id: string }>;
        expect(snaps.map((s) => s.id).sort()).toEqual(theirs.map((s) => s.id).sort());
        for (const s of snaps) {
          const a = join(dir, `cairn-${s.id.slice(0, 8)}`);
          const b = join(dir, `restic-${s.id.slice(0, 8)}`);
          await restoreSnapshot(repo, s.id, { target: a });
          await runRestic(['--repo', repoDir, '--no-cache', 'restore', s.id, '--target', b], 'geheim');
          const expected = filesAndDirs(await describeTree(b));
          expect(expected.size).toBeGreaterThan(0);
          expect(diffTrees(expected, filesAndDirs(await describeTree(a)))).toEqual([]);
        }
      } finally {
        await repo.close();
      }
    });
  }
});
