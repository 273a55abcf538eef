/**
 * `cairn repair index` and `cairn repair snapshots` as a user runs them after `check` failed, with
 * restic's `check` as the judge of the result: a lost index comes back whole (and a restore is
 * byte-identical), a lost pack's files are dropped from the snapshots and everything else still
 * restores byte for byte, a pack whose header cannot be read is reported and left alone, a dry
 * run writes nothing, and snapshots with nothing missing are left alone.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTree, diffTrees } from '../helpers/trees.js';
import { runRestic } from '../helpers/restic.js';
import { cairnIn, copyRepository, filesByPack, filesOf, makeRepository, packFiles, PASSWORD, removeFile, resticCheck, truncateFile } from './helpers.js';
import { jsonLines } from '../helpers/json.js';

/** Every file below a directory with its size and mtime: to see that nothing was written. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!p.includes('/locks/') && !p.includes('/cairn-log/')) out.push(`${p} ${(await stat(p)).size} ${(await stat(p)).mtimeMs}`);
    }
  };
  await walk(dir);
  return out.sort();
}

describe('repair index and repair snapshots', () => {
  let root: string;
  let clean: string;
  let src: string;
  let n = 0;
  let dataPacks: string[];
  let byPack: Map<string, Set<string>>;

  const copy = async (): Promise<string> => copyRepository(clean, join(root, `copy-${n++}`));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-repair-'));
    ({ repo: clean, src } = await makeRepository(root));
    const info = await filesByPack(clean);
    byPack = info.packs;
    dataPacks = [...info.types].filter(([, t]) => t === 'data').map(([p]) => p).sort();
  }, 60_000);

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('every index file deleted: repair index rebuilds it from the packs; restic check --read-data passes; a restore is byte-identical', async () => {
    const repo = await copy();
    const before = await filesOf(repo, 'index');
    for (const f of before) await removeFile(join(repo, 'index', f));
    const c = cairnIn(repo);
    expect((await c(['check'])).code).toBe(1);
    const r = await c(['--json', 'repair', 'index']);
    expect(r.code, r.err).toBe(0);
    const lines = jsonLines(r.out);
    const packs = await packFiles(repo);
    expect(lines.filter((l) => l['message_type'] === 'pack_added').map((l) => l['pack']).sort()).toEqual(packs.map((p) => p.id));
    expect(lines.at(-1)).toMatchObject({ message_type: 'summary', packs: packs.length, packs_read: packs.length, packs_added: packs.length, unreadable_packs: [] });
    expect(await filesOf(repo, 'index')).toEqual((lines.at(-1)!['new_index_files'] as string[]).sort());
    const check = await c(['check', '--read-data']);
    expect(check.code, check.err).toBe(0);
    expect((await resticCheck(repo, ['--read-data'])).code).toBe(0);
    const target = join(root, `restore-${n++}`);
    const restore = await c(['restore', 'latest', '--target', target]);
    expect(restore.code, restore.err).toBe(0);
    expect(diffTrees(await describeTree(src), await describeTree(join(target, src)))).toEqual([]);
  }, 60_000);

  it('one index file deleted: its packs come back; entries of packs whose size matches are reused unless --read-all-packs', async () => {
    const repo = await copy();
    const files = await filesOf(repo, 'index');
    expect(files.length).toBeGreaterThan(1);
    await removeFile(join(repo, 'index', files[0]!));
    const c = cairnIn(repo);
    expect((await c(['check'])).code).toBe(1);
    const r = await c(['--json', 'repair', 'index']);
    expect(r.code, r.err).toBe(0);
    const summary = jsonLines(r.out).at(-1)!;
    const total = (await packFiles(repo)).length;
    expect(summary['packs']).toBe(total);
    expect(summary['packs_read']).toBe(summary['packs_added']);
    expect(summary['packs_read']).toBeGreaterThan(0);
    expect(summary['packs_read']).toBeLessThan(total);
    expect(summary['old_index_files']).toEqual(files.slice(1));
    const after = await c(['--json', 'check']);
    expect(after.code, after.err).toBe(0);
    expect(jsonLines(after.out).at(-1)).toMatchObject({ num_errors: 0, packs: total, unreferenced_packs: 0 });
    const all = await c(['--json', 'repair', 'index', '--read-all-packs']);
    expect(jsonLines(all.out).at(-1)).toMatchObject({ packs: total, packs_read: total, packs_added: 0 });
    // the old name still works
    const alias = await c(['rebuild-index']);
    expect(alias.code, alias.err).toBe(0);
    expect(alias.out).toMatch(/wrote 1 index file for \d+ packs \(\d+ blobs; 0 pack headers read\), deleted 1 old/);
    expect((await resticCheck(repo, ['--read-data'])).code).toBe(0);
  }, 60_000);

  it('a truncated pack: repair index reports it and leaves the file alone (in no index); a pack that vanished is dropped from the index', async () => {
    const repo = await copy();
    const packs = await packFiles(repo);
    const truncated = packs.find((p) => p.id === dataPacks[0])!;
    const gone = packs.find((p) => p.id === dataPacks[1])!;
    await truncateFile(truncated.path, truncated.size - 50);
    await removeFile(gone.path);
    const r = await cairnIn(repo)(['repair', 'index']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`warning: pack ${truncated.id}: its header cannot be read, so it is left as it is, in no index`);
    expect(r.err).toContain(`warning: removing pack ${gone.id} from the index: it does not exist`);
    expect(r.out).toContain(`re-indexing pack ${truncated.id}: its size is ${truncated.size - 50}, the index implied ${truncated.size}`);
    expect((await stat(truncated.path)).size).toBe(truncated.size - 50);
    const check = await cairnIn(repo)(['--json', '-v', 'check']);
    expect(check.code).toBe(1); // the files in both packs are lost
    const errors = jsonLines(check.err).filter((l) => l['kind'] !== undefined);
    expect(new Set(errors.map((e) => e['kind']))).toEqual(new Set(['blob-missing']));
    expect(jsonLines(check.out).at(-1)).toMatchObject({ unreferenced_packs: 1, suggest_prune: true });
  }, 60_000);

  it('a deleted data pack: check fails; repair snapshots wants repair index first; then repair snapshots --forget; cairn and restic check pass; every undamaged file restores byte-identically', async () => {
    const repo = await copy();
    const lost = dataPacks.find((p) => (byPack.get(p)?.size ?? 0) > 1)!;
    await removeFile((await packFiles(repo)).find((p) => p.id === lost)!.path);
    const c = cairnIn(repo);
    expect((await c(['check'])).code).toBe(1);
    const originals = await filesOf(repo, 'snapshots');
    // the index still names the lost pack: repair snapshots refuses, and says what to run first
    const early = await c(['--json', 'repair', 'snapshots']);
    expect(early.code).toBe(1);
    expect(JSON.parse(early.err.trim())).toMatchObject({ code: 'ERR_NOT_FOUND', message: expect.stringContaining('run `cairn repair index` first'), data: { packs: [lost] } });
    expect(await filesOf(repo, 'snapshots')).toEqual(originals);
    expect((await c(['repair', 'index'])).code).toBe(0);
    expect((await c(['check'])).code).toBe(1);

    const dry = await c(['repair', 'snapshots', '--dry-run', '--forget']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(/would modify 2 snapshots/);
    expect(await filesOf(repo, 'snapshots')).toEqual(originals);

    const r = await c(['--json', 'repair', 'snapshots', '--forget']);
    expect(r.code, r.err).toBe(0);
    const lines = jsonLines(r.out);
    const repairedFiles = new Set(lines.filter((l) => l['message_type'] === 'file_repaired').map((l) => l['path'] as string));
    expect(repairedFiles).toEqual(byPack.get(lost));
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ message_type: 'summary', modified: 2 });
    // Listed oldest snapshot first; `originals` is in file-name order.
    expect([...(summary['forgotten'] as string[])].sort()).toEqual([...originals].sort());
    const now = await filesOf(repo, 'snapshots');
    expect(now.filter((s) => originals.includes(s))).toEqual([]);
    expect(now).toHaveLength(2);

    const check = await c(['check', '--read-data']);
    expect(check.code, check.err).toBe(0);
    expect((await resticCheck(repo, ['--read-data'])).code).toBe(0);

    const snaps = JSON.parse((await c(['--json', 'snapshots'])).out) as Array<{ id: string; original?: string; tags?: string[] }>;
    expect(snaps.map((s) => s.original).sort()).toEqual(originals);
    expect(snaps.every((s) => !(s.tags ?? []).includes('repaired'))).toBe(true); // --forget adds no tag, as restic

    const target = join(root, `restore-${n++}`);
    const latest = snaps.find((s) => (s.tags ?? []).includes('second'))!;
    expect((await c(['restore', latest.id, '--target', target])).code).toBe(0);
    const diff = diffTrees(await describeTree(src), await describeTree(join(target, src)), { times: false });
    expect(diff.length).toBeGreaterThan(0);
    for (const line of diff) {
      const m = /^content differs: (.*)$/.exec(line);
      expect(m, line).not.toBeNull();
      expect(byPack.get(lost)!.has(join(src, m![1]!))).toBe(true);
      expect((await readFile(join(target, src, m![1]!))).length).toBe(0); // its only blob was lost
    }
    // restic restores the repaired snapshot too
    const resticTarget = join(root, `restic-restore-${n++}`);
    await runRestic(['--repo', repo, '--no-cache', 'restore', latest.id, '--target', resticTarget], PASSWORD);
    expect(diffTrees(await describeTree(join(target, src)), await describeTree(join(resticTarget, src)), { times: false })).toEqual([]);
  }, 60_000);

  it('without --forget: repaired copies are tagged "repaired" and name their original, which stays', async () => {
    const repo = await copy();
    const lost = dataPacks.find((p) => (byPack.get(p)?.size ?? 0) > 1)!;
    await removeFile((await packFiles(repo)).find((p) => p.id === lost)!.path);
    const c = cairnIn(repo);
    expect((await c(['repair', 'index'])).code).toBe(0);
    const originals = await filesOf(repo, 'snapshots');
    const r = await c(['repair', 'snapshots', originals[0]!.slice(0, 8)]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/modified 1 snapshot\n$/);
    expect(r.out).toMatch(/ {2}file ".*": removed 1 missing blob \(new size 0\)/);
    const snaps = JSON.parse((await c(['--json', 'snapshots'])).out) as Array<{ id: string; original?: string; tags?: string[] }>;
    expect(snaps).toHaveLength(3);
    const repaired = snaps.find((s) => s.original !== undefined)!;
    expect(repaired.original).toBe(originals[0]);
    expect(repaired.tags).toContain('repaired');
  }, 60_000);

  it('nothing missing: repair snapshots leaves every snapshot alone, and --dry-run writes nothing', async () => {
    const repo = await copy();
    const before = await listing(repo);
    const dry = await cairnIn(repo)(['repair', 'snapshots', '--dry-run']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(/no snapshots would be modified/);
    expect(await listing(repo)).toEqual(before);
    const real = await cairnIn(repo)(['repair', 'snapshots', '--forget']);
    expect(real.code, real.err).toBe(0);
    expect(real.out).toMatch(/no snapshots were modified/);
    expect(await listing(repo)).toEqual(before);
  }, 30_000);
});
