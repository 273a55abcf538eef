/**
 * Snapshots with the directory cache record exactly what snapshots without it record. After
 * random changes to a small tree (files written, appended, touched, chmod-ed, removed, renamed
 * across directories; directories made and removed; symlinks made and retargeted; extended
 * attributes set), with or without an exclude pattern, three snapshots are taken: one with the
 * cache, one without it from the same parent, one with --force (every file read, no parent).
 * All three must have the same root tree, and the first two the same counts. A last check shows
 * the cache was used: an unchanged tree is taken without reading any of the parent's trees.
 */
import { appendFileSync, chmodSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, lutimesSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBackend, type FileInfo } from '../../src/backend/index.js';
import type { FileType } from '../../src/model/index.js';
import { nativeAvailable, setXattr } from '../../src/fs/index.js';
import { Repository, snapshot, type SnapshotSummary } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

const KDF = { N: 1024, r: 8, p: 1 };

/** A memory backend without the lock protocol's 200 ms wait (one process uses it). */
class Backend extends MemoryBackend {
  lockSettleMs(): Promise<number> {
    return Promise.resolve(0);
  }
}

type Op =
  | { kind: 'write' | 'append' | 'touch' | 'chmod' | 'remove' | 'mkdir' | 'rmdir' | 'rename' | 'symlink' | 'xattr'; pick: number; pick2: number; name: string; size: number };

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('write', 'append', 'touch', 'chmod', 'remove', 'mkdir', 'rmdir', 'rename', 'symlink', 'xattr'),
  pick: fc.nat(),
  pick2: fc.nat(),
  name: fc.constantFrom('a', 'b', 'c.x', 'd', 'e.x'),
  size: fc.nat({ max: 3000 }),
});

/** Every directory under `root` (itself included) and every other entry, in a fixed order. */
function listing(root: string): { dirs: string[]; others: string[] } {
  const dirs: string[] = [];
  const others: string[] = [];
  const walk = (d: string): void => {
    dirs.push(d);
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (lstatSync(p).isDirectory()) walk(p);
      else others.push(p);
    }
  };
  walk(root);
  return { dirs, others };
}

function apply(root: string, o: Op, step: number): void {
  const { dirs, others } = listing(root);
  const dir = dirs[o.pick % dirs.length]!;
  const other = others.length > 0 ? others[o.pick % others.length] : undefined;
  const file = other !== undefined && lstatSync(other).isFile() ? other : undefined;
  const fresh = join(dir, o.name);
  const taken = (p: string): boolean => {
    try {
      lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  switch (o.kind) {
    case 'write':
      // A new size each time: the parent rule (size, mtime, ctime, inode) cannot miss the change
      // even where timestamps are coarse, and --force's reading agrees with it.
      if (!taken(fresh) || lstatSync(fresh).isFile()) writeFileSync(fresh, Buffer.alloc((taken(fresh) ? lstatSync(fresh).size : 0) + 1 + o.size, step));
      break;
    case 'append':
      if (file !== undefined) appendFileSync(file, `step ${step}\n`);
      break;
    case 'touch': {
      const t = 1_600_000_000 + o.size * 1000 + step;
      lutimesSync(other ?? dir, t, t);
      break;
    }
    case 'chmod':
      if (file !== undefined) chmodSync(file, o.size % 2 === 0 ? 0o600 : 0o644);
      break;
    case 'remove':
      if (other !== undefined) unlinkSync(other);
      break;
    case 'mkdir':
      if (!taken(fresh)) mkdirSync(fresh);
      break;
    case 'rmdir':
      if (dir !== root) rmSync(dir, { recursive: true });
      break;
    case 'rename': {
      const to = join(dirs[o.pick2 % dirs.length]!, o.name);
      if (file !== undefined && !taken(to)) renameSync(file, to);
      break;
    }
    case 'symlink':
      if (taken(fresh) && lstatSync(fresh).isSymbolicLink()) unlinkSync(fresh);
      if (!taken(fresh)) symlinkSync(`target-${step}-${o.size}`, fresh);
      break;
    case 'xattr':
      if (nativeAvailable()) {
        const target = other !== undefined && !lstatSync(other).isSymbolicLink() ? other : dir;
        setXattr(Buffer.from(target), Buffer.from('user.step'), Buffer.from(`value ${step} ${o.size}`));
      }
      break;
  }
}

const COUNTS = ['files_new', 'files_changed', 'files_unmodified', 'dirs_new', 'dirs_changed', 'dirs_unmodified', 'total_files_processed', 'total_bytes_processed', 'errors'] as const;
const counts = (s: SnapshotSummary): Record<string, number> => Object.fromEntries(COUNTS.map((k) => [k, s[k]]));

describe('snapshots with the directory cache', () => {
  it('record the same trees as snapshots without it, and count the same, whatever changed', async () => {
    const warnings: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ ops: fc.array(op, { minLength: 0, maxLength: 4 }), exclude: fc.boolean() }), { minLength: 1, maxLength: 5 }), async (steps) => {
        const base = tempDir('cairn-dircache-walk-');
        const src = join(base, 'src');
        mkdirSync(join(src, 'a', 'b'), { recursive: true });
        mkdirSync(join(src, 'd'));
        for (const [i, p] of ['f', 'a/g.x', 'a/b/h', 'd/i'].entries()) writeFileSync(join(src, p), Buffer.alloc(100 + i, i));
        symlinkSync('somewhere', join(src, 'a', 'l'));
        const cacheFile = join(base, 'cache', 'dirs');
        const repo = await Repository.init(new Backend(), 'pw', { kdf: KDF });
        try {
          const take = async (extra: Parameters<typeof snapshot>[2]): Promise<{ summary: SnapshotSummary; tree: string }> => {
            const summary = await snapshot(repo, ['src'], { cwd: base, onWarning: (w) => warnings.push(`${w.code} ${w.path}: ${w.message}`), ...extra });
            return { summary, tree: (await repo.loadSnapshot(summary.snapshot_id)).tree };
          };
          let parent = (await take({ dirCache: cacheFile })).summary.snapshot_id;
          for (const [step, { ops, exclude }] of steps.entries()) {
            for (const o of ops) apply(src, o, step);
            const selection = exclude ? { exclude: ['*.x'] } : {};
            const cached = await take({ ...selection, dirCache: cacheFile, parent });
            const plain = await take({ ...selection, parent });
            const forced = await take({ ...selection, force: true });
            expect(cached.tree, `step ${step}: ${JSON.stringify(ops)}`).toBe(plain.tree);
            expect(cached.tree).toBe(forced.tree);
            expect(counts(cached.summary)).toEqual(counts(plain.summary));
            parent = cached.summary.snapshot_id;
          }
        } finally {
          await repo.close();
        }
      }),
      { seed: 20261125, numRuns: 60 },
    );
    expect(warnings).toEqual([]);
  }, 120_000);

  it('records the new zone\'s offsets when the time zone changes (the zone is part of the key)', async () => {
    const base = tempDir('cairn-dircache-walk-');
    mkdirSync(join(base, 'src', 'a'), { recursive: true });
    writeFileSync(join(base, 'src', 'a', 'f'), 'f');
    const cacheFile = join(base, 'dirs');
    const repo = await Repository.init(new Backend(), 'pw', { kdf: KDF });
    const zone = process.env['TZ'];
    try {
      const take = async (extra: Parameters<typeof snapshot>[2]): Promise<string> => (await repo.loadSnapshot((await snapshot(repo, ['src'], { cwd: base, ...extra })).snapshot_id)).tree;
      process.env['TZ'] = 'UTC';
      const utc = await take({ dirCache: cacheFile });
      expect(await take({ dirCache: cacheFile })).toBe(utc);
      process.env['TZ'] = 'Asia/Kolkata';
      const cached = await take({ dirCache: cacheFile });
      expect(cached).not.toBe(utc);
      expect(cached).toBe(await take({ force: true }));
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
      await repo.close();
    }
  });

  it('reports a failed index listing after the snapshot is saved as a warning, and writes no cache', async () => {
    const base = tempDir('cairn-dircache-walk-');
    mkdirSync(join(base, 'src'));
    writeFileSync(join(base, 'src', 'f'), 'f');
    const cacheFile = join(base, 'dirs');
    let listings = 0;
    class Flaky extends Backend {
      override async *list(type: FileType): AsyncIterable<FileInfo> {
        // The snapshot's own listing (loading the index) works; the one after it fails.
        if (type === 'index' && ++listings === 2) throw new Error('EIO (simulated)');
        yield* super.list(type);
      }
    }
    const repo = await Repository.init(new Flaky(), 'pw', { kdf: KDF });
    try {
      const warnings: string[] = [];
      const summary = await snapshot(repo, ['src'], { cwd: base, dirCache: cacheFile, onWarning: (w) => warnings.push(`${w.code} ${w.message}`) });
      expect((await repo.listSnapshots()).map((e) => e.id)).toEqual([summary.snapshot_id]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^DEGRADED cannot list the repository's index files, so the directory cache is not written .*EIO \(simulated\)/);
      expect(lstatSync(cacheFile, { throwIfNoEntry: false })).toBeUndefined();
    } finally {
      await repo.close();
    }
  });

  it('takes an unchanged tree from the cache without loading any of the parent\'s trees', async () => {
    const base = tempDir('cairn-dircache-walk-');
    const src = join(base, 'src');
    for (const d of ['a/b/c', 'a/e', 'f']) mkdirSync(join(src, d), { recursive: true });
    for (const p of ['x', 'a/y', 'a/b/c/z', 'f/w']) writeFileSync(join(src, p), p);
    const cacheFile = join(base, 'dirs');
    const repo = await Repository.init(new Backend(), 'pw', { kdf: KDF });
    try {
      // A relative path: the root tree holds src alone (not /tmp, which other tests change).
      const take = (): ReturnType<typeof snapshot> => snapshot(repo, ['src'], { cwd: base, dirCache: cacheFile });
      const first = await take();
      const loadBlob = repo.loadBlob.bind(repo);
      const loaded: string[] = [];
      repo.loadBlob = (type, id) => {
        loaded.push(`${type} ${id}`);
        return loadBlob(type, id);
      };
      const second = await take();
      expect(counts(second)).toMatchObject({ files_unmodified: 4, dirs_unmodified: 6, files_new: 0, dirs_changed: 0 });
      const trees = async (id: string): Promise<string> => (await repo.loadSnapshot(id as never)).tree;
      expect(await trees(second.snapshot_id)).toBe(await trees(first.snapshot_id));
      // Only the root tree (which holds src) is read.
      expect(loaded).toHaveLength(1);

      // One changed file deep down: its directory and those above it are visited as usual (their
      // parent trees read), the others are not.
      loaded.length = 0;
      writeFileSync(join(src, 'a', 'b', 'c', 'z'), 'changed');
      const third = await take();
      expect(counts(third), JSON.stringify(counts(third))).toMatchObject({ files_changed: 1, files_unmodified: 3, dirs_changed: 4, dirs_unmodified: 2 });
      expect(loaded).toHaveLength(1 + 4);
    } finally {
      await repo.close();
    }
  });
});
