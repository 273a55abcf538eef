/**
 * The repository commands as a user runs them: init, snapshot (JSON summary), snapshots, ls,
 * restore (whole, SNAPSHOT:PATH, by prefix, latest), cat; and what a user must be able to rely on
 * when things go wrong: a wrong password exits 12 and writes nothing, a missing repository exits
 * 10, a damaged pack fails the restore of the affected file naming pack and blob, never writing
 * wrong bytes, while everything else is restored.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { describeTree, diffTrees, makeMixedTree } from '../helpers/trees.js';
import { cairn } from './helpers.js';

const ENV = { CAIRN_PASSWORD: 'correct horse', CAIRN_KDF: '1024:8:1' };

function lastJson(out: string): Record<string, unknown> {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** Every file of a directory tree with its size and mtime (to see that nothing was written). */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(`${p} ${(await stat(p)).size} ${(await stat(p)).mtimeMs}`);
    }
  };
  await walk(dir);
  return out.sort();
}

describe('repository commands', () => {
  let root: string;
  let repo: string;
  let src: string;
  let snapshotId: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-cli-'));
    repo = join(root, 'repo');
    src = join(root, 'src');
    await makeMixedTree(src, { dirs: 3, perDir: 10 });
    await writeFile(join(src, 'big.bin'), pseudoRandomBytes(5_000_000, 9));
    const init = await cairn(['-r', repo, 'repo', 'init', '--json'], { env: ENV });
    expect(init.code, init.err).toBe(0);
    expect(lastJson(init.out)).toMatchObject({ message_type: 'initialized', repository: repo });
    const snap = await cairn(['snapshot', src, '--tag', 'nightly,test', '--json'], { env: { ...ENV, CAIRN_REPOSITORY: repo } });
    expect(snap.code, snap.err).toBe(0);
    const summary = lastJson(snap.out);
    expect(summary).toMatchObject({ message_type: 'summary', files_new: 31, dirs_new: expect.any(Number), total_files_processed: 31 });
    snapshotId = summary['snapshot_id'] as string;
    expect(snapshotId).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses to init where a repository exists', async () => {
    const r = await cairn(['-r', repo, 'repo', 'init'], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already/);
  });

  it('snapshots --json prints restic\'s array; the text table names the snapshot', async () => {
    const r = await cairn(['-r', repo, 'snapshots', '--json'], { env: ENV });
    const list = JSON.parse(r.out) as Array<Record<string, unknown>>;
    expect(list).toEqual([expect.objectContaining({ id: snapshotId, short_id: snapshotId.slice(0, 8), paths: [src], tags: ['nightly', 'test'], tree: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    expect(Object.keys(list[0]!)).toEqual(expect.arrayContaining(['time', 'tree', 'paths', 'hostname', 'username', 'id', 'short_id']));
    const text = await cairn(['-r', repo, 'snapshots'], { env: ENV });
    expect(text.out).toContain(snapshotId.slice(0, 8));
    expect(text.out).toContain('1 snapshots');
  });

  it('ls lists the snapshot\'s paths, under the absolute path', async () => {
    const r = await cairn(['-r', repo, 'ls', 'latest'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${src}/big.bin`);
    expect(r.out).toContain(`${src}/dir-0/nested/file-0.txt`);
    const j = await cairn(['-r', repo, 'ls', snapshotId.slice(0, 8), join(src, 'dir-1'), '--json'], { env: ENV });
    const lines = j.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ struct_type: 'snapshot', id: snapshotId });
    expect(lines.slice(1).every((l) => l['struct_type'] === 'node' && String(l['path']).startsWith(`${src}/dir-1/`))).toBe(true);
    expect(lines.length).toBe(11);
  });

  it('restores the whole snapshot, one directory of it, by prefix and by latest', async () => {
    const whole = join(root, 'out-whole');
    const r = await cairn(['-r', repo, 'restore', snapshotId.slice(0, 6), '--target', whole], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(diffTrees(await describeTree(src), await describeTree(join(whole, src)))).toEqual([]);
    const part = join(root, 'out-part');
    const p = await cairn(['-r', repo, 'restore', `latest:${src}/dir-2`, '--target', part, '--json'], { env: ENV });
    expect(p.code, p.err).toBe(0);
    expect(lastJson(p.out)).toMatchObject({ message_type: 'summary', files_restored: 10, errors: 0 });
    expect(diffTrees(await describeTree(join(src, 'dir-2')), await describeTree(part))).toEqual([]);
  });

  it('cat prints config, snapshot, index, blob and pack', async () => {
    const config = JSON.parse((await cairn(['-r', repo, 'cat', 'config'], { env: ENV })).out) as Record<string, unknown>;
    expect(config).toMatchObject({ version: 2, id: expect.stringMatching(/^[0-9a-f]{64}$/), chunker_polynomial: expect.any(String) });
    const snap = JSON.parse((await cairn(['-r', repo, 'cat', 'snapshot', snapshotId.slice(0, 8)], { env: ENV })).out) as Record<string, unknown>;
    expect(snap['paths']).toEqual([src]);
    const indexIds = await readdir(join(repo, 'index'));
    const index = JSON.parse((await cairn(['-r', repo, 'cat', 'index', indexIds[0]!], { env: ENV })).out) as { packs: Array<{ id: string; blobs: Array<{ id: string; type: string }> }> };
    expect(index.packs.flatMap((p) => p.blobs).some((b) => b.id === snap['tree'])).toBe(true);
    const tree = await cairn(['-r', repo, 'cat', 'blob', snap['tree'] as string], { env: ENV });
    expect(createHash('sha256').update(tree.out).digest('hex')).toBe(snap['tree']);
    expect(JSON.parse(tree.out)).toMatchObject({ nodes: [expect.objectContaining({ type: 'dir' })] });
    const pack = index.packs[0]!.id;
    const packOut = await cairn(['-r', repo, 'cat', 'pack', pack.slice(0, 12)], { env: ENV });
    expect(packOut.code).toBe(0);
    const bad = await cairn(['-r', repo, 'cat', 'snapshot', 'ffffffff'], { env: ENV });
    expect(bad.code).toBe(1);
  });

  it('a wrong password exits 12 with a clear message and writes nothing', async () => {
    const before = await listing(repo);
    const r = await cairn(['-r', repo, 'snapshot', src], { env: { ...ENV, CAIRN_PASSWORD: 'wrong' } });
    expect(r.code).toBe(12);
    expect(r.err).toMatch(/no key in the repository .* opens with the password given/);
    expect(r.err).not.toContain('wrong');
    expect(await listing(repo)).toEqual(before);
  });

  it('no repository at the location exits 10', async () => {
    const r = await cairn(['-r', join(root, 'nothing-here'), 'snapshots'], { env: ENV });
    expect(r.code).toBe(10);
    expect(r.err).toMatch(/there is no repository at/);
  });

  it('a flipped byte in a pack fails that file\'s restore naming pack and blob; no wrong byte is written; the rest is restored', async () => {
    // A separate repository with two files in separate data packs: one big, one small.
    const repo2 = join(root, 'repo2');
    const src2 = join(root, 'src2');
    await makeMixedTree(src2, { dirs: 1, perDir: 4 });
    await writeFile(join(src2, 'victim.bin'), pseudoRandomBytes(3_000_000, 77));
    expect((await cairn(['-r', repo2, 'repo', 'init'], { env: ENV })).code).toBe(0);
    const snap = await cairn(['-r', repo2, 'snapshot', src2, '--json'], { env: ENV });
    expect(snap.code, snap.err).toBe(0);
    // Find the pack holding the victim's first blob and flip one byte inside that blob.
    const ls = await cairn(['-r', repo2, 'cat', 'index', (await readdir(join(repo2, 'index')))[0]!], { env: ENV });
    const index = JSON.parse(ls.out) as { packs: Array<{ id: string; blobs: Array<{ id: string; type: string; offset: number; length: number }> }> };
    const dataPacks = index.packs.filter((p) => p.blobs.every((b) => b.type === 'data'));
    expect(dataPacks.length).toBeGreaterThan(0);
    const pack = dataPacks[0]!;
    const blob = pack.blobs.reduce((a, b) => (b.length > a.length ? b : a));
    const packPath = join(repo2, 'data', pack.id.slice(0, 2), pack.id);
    const bytes = await readFile(packPath);
    bytes[blob.offset + Math.floor(blob.length / 2)]! ^= 0x01;
    await chmod(packPath, 0o600);
    await writeFile(packPath, bytes);

    const out = join(root, 'out-damaged');
    const r = await cairn(['-r', repo2, 'restore', 'latest', '--target', out], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.err).toContain(pack.id);
    expect(r.err).toContain(blob.id);
    // Whatever was restored is exactly right, and every file not touching the blob is there.
    const restored = await describeTree(join(out, src2));
    const source = await describeTree(src2);
    for (const [p, e] of restored) expect(e.sha, p).toBe(source.get(p)?.sha);
    // Only the file holding the damaged blob is missing: the 3 MB one (the small files' blobs are
    // far smaller than the largest blob of the pack, which was the one damaged).
    expect(blob.length).toBeGreaterThan(100_000);
    expect([...source.keys()].filter((p) => !restored.has(p))).toEqual(['victim.bin']);
  });
});
