/**
 * The main job end to end through the library: a mixed tree of more than 10,000 files and a file
 * of more than 200 MB are snapshotted and restored byte-identically, with permissions and times;
 * snapshotting again adds no data (only the trees of src's changed ancestors); identical files are stored once.
 */
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRepository, listSnapshots, openRepository, restoreSnapshot, snapshot, type ArchiverWarning, type Repository } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { describeTree, diffTrees, makeMixedTree } from '../helpers/trees.js';

const CHEAP_KDF = { N: 1024, r: 8, p: 1 };

describe('snapshot and restore round trip', () => {
  let root: string;
  let repo: Repository;
  let src: string;
  let files = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-rt-'));
    src = join(root, 'src');
    files = (await makeMixedTree(join(src, 'tree'), { dirs: 101, perDir: 100 })) + 1;
    expect(files).toBeGreaterThan(10_000);
    await writeFile(join(src, 'model.safetensors'), pseudoRandomBytes(210_000_000, 42));
    repo = await initRepository(join(root, 'repo'), { password: 'pw', kdf: CHEAP_KDF });
  }, 120_000);

  afterAll(async () => {
    await repo?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('restores every file byte-identically, with permissions and times', { timeout: 240_000 }, async () => {
    const summary = await snapshot(repo, [src], { cwd: root });
    expect(summary.errors).toBe(0);
    expect(summary.total_files_processed).toBe(files);
    expect(summary.snapshot_id).toMatch(/^[0-9a-f]{64}$/);

    const target = join(root, 'out');
    const r = await restoreSnapshot(repo, 'latest', { target });
    expect(r.errors).toBe(0);
    expect(r.files).toBe(files);
    // The snapshot's absolute path reappears under the target, as with restic.
    expect(diffTrees(await describeTree(src), await describeTree(join(target, src)))).toEqual([]);
  });

  it('a second snapshot of the same tree adds no data blobs; a reopened repository sees both', { timeout: 120_000 }, async () => {
    const again = await snapshot(repo, [src], { cwd: root });
    expect(again.data_blobs).toBe(0);
    // Only the trees of the directories above src may be new: the restore made `out` next to it,
    // so their mtimes moved. Nothing in or below src is stored again.
    expect(again.tree_blobs).toBeLessThanOrEqual(src.split('/').length - 1);
    expect(again.data_added).toBeLessThan(again.tree_blobs * 1024);
    const reopened = await openRepository(join(root, 'repo'), { password: 'pw' });
    try {
      expect((await listSnapshots(reopened)).length).toBe(2);
    } finally {
      await reopened.close();
    }
  });
});

describe('deduplication and partial input', () => {
  let root: string;
  let repo: Repository;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-dd-'));
    repo = await initRepository(join(root, 'repo'), { password: 'pw', kdf: CHEAP_KDF });
  });

  afterAll(async () => {
    await repo?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('stores the chunks of identical files once', async () => {
    const data = pseudoRandomBytes(6_000_000, 7);
    await writeFile(join(root, 'one.bin'), data);
    const first = await snapshot(repo, [join(root, 'one.bin')]);
    for (let i = 0; i < 3; i++) await writeFile(join(root, `copy-${i}.bin`), data);
    const copies = await snapshot(repo, [0, 1, 2].map((i) => join(root, `copy-${i}.bin`)));
    expect(first.data_blobs).toBeGreaterThan(1);
    expect(copies.data_blobs).toBe(0);
    expect(copies.total_bytes_processed).toBe(3 * data.length);
  });

  it('reports a file that grows while it is read, and stores what was read', async () => {
    const src = join(root, 'growing');
    await mkdir(src);
    const file = join(src, 'log.bin');
    await writeFile(file, pseudoRandomBytes(60_000_000, 8));
    const fh = await open(file, 'a');
    let stop = false;
    const appender = (async () => {
      while (!stop) {
        await fh.write(Buffer.alloc(4096, 1));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const warnings: ArchiverWarning[] = [];
    try {
      const s = await snapshot(repo, [src], { onWarning: (w) => warnings.push(w) });
      expect(s.files_changed_during_read).toBe(1);
      expect(s.errors).toBe(0);
      expect(warnings).toEqual([expect.objectContaining({ code: 'CHANGED', path: file })]);
    } finally {
      stop = true;
      await appender;
      await fh.close();
    }
  });

});
