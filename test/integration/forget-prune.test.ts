/**
 * Issue 5's acceptance, end to end through the CLI: four snapshots of a directory that keeps one
 * shared file and changes another each time; `forget --keep-last 2 --prune` removes the two
 * oldest. Then `restic check --read-data` and `cairn check --read-data` pass, both remaining
 * snapshots restore byte for byte, and the repository shrank by the size of what only the removed
 * snapshots used (their two unique files) — no less, and not much more. A dry run before changes
 * nothing and predicts the same.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from '../cli/helpers.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { runRestic } from '../helpers/restic.js';
import { jsonLines } from '../helpers/json.js';

const PASSWORD = 'pw';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
const UNIQUE = 3_000_000; // incompressible: stored at about this size
const SHARED = 2_000_000;

let root: string;
let repo: string;
let src: string;
/** Snapshot ID → the unique file it holds. */
const versions: Array<{ id: string; unique: Uint8Array }> = [];
const shared = pseudoRandomBytes(SHARED, 500);

async function repoSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-forget-prune-'));
  repo = join(root, 'repo');
  src = join(root, 'src');
  await mkdir(src);
  expect((await cairn(['-r', repo, 'repo', 'init'], { env: ENV })).code).toBe(0);
  await writeFile(join(src, 'shared.bin'), shared);
  for (let i = 0; i < 4; i++) {
    const unique = pseudoRandomBytes(UNIQUE, 600 + i);
    await writeFile(join(src, 'unique.bin'), unique);
    const r = await cairn(['-r', repo, '--json', 'snapshot', src], { env: ENV });
    expect(r.code, r.err).toBe(0);
    versions.push({ id: (JSON.parse(r.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id, unique });
  }
}, 60_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('forget --keep-last 2 --prune', () => {
  let before: number;
  let predicted: Record<string, number>;

  it('--dry-run: changes nothing, names the two oldest, and says what prune would free', async () => {
    before = await repoSize(repo);
    const files = await listing(repo);
    const r = await cairn(['-r', repo, '--json', 'forget', '--keep-last', '2', '--prune', '--dry-run'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    const [groups, summary] = jsonLines(r.out) as [Array<{ keep: Array<{ id: string }>; remove: Array<{ id: string }> }>, Record<string, number>];
    expect(groups).toHaveLength(1);
    expect(groups[0]!.remove.map((s) => s.id).sort()).toEqual([versions[0]!.id, versions[1]!.id].sort());
    expect(groups[0]!.keep.map((s) => s.id).sort()).toEqual([versions[2]!.id, versions[3]!.id].sort());
    expect(summary['dry_run']).toBe(true);
    expect(summary['snapshots']).toBe(2); // planned as if the two were gone
    predicted = summary;
    expect(await listing(repo)).toEqual(files);
    expect(await repoSize(repo)).toBe(before);
  });

  it('removes them and exactly the data only they used; restic check --read-data passes', async () => {
    const r = await cairn(['-r', repo, '--json', 'forget', '--keep-last', '2', '--prune'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    const [, summary] = jsonLines(r.out) as [unknown, Record<string, number>];
    // The dry run's plan was the plan.
    for (const k of ['prune_size', 'repack_size', 'delete_size', 'remaining_size', 'packs_delete', 'packs_repack']) expect(summary[k], k).toBe(predicted[k]);
    const after = await repoSize(repo);
    const freed = before - after;
    // The two unique files (plus their trees and pack overhead), nothing the kept snapshots need.
    expect(freed).toBeGreaterThanOrEqual(2 * UNIQUE);
    expect(freed).toBeLessThan(2 * UNIQUE + 64 * 1024);

    const snaps = await runRestic(['--repo', repo, '--no-cache', 'snapshots', '--json'], PASSWORD);
    expect((JSON.parse(snaps.text()) as Array<{ id: string }>).map((s) => s.id).sort()).toEqual([versions[2]!.id, versions[3]!.id].sort());
    const check = await runRestic(['--repo', repo, '--no-cache', 'check', '--read-data'], PASSWORD, { allowFailure: true });
    expect(check.code, check.stderr + check.text()).toBe(0);
    const own = await cairn(['-r', repo, 'check', '--read-data'], { env: ENV });
    expect(own.code, own.err + own.out).toBe(0);
  });

  it('every remaining snapshot restores byte for byte', async () => {
    for (const v of versions.slice(2)) {
      const target = join(root, `restore-${v.id.slice(0, 8)}`);
      const r = await cairn(['-r', repo, 'restore', v.id, '--target', target], { env: ENV });
      expect(r.code, r.err).toBe(0);
      expect(Buffer.compare(await readFile(join(target, src, 'unique.bin')), v.unique)).toBe(0);
      expect(Buffer.compare(await readFile(join(target, src, 'shared.bin')), shared)).toBe(0);
    }
  });

  it('a second forget --prune finds nothing to do', async () => {
    const r = await cairn(['-r', repo, 'forget', '--keep-last', '2', '--prune'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('running prune');
    const dry = await cairn(['-r', repo, '--json', 'prune', '--dry-run'], { env: ENV });
    expect((JSON.parse(dry.out.trim()) as Record<string, number>)['prune_size']).toBe(0);
  });
});
