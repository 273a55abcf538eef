/**
 * Crash safety: the built CLI (`node dist/cli/cairn.js -v prune`) is SIGKILLed at many moments of a
 * prune that deletes an unreferenced pack, repacks partly used packs and deletes unused ones — in
 * planning, while deleting the unreferenced pack, while repacking, after a new pack is durable,
 * around the new index, between old index deletions, between pack deletions, and at fixed delays.
 * Kill points follow the progress lines `-v` prints (stdout to a pipe is synchronous in Node, so a
 * line seen means its step is done). After each kill: the stale lock is removed by `cairn unlock`,
 * `restic check` passes, a second prune completes, restic still agrees, every remaining snapshot
 * restores byte for byte, and a third prune finds nothing left to do.
 *
 * Needs the built CLI: `npm run build` (npm test builds first).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashId, initRepository, openRepository, planPrune, snapshot } from '../../src/index.js';
import { cairn } from '../cli/helpers.js';
import { requireBuiltCli, runCli, startCli, type KillPoint } from '../helpers/cli-process.js';
import { CHEAP_KDF, copyRepo, ENV, expectRestores, PASSWORD, pruneJson, random, removeSnapshots, resticCheck } from './helpers.js';

/**
 * Kill when the n-th stdout line matching `line` appears, or `afterMs` after it. Timed kill points
 * land wherever the machine's speed puts them; on a fast machine the prune may be over by then (the
 * checks below still run).
 */
const KILL_POINTS: readonly (KillPoint & { readonly name: string })[] = [
  { name: 'while planning', line: /^loading snapshots$/ },
  { name: 'after planning', line: /^sorting packs/ },
  { name: 'after deleting the unreferenced pack', line: /^deleted unreferenced pack/ },
  { name: 'as repacking starts', line: /^repacking \d+ packs$/ },
  { name: 'after the first pack was repacked', line: /^repacked pack/ },
  { name: 'after a new pack is durable', line: /^wrote pack/ },
  { name: 'as the new index is written', line: /^writing the new index/ },
  { name: 'after the new index is written', line: /^wrote index/ },
  { name: 'after the first old index file is deleted', line: /^deleted index/ },
  { name: 'between old index deletions', line: /^deleted index/, nth: 2 },
  { name: 'as pack deletion starts', line: /^deleting \d+ packs$/ },
  { name: 'between pack deletions', line: /^deleted (unused|repacked) pack/, nth: 4 },
  { name: '20 ms after the lock was taken', line: /^loading index files$/, afterMs: 20 },
  { name: '60 ms after the lock was taken', line: /^loading index files$/, afterMs: 60 },
  { name: '120 ms after the lock was taken', line: /^loading index files$/, afterMs: 120 },
];

describe('prune survives SIGKILL at any moment', () => {
  let root: string;
  let template: string;
  let ySource: string;
  let yId: string;

  beforeAll(async () => {
    requireBuiltCli('prune');
    root = await mkdtemp(join(tmpdir(), 'cairn-prune-crash-'));
    template = join(root, 'template');
    // Small packs (512 KiB, about 3 blobs of 200 KB), so that there is a lot to repack and delete.
    const repo = await initRepository(template, { password: PASSWORD, kdf: CHEAP_KDF, packSize: 512 * 1024 });
    const ids: string[] = [];
    try {
      const files = Array.from({ length: 30 }, (_, i) => random(0.2, 1000 + i));
      const write = async (name: string, content: Uint8Array[]): Promise<string> => {
        const dir = join(root, name);
        await mkdir(dir);
        for (const [i, c] of content.entries()) await writeFile(join(dir, `f${String(i).padStart(2, '0')}`), c);
        return dir;
      };
      // x: 30 files; y: every other file of x and 15 of its own; z: 20 of its own.
      const x = await write('src-x', files);
      ySource = await write('src-y', [...files.filter((_, i) => i % 2 === 1), ...Array.from({ length: 15 }, (_, i) => random(0.2, 2000 + i))]);
      const z = await write('src-z', Array.from({ length: 20 }, (_, i) => random(0.2, 3000 + i)));
      for (const d of [x, ySource, z]) ids.push((await snapshot(repo, [d])).snapshot_id);
      // An unreferenced pack, as a crashed backup leaves one.
      const writer = repo.createPackWriter();
      const orphan = random(0.1, 4000);
      await writer.add(repo.sealBlob('data', hashId(orphan), orphan));
      await writer.finish();
    } finally {
      await repo.close();
    }
    yId = ids[1]!;
    await removeSnapshots(template, [ids[0]!, ids[2]!]);
    const check = await openRepository(template, { password: PASSWORD });
    try {
      const plan = await planPrune(check);
      expect(plan.unreferencedPacks.length).toBe(1);
      expect(plan.repackPacks.length).toBeGreaterThanOrEqual(5);
      expect(plan.removePacks.length).toBeGreaterThanOrEqual(5);
      expect(plan.indexFiles.length).toBeGreaterThanOrEqual(3);
    } finally {
      await check.close();
    }
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a second prune while one runs exits 11; the first completes', async () => {
    const repo = await copyRepo(template, join(root, 'concurrent'));
    const first = startCli(['-r', repo, 'prune'], { env: ENV });
    await first.line(/loading snapshots/);
    const second = await cairn(['-r', repo, 'prune'], { env: ENV });
    expect(second.code).toBe(11);
    expect(second.err).toContain(`PID ${first.child.pid}`);
    expect(second.err).toContain('exclusive lock');
    expect((await first.done).code).toBe(0);
    await resticCheck(repo);
  });

  it.each(KILL_POINTS.map((p, i) => [p.name, p, i] as const))('killed %s', async (_name, point, i) => {
    const repo = await copyRepo(template, join(root, `kill-${i}`));
    const run = await runCli(['-r', repo, '-v', 'prune'], { env: ENV, kill: point });
    if (point.afterMs === undefined || run.code !== 0) {
      expect(run.killed, `the prune ended before the kill point (exit ${run.code}):\n${run.out}\n${run.err}`).toBe(true);
    }

    // The killed prune's lock is stale (its process is gone): unlock removes it, nothing else.
    const un = await cairn(['-r', repo, '--json', 'unlock'], { env: ENV });
    expect(un.code, un.err).toBe(0);
    const unlocked = JSON.parse(un.out.trim()) as { removed: { stale: boolean; exclusive: boolean }[]; kept: unknown[] };
    expect(unlocked.kept).toEqual([]);
    expect(unlocked.removed.every((l) => l.stale && l.exclusive)).toBe(true);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);

    await resticCheck(repo);
    const again = await pruneJson(repo);
    expect(again['packs_deleted']).toBe(Number(again['packs_delete']) + Number(again['packs_unreferenced']) + Number(again['packs_repack']));
    await resticCheck(repo, i % 4 === 0);
    await expectRestores(repo, yId, ySource, join(root, `out-${i}`));
    expect(await pruneJson(repo, ['--dry-run'])).toMatchObject({ unused_blobs: 0, packs_unreferenced: 0, packs_repack: 0, packs_delete: 0, snapshots: 1 });
  });
});
