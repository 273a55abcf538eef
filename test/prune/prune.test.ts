/**
 * `cairn prune` on cairn-made repositories, with restic as the judge: after snapshots are removed
 * (their files deleted, as forget would), prune deletes what only they used, repacks partly used
 * packs by --max-unused, and the result passes `restic check --read-data` with every remaining
 * snapshot restoring byte for byte. A dry run changes nothing and announces exactly what the real
 * run then does. Damage (a corrupt blob to repack, a tree that cannot be loaded) stops the prune
 * before it deletes anything.
 */
import { chmod, mkdtemp, open as openFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode, lockRepository, openRepository, prune } from '../../src/index.js';
import { cairn } from '../cli/helpers.js';
import {
  bytesUnder, concat, copyRepo, countUnder, ENV, expectRestores, listing, makeSnapshots, packsOf, PASSWORD, pruneJson, random,
  removeSnapshots, resticCheck, withIndex,
} from './helpers.js';

const MiB = 1024 * 1024;

/** The plan's fields of a --json summary (what a dry run announces). */
const PLAN_FIELDS = [
  'snapshots', 'used_blobs', 'used_size', 'duplicate_blobs', 'duplicate_size', 'unused_blobs', 'unused_size', 'unreferenced_size',
  'total_blobs', 'total_size', 'repack_blobs', 'repack_size', 'repack_removes_blobs', 'repack_removes_size', 'delete_blobs',
  'delete_size', 'prune_blobs', 'prune_size', 'remaining_blobs', 'remaining_size', 'unused_size_after', 'packs_used',
  'packs_partly_used', 'packs_unused', 'packs_unreferenced', 'packs_keep', 'packs_repack', 'packs_delete',
] as const;

function planOf(summary: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(PLAN_FIELDS.map((k) => [k, summary[k]]));
}

describe('cairn prune', () => {
  let root: string;
  let base: string;
  let ids: string[];
  let sources: string[];
  let n = 0;
  const fresh = (): Promise<string> => copyRepo(base, join(root, `repo-${n++}`));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-prune-'));
    base = join(root, 'base');
    const a = random(6, 1);
    // c shares its first half with a; b shares nothing.
    ({ ids, sources } = await makeSnapshots(root, base, [
      { name: 'a', data: a },
      { name: 'b', data: random(6, 2) },
      { name: 'c', data: concat(a.subarray(0, 3 * MiB), random(3, 3)) },
    ]));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('after removing a snapshot: frees what only it used (within 64 KiB), restic check --read-data passes, the others restore identically; the dry run changed nothing and announced exactly this', async () => {
    const repo = await fresh();
    await removeSnapshots(repo, [ids[1]!]);
    const before = await listing(repo, true);
    const dataBefore = await bytesUnder(repo, 'data');

    const dry = await pruneJson(repo, ['--dry-run']);
    expect(await listing(repo, true)).toEqual(before);
    expect(dry).toMatchObject({ dry_run: true, snapshots: 2, packs_repack: 0 });
    expect(dry['packs_deleted']).toBeUndefined();

    const real = await pruneJson(repo);
    expect(planOf(real)).toEqual(planOf(dry));
    // What the run did is what the plan said.
    expect(real['packs_deleted']).toBe(Number(dry['packs_delete']) + Number(dry['packs_unreferenced']) + Number(dry['packs_repack']));
    expect(real['packs_repacked']).toBe(dry['packs_repack']);
    const freed = dataBefore - (await bytesUnder(repo, 'data'));
    expect(freed).toBe(Number(real['bytes_deleted']) - Number(real['bytes_written']));
    // b was 6 MiB of random data, stored as is: that is what goes, plus its trees and pack headers.
    expect(freed).toBeGreaterThanOrEqual(6 * MiB);
    expect(freed).toBeLessThanOrEqual(6 * MiB + 64 * 1024);
    expect(Number(real['delete_size'])).toBeGreaterThanOrEqual(6 * MiB);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);

    await resticCheck(repo, true);
    await expectRestores(repo, ids[0]!, sources[0]!, join(root, 'out-a'));
    await expectRestores(repo, ids[2]!, sources[2]!, join(root, 'out-c'));

    // A second prune finds nothing to do.
    const again = await pruneJson(repo);
    expect(again).toMatchObject({ unused_blobs: 0, packs_delete: 0, packs_repack: 0, packs_deleted: 0 });
  });

  it('repacks a pack that is half unused: the blobs the remaining snapshot shares survive, the unused half is gone', async () => {
    const repo = await fresh();
    const aPacks = await withIndex(repo, (r) => packsOf(r, 'data'));
    await removeSnapshots(repo, [ids[0]!]);
    const dry = await pruneJson(repo, ['--dry-run']);
    const real = await pruneJson(repo);
    expect(planOf(real)).toEqual(planOf(dry));
    expect(real['packs_partly_used']).toBe(1);
    expect(real['packs_repack']).toBe(1);
    expect(Number(real['repack_removes_size'])).toBeGreaterThan(MiB);
    expect(real['blobs_repacked']).toBe(Number(real['repack_blobs']) - Number(real['repack_removes_blobs']));
    expect(real['unused_size_after']).toBe(0);
    // a's data pack is gone; a new pack holds the shared blobs.
    const after = await withIndex(repo, (r) => packsOf(r, 'data'));
    expect([...after].filter((p) => !aPacks.has(p)).length).toBe(1);
    await resticCheck(repo, true);
    await expectRestores(repo, ids[2]!, sources[2]!, join(root, 'out-c2'));
    await expectRestores(repo, ids[1]!, sources[1]!, join(root, 'out-b2'));
    expect(await pruneJson(repo, ['--dry-run'])).toMatchObject({ unused_blobs: 0, packs_repack: 0, packs_delete: 0 });
  });

  it('--max-unused unlimited (or --max-repack-size 0) repacks nothing; a default prune afterwards does', async () => {
    const repo = await fresh();
    await removeSnapshots(repo, [ids[0]!]);
    const keep = await pruneJson(repo, ['--max-unused', 'unlimited']);
    expect(keep).toMatchObject({ packs_partly_used: 1, packs_repack: 0, packs_repacked: 0, packs_written: 0 });
    expect(Number(keep['unused_size_after'])).toBeGreaterThan(MiB);
    await resticCheck(repo);
    expect(await pruneJson(repo, ['--max-repack-size', '0'])).toMatchObject({ packs_repack: 0, packs_delete: 0 });
    // A tolerance larger than the unused space keeps the pack too; 0 does not.
    expect(await pruneJson(repo, ['--dry-run', '--max-unused', '100M'])).toMatchObject({ packs_repack: 0 });
    expect(await pruneJson(repo, ['--dry-run', '--max-unused', '0'])).toMatchObject({ packs_repack: 1 });
    expect(await pruneJson(repo)).toMatchObject({ packs_repack: 1, packs_repacked: 1, unused_size_after: 0 });
    await resticCheck(repo, true);
    await expectRestores(repo, ids[2]!, sources[2]!, join(root, 'out-c3'));
  });

  it('prints the plan as text: counts and human sizes, then what was done', async () => {
    const repo = await fresh();
    await removeSnapshots(repo, [ids[0]!, ids[1]!]);
    const dry = await cairn(['-r', repo, 'prune', '--dry-run'], { env: ENV });
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(/in use: +\d+ blobs +[\d.]+ MiB/);
    expect(dry.out).toMatch(/to repack: +\d+ blobs +[\d.]+ MiB +in 1 packs/);
    expect(dry.out).toMatch(/to delete: +\d+ blobs +[\d.]+ MiB +in \d+ packs/);
    expect(dry.out).toMatch(/unused afterwards: +0 B \(0\.00% of what remains\)/);
    expect(dry.out).toContain('dry run: nothing was changed');
    const real = await cairn(['-r', repo, '-v', 'prune'], { env: ENV });
    expect(real.code, real.err).toBe(0);
    for (const line of ['repacking 1 packs', 'writing the new index', 'deleting 3 old index files', 'done']) expect(real.out).toContain(line);
    expect(real.out).toMatch(/deleted repacked pack [0-9a-f]{64}/);
    expect(real.out).toMatch(/pruned: deleted \d+ packs \([\d.]+ MiB\); repacked 1 packs into 1 new packs/);
    expect((await cairn(['-r', repo, 'prune'], { env: ENV })).out).toContain('nothing to prune');
  });

  it('with every snapshot removed, deletes every pack and leaves an empty index that restic accepts', async () => {
    const repo = await fresh();
    await removeSnapshots(repo, ids);
    expect(await pruneJson(repo)).toMatchObject({ used_blobs: 0, remaining_blobs: 0, packs_keep: 0 });
    expect(await countUnder(repo, 'data')).toBe(0);
    await resticCheck(repo);
  });

  it('a damaged blob that must be repacked stops the prune, naming pack and blob; nothing is deleted', async () => {
    const repo = await fresh();
    // A blob a and c share (c begins with a's first half): it lives in a's pack, which gets repacked.
    const { pack, blob, offset } = await withIndex(repo, async (r) => {
      const content = async (i: number): Promise<readonly string[]> => {
        const snap = await r.loadSnapshot(ids[i]! as never);
        return (await findNode(r, snap.tree, join(sources[i]!, i === 0 ? 'a' : 'c')))!.content!;
      };
      const inC = new Set(await content(2));
      const shared = (await content(0)).find((id) => inC.has(id))!;
      const [entry] = r.index.lookup(shared as never, 'data');
      return { pack: entry!.pack, blob: shared, offset: entry!.offset + 100 };
    });
    await removeSnapshots(repo, [ids[0]!]);
    const file = join(repo, 'data', pack.slice(0, 2), pack);
    await chmod(file, 0o600);
    const fh = await openFile(file, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, offset);
    await fh.close();
    const before = (await listing(repo)).filter((l) => !l.startsWith('data/'));
    const packsBefore = (await listing(repo)).filter((l) => l.startsWith('data/'));

    const r = await cairn(['-r', repo, '--json', 'prune'], { env: ENV });
    expect(r.code).toBe(1);
    const err = JSON.parse(r.err.trim().split('\n').pop()!) as { code: string; message: string; data: Record<string, string> };
    expect(err.code).toBe('ERR_AUTH_FAILED');
    expect(err.message).toContain(pack);
    expect(err.message).toContain(blob);
    expect(err.data).toMatchObject({ pack, blob });
    // Index and snapshots untouched, every old pack still there, the lock released.
    expect((await listing(repo)).filter((l) => !l.startsWith('data/'))).toEqual(before);
    const packsAfter = await listing(repo);
    for (const p of packsBefore) expect(packsAfter).toContain(p);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
    await resticCheck(repo);
  });

  it('a snapshot whose tree cannot be loaded stops the prune before anything changes (ERR_PRUNE_UNSAFE)', async () => {
    const repo = await fresh();
    await removeSnapshots(repo, [ids[1]!]);
    // Delete c's tree pack: its snapshot can no longer be walked.
    const treePack = await withIndex(repo, async (r) => {
      const snap = await r.loadSnapshot(ids[2]! as never);
      return r.index.lookup(snap.tree, 'tree')[0]!.pack;
    });
    await rm(join(repo, 'data', treePack.slice(0, 2), treePack), { force: true });
    const before = await listing(repo, true);
    const r = await cairn(['-r', repo, '--json', 'prune'], { env: ENV });
    expect(r.code).toBe(1);
    const err = JSON.parse(r.err.trim().split('\n').pop()!) as { code: string; message: string };
    expect(err.code).toBe('ERR_PRUNE_UNSAFE');
    expect(err.message).toContain(ids[2]!.slice(0, 8));
    expect(err.message).toContain('cairn check');
    expect(err.message).toContain('repair snapshots');
    expect(await listing(repo, true)).toEqual(before);
  });

  it('library: prune() locks, plans, executes and unlocks; with the caller\'s lock it uses that one; interrupted it stops cleanly', async () => {
    const repo = await fresh();
    await removeSnapshots(repo, [ids[1]!]);
    const r = await openRepository(repo, { password: PASSWORD });
    try {
      // Interrupted as the new index is written: it stops before deleting anything more.
      const controller = new AbortController();
      const stopped = prune(r, { signal: controller.signal, onEvent: (e) => {
        if (e.type === 'phase' && e.phase === 'write-index') controller.abort();
      } });
      await expect(stopped).rejects.toMatchObject({ code: 'ERR_INTERRUPTED' });
      expect(await readdir(join(repo, 'locks'))).toEqual([]);
      await resticCheck(repo);

      const lock = await lockRepository(r, { exclusive: true });
      try {
        const dry = await prune(r, { lock, dryRun: true });
        expect(dry.result).toBeUndefined();
        expect(dry.plan.removePacks.length).toBeGreaterThan(0);
        const done = await prune(r, { lock });
        expect(done.result).toMatchObject({ packsDeleted: dry.plan.removePacks.length, indexFilesWritten: 1 });
        expect(await readdir(join(repo, 'locks'))).toEqual([lock.id]); // the caller's lock stays the caller's
      } finally {
        await lock.release();
      }
      // The in-memory index now describes the pruned repository.
      expect(new Set(r.index.packIds()).size).toBe(await countUnder(repo, 'data'));
    } finally {
      await r.close();
    }
    await resticCheck(repo, true);
  });

  it('refuses bad option values before touching the repository', async () => {
    for (const args of [['--max-unused', '100%'], ['--max-unused', 'lots'], ['--max-repack-size', 'x']]) {
      const r = await cairn(['-r', base, '--json', 'prune', ...args], { env: ENV });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.err.trim()).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});
