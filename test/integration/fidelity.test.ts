/**
 * Acceptance for issue 4's fidelity: a source tree full of hard cases (test/helpers/fscases.py:
 * every node type, names with any bytes, setuid/setgid/sticky, owners, nanosecond and pre-1970
 * times, xattrs, hard links, sparse files) comes back with no stat-level difference
 * (test/helpers/treecmp.ts) in all three directions:
 *
 *   cairn snapshot → cairn restore, restic backup → cairn restore, cairn snapshot → restic restore
 *
 * and the tree blobs cairn writes for that source are the ones restic 0.14 writes for it.
 *
 * Known, documented exceptions (spec/format.md, "Differences from restic 0.14"):
 *   - sockets are recorded (restic 0.14 leaves them out of its trees) but never restored (restic
 *     skips them too);
 *   - restic 0.14 stores a symlink target that is not UTF-8 lossily (U+FFFD); cairn stores it
 *     exactly in `linktarget_raw` (the field later restic versions use), so only the directions
 *     where restic writes or reads the snapshot lose those bytes;
 *   - restic 0.14 restores without holes (no `--sparse`), so sparseness is compared for cairn's
 *     restores only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from '../../src/index.js';
import { cairn } from '../cli/helpers.js';
import { cheapenResticKey } from '../helpers/cheap-key.js';
import { makeCaseTree, type CaseTreeInfo } from '../helpers/fscases.js';
import { ResticRepo } from '../helpers/restic.js';
import { compareStats, compareTrees, statTree, type CompareOptions, type TreeStat } from '../helpers/treecmp.js';

const PASSWORD = 'fidelity';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };

describe('fidelity: a tree of hard cases survives every direction', () => {
  let root: string;
  let src: string;
  let info: CaseTreeInfo;
  /** The source as it was before any backup read it. */
  let before: TreeStat;
  /**
   * The source after cairn's first snapshot: reading a symlink moves its atime (readlink cannot
   * avoid it; restic's backup does the same), so the later backups saw these symlink atimes.
   */
  let afterFirst: TreeStat;
  let cairnRepo: string;
  let restic: ResticRepo;
  let cairnSnapshotInRestic: string;
  let resticSnapshot: string;

  /** Path keys where restic 0.14's lossy link target shows. */
  let lossyLink: (p: string) => boolean;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-fidelity-'));
    src = join(root, 'src');
    info = await makeCaseTree(src, { seed: 4 });
    before = await statTree(src);
    const nonUtf8 = info.cases['symlink-non-utf8-target'];
    lossyLink = (p) => p === nonUtf8;

    cairnRepo = join(root, 'cairn-repo');
    expect((await cairn(['-r', cairnRepo, 'repo', 'init'], { env: ENV })).code).toBe(0);
    const own = await cairn(['-r', cairnRepo, 'snapshot', src, '--with-atime', '--json'], { env: ENV });
    expect(own.code, own.err).toBe(0);
    afterFirst = await statTree(src);

    // One restic repository holds restic's backup and cairn's snapshot of the same source: cairn
    // chunks it with restic's Rabin polynomial, so equal input must give equal tree blobs.
    restic = await ResticRepo.create({ password: PASSWORD });
    await cheapenResticKey(restic.dir, PASSWORD);
    resticSnapshot = (await restic.backup([src], ['--with-atime'])).snapshot_id;
    const mixed = await cairn(['-r', restic.dir, 'snapshot', src, '--with-atime', '--json'], { env: ENV });
    expect(mixed.code, mixed.err).toBe(0);
    cairnSnapshotInRestic = (JSON.parse(mixed.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id;
  }, 300_000);

  afterAll(async () => {
    await restic?.cleanup();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  const common: CompareOptions = { atime: true, ignoreTypes: ['socket'] };

  it('built every case it can on this machine', () => {
    const expected = ['file-sparse', 'hardlink-group-3', 'fifo', 'socket', 'symlink-non-utf8-target', 'mode-setuid-file', 'xattr-user-file', 'time-dir-before-1970'];
    for (const c of expected) expect(info.cases, c).toHaveProperty(c);
    if (info.root) for (const c of ['chardev', 'blockdev', 'xattr-trusted', 'mode-0000-file']) expect(info.cases, c).toHaveProperty(c);
  });

  it('a snapshot leaves the source as it was, access times included (but symlinks\')', () => {
    expect(compareStats(before, afterFirst, { atime: true, rootMetadata: true, ignoreTypes: ['symlink'] })).toEqual([]);
  });

  it('cairn → cairn: no difference, holes restored as holes', { timeout: 120_000 }, async () => {
    const out = join(root, 'cairn-cairn');
    const r = await cairn(['-r', cairnRepo, 'restore', 'latest', '--target', out, '--sparse', '--verify', '--json'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(await compareTrees(before, join(out, src), { ...common, sparse: true, rootMetadata: true })).toEqual([]);
  });

  it('restic backup → cairn restore: no difference but restic 0.14\'s lossy non-UTF-8 link target', { timeout: 120_000 }, async () => {
    const out = join(root, 'restic-cairn');
    const r = await cairn(['-r', restic.dir, 'restore', resticSnapshot, '--target', out, '--sparse', '--json'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(await compareTrees(afterFirst, join(out, src), { ...common, sparse: true, rootMetadata: true, ignorePaths: lossyLink })).toEqual([]);
  });

  it('cairn snapshot → restic restore: no difference but the link target restic 0.14 cannot write back', { timeout: 120_000 }, async () => {
    await restic.run(['check', '--read-data']);
    const out = join(root, 'cairn-restic');
    await restic.run(['restore', cairnSnapshotInRestic, '--target', out]);
    expect(await compareTrees(afterFirst, join(out, src), { ...common, rootMetadata: true, ignorePaths: lossyLink })).toEqual([]);
  });

  it('cairn writes the tree blobs restic writes for the same input', { timeout: 120_000 }, async () => {
    const repo = await openRepository(restic.dir, { password: PASSWORD });
    try {
      await repo.loadIndex();
      const trees = async (id: string): Promise<string> => {
        const snap = (await repo.listSnapshots()).find((s) => s.id.startsWith(id));
        if (snap === undefined) throw new Error(`no snapshot ${id}`);
        return snap.snapshot.tree;
      };
      const differences: string[] = [];
      const walk = async (path: string, a: string, b: string): Promise<void> => {
        if (a === b) return;
        const load = async (id: string) => (JSON.parse(Buffer.from(await repo.loadBlob('tree', id as never)).toString('utf8')) as { nodes: Record<string, unknown>[] }).nodes;
        const [na, all] = await Promise.all([load(a), load(b)]);
        // The issue asks for sockets to be recorded; restic 0.14 leaves them out of the tree.
        const nb = all.filter((n) => n['type'] !== 'socket');
        const names = (ns: Record<string, unknown>[]) => ns.map((n) => n['name']);
        if (JSON.stringify(names(na)) !== JSON.stringify(names(nb))) {
          differences.push(`${path}: names ${JSON.stringify(names(na))} vs ${JSON.stringify(names(nb))}`);
          return;
        }
        for (let i = 0; i < na.length; i++) {
          const x = { ...na[i] };
          const y = { ...nb[i] };
          const here = `${path}/${String(x['name'])}`;
          // restic 0.14 keeps the lossy text only; cairn adds the exact bytes.
          delete y['linktarget_raw'];
          const sx = x['subtree'];
          const sy = y['subtree'];
          delete x['subtree'];
          delete y['subtree'];
          if (JSON.stringify(x) !== JSON.stringify(y)) differences.push(`${here}: restic ${JSON.stringify(x)} vs cairn ${JSON.stringify(y)}`);
          if (typeof sx === 'string' && typeof sy === 'string') await walk(here, sx, sy);
        }
      };
      await walk('', await trees(resticSnapshot), await trees(cairnSnapshotInRestic));
      expect(differences).toEqual([]);
    } finally {
      await repo.close();
    }
  });
});
