/**
 * Incremental snapshots as a user sees them: the parent is the latest snapshot of the same host
 * and paths (or `--parent ID`), a file whose type, size, mtime, ctime and inode are unchanged is
 * not read (its content list is reused), `--force` rereads everything, and `--ignore-ctime` /
 * `--ignore-inode` relax the comparison as in restic 0.14 (where `--ignore-inode` implies
 * `--ignore-ctime`). "Not read" is shown through what the user can observe: the summary counts,
 * the content the snapshot holds when a change was deliberately hidden from the comparison, and
 * (as root) a file that the backing-up user cannot read at all.
 *
 * Each test backs up its own directory into one shared repository, always from the directory's
 * parent with a relative path, so the snapshot tree is just that directory (no /tmp ancestors
 * whose metadata other processes change).
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { cairn, scratchRepository } from './helpers.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };
const BIN = fileURLToPath(new URL('../../dist/cli/cairn.js', import.meta.url));
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
/** A fixed mtime (whole seconds, so `utimes` can put it back exactly). */
const T0 = 1_600_000_000;

interface Summary {
  message_type: string;
  files_new: number;
  files_changed: number;
  files_unmodified: number;
  dirs_new: number;
  dirs_changed: number;
  dirs_unmodified: number;
  data_blobs: number;
  tree_blobs: number;
  data_added: number;
  total_files_processed: number;
  total_bytes_processed: number;
  snapshot_id: string;
}

interface SnapshotJson {
  id: string;
  short_id: string;
  parent?: string;
  paths: string[];
  hostname: string;
}

let root: string;
let repo: string;

/** `cairn -r repo ARGS --json`, from `cwd` (default root); fails the test on a non-zero exit. */
async function snap(args: string[], cwd = root): Promise<Summary> {
  const r = await cairn(['-r', repo, 'snapshot', '--json', ...args], { env: ENV, cwd });
  expect(r.code, r.err).toBe(0);
  const summary = JSON.parse(r.out.trim().split('\n').pop()!) as Summary;
  expect(summary.message_type).toBe('summary');
  return summary;
}

async function snapshotJson(id: string): Promise<SnapshotJson> {
  const r = await cairn(['-r', repo, 'cat', 'snapshot', id], { env: ENV });
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as SnapshotJson;
}

async function allSnapshots(): Promise<SnapshotJson[]> {
  const r = await cairn(['-r', repo, 'snapshots', '--json'], { env: ENV });
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as SnapshotJson[];
}

/** The content of `path` in snapshot `id`, as restored by `cairn restore ID:path`. */
async function restored(id: string, path: string): Promise<Buffer> {
  const target = await mkdtemp(join(root, 'restore-'));
  const r = await cairn(['-r', repo, 'restore', `${id}:${path}`, '--target', target], { env: ENV });
  expect(r.code, r.err).toBe(0);
  return readFile(join(target, path.split('/').pop()!));
}

/** A directory under root with files (one of several chunks) and a subdirectory; returns its file count and bytes. */
async function makeTree(name: string): Promise<{ files: number; bytes: number }> {
  const dir = join(root, name);
  await mkdir(join(dir, 'sub'), { recursive: true });
  const files: Array<[string, Uint8Array | string]> = [
    ['big.bin', pseudoRandomBytes(3_000_000, name.length)],
    ['a.txt', `alpha of ${name}\n`],
    ['b.txt', `bravo of ${name}\n`.repeat(50)],
    ['sub/c.txt', `charlie of ${name}\n`],
    ['sub/empty', ''],
  ];
  let bytes = 0;
  for (const [p, data] of files) {
    await writeFile(join(dir, p), data);
    await utimes(join(dir, p), T0, T0);
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }
  return { files: files.length, bytes };
}

beforeAll(async () => {
  ({ root, repo } = await scratchRepository('cairn-incremental-', ENV));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('snapshot of an unchanged tree', () => {
  it('reads no file, adds no data, and names the first snapshot as its parent', async () => {
    const { files, bytes } = await makeTree('same');
    const first = await snap(['same']);
    expect(first).toMatchObject({ files_new: files, files_changed: 0, files_unmodified: 0, total_bytes_processed: bytes });
    expect(first.data_added).toBeGreaterThan(0);

    const second = await snap(['same']);
    expect(second).toMatchObject({
      files_new: 0, files_changed: 0, files_unmodified: files,
      dirs_new: 0, dirs_changed: 0,
      data_blobs: 0, data_added: 0,
      total_files_processed: files, total_bytes_processed: bytes,
    });
    expect(second.snapshot_id).not.toBe(first.snapshot_id);
    expect((await snapshotJson(second.snapshot_id)).parent).toBe(first.snapshot_id);
    const listed = (await allSnapshots()).find((s) => s.id === second.snapshot_id);
    expect(listed?.parent).toBe(first.snapshot_id);
    expect((await snapshotJson(first.snapshot_id)).parent).toBeUndefined();
    // The reused content lists are the file's content.
    expect((await restored(second.snapshot_id, '/same/big.bin')).equals(await readFile(join(root, 'same', 'big.bin')))).toBe(true);
  });

  it('--force rereads every file, records no parent, and still adds no data', async () => {
    const { files, bytes } = await makeTree('forced');
    const first = await snap(['forced']);
    const forced = await snap(['forced', '--force']);
    expect(forced).toMatchObject({ files_unmodified: 0, files_new: files, data_blobs: 0, data_added: 0, total_bytes_processed: bytes });
    expect((await snapshotJson(forced.snapshot_id)).parent).toBeUndefined();
    // --force beats --parent, as in restic ("overrides the parent flag").
    const both = await snap(['forced', '--force', '--parent', first.snapshot_id]);
    expect(both.files_unmodified).toBe(0);
    expect((await snapshotJson(both.snapshot_id)).parent).toBeUndefined();
  });

  it.runIf(isRoot)('does not open an unchanged file: one the user cannot read is reused; --force fails on it (exit 3)', async () => {
    // Root reads anything, so the later snapshots run as nobody, who cannot read secret.txt.
    // Ownership and mode are set before the first snapshot (chmod/chown change ctime).
    const dir = join(root, 'locked');
    await mkdir(dir);
    await writeFile(join(dir, 'ok.txt'), 'readable');
    await writeFile(join(dir, 'secret.txt'), 'only root may read this');
    await chmod(join(dir, 'secret.txt'), 0o000);
    const lockedRepo = join(root, 'locked-repo');
    await chown(root, NOBODY, NOBODY);
    for (const p of [dir, join(dir, 'ok.txt')]) await chown(p, NOBODY, NOBODY);
    expect((await cairn(['-r', lockedRepo, 'repo', 'init'], { env: ENV })).code).toBe(0);
    const first = await cairn(['-r', lockedRepo, 'snapshot', '--json', 'locked'], { env: ENV, cwd: root });
    expect(first.code, first.err).toBe(0);
    // nobody must be able to write locks and snapshots into the repository.
    const chownAll = async (p: string): Promise<void> => {
      await chown(p, NOBODY, NOBODY);
      for (const e of await readdir(p, { withFileTypes: true })) {
        if (e.isDirectory()) await chownAll(join(p, e.name));
        else await chown(join(p, e.name), NOBODY, NOBODY);
      }
    };
    await chownAll(lockedRepo);
    const asNobody = (args: string[]): Promise<{ code: number; out: string; err: string }> =>
      new Promise((resolve) => {
        execFile(process.execPath, [BIN, '-r', lockedRepo, ...args], { cwd: root, uid: NOBODY, gid: NOBODY, env: { PATH: process.env['PATH'] ?? '', HOME: root, ...ENV } }, (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : Number(error.code), out: stdout, err: stderr });
        });
      });
    const second = await asNobody(['snapshot', '--json', 'locked']);
    expect(second.code, second.err).toBe(0);
    expect(JSON.parse(second.out.trim().split('\n').pop()!)).toMatchObject({ files_unmodified: 2, files_new: 0, files_changed: 0 });
    const forced = await asNobody(['snapshot', '--json', '--force', 'locked']);
    expect(forced.code, forced.err).toBe(3);
    expect(forced.err).toContain(join(root, 'locked', 'secret.txt'));
    expect(forced.err).toMatch(/EACCES|permission denied/i);
  });
});

describe('parent selection', () => {
  it('picks the latest snapshot of the same host and paths', async () => {
    await makeTree('p1');
    await makeTree('p2');
    const a = await snap(['p1', 'p2']);
    const b = await snap(['p2', 'p1']); // same path set, other order
    expect(b.files_unmodified).toBe(10);
    expect((await snapshotJson(b.snapshot_id)).parent).toBe(a.snapshot_id);
    const c = await snap(['p1', 'p2']);
    expect((await snapshotJson(c.snapshot_id)).parent).toBe(b.snapshot_id);
  });

  it('another --host, or another set of paths, gets no parent: every file is read as new', async () => {
    const { files } = await makeTree('hosts');
    await makeTree('hosts2');
    const mine = await snap(['hosts']);
    const other = await snap(['hosts', '--host', 'elsewhere']);
    expect(other).toMatchObject({ files_new: files, files_unmodified: 0 });
    expect((await snapshotJson(other.snapshot_id)).parent).toBeUndefined();
    expect((await snapshotJson(other.snapshot_id)).hostname).toBe('elsewhere');
    // That host's next snapshot has that host's snapshot as parent, not this host's.
    const again = await snap(['hosts', '--host', 'elsewhere']);
    expect(again.files_unmodified).toBe(files);
    expect((await snapshotJson(again.snapshot_id)).parent).toBe(other.snapshot_id);
    // A different path set (a superset) has no parent.
    const wider = await snap(['hosts', 'hosts2']);
    expect(wider).toMatchObject({ files_new: 2 * files, files_unmodified: 0 });
    expect((await snapshotJson(wider.snapshot_id)).parent).toBeUndefined();
    // And this host's snapshot of exactly these paths is found, not the newer superset (restic
    // 0.14 would take the superset, its HasPaths; cairn follows the issue: the same paths).
    const back = await snap(['hosts']);
    expect((await snapshotJson(back.snapshot_id)).parent).toBe(mine.snapshot_id);
  });

  it('--parent ID (or a unique prefix) is used even when the paths differ', async () => {
    const { files } = await makeTree('given');
    await makeTree('extra');
    const base = await snap(['given']);
    // Without --parent, given + extra has no parent; with it, given/ is compared with the
    // parent's given/ and not read.
    const full = await snap(['given', 'extra', '--parent', base.snapshot_id]);
    expect(full).toMatchObject({ files_unmodified: files, files_new: files, files_changed: 0 });
    expect((await snapshotJson(full.snapshot_id)).parent).toBe(base.snapshot_id);
    const byPrefix = await snap(['given', 'extra', '--parent', base.snapshot_id.slice(0, 8)]);
    expect(byPrefix).toMatchObject({ files_unmodified: files, files_new: files });
    expect((await snapshotJson(byPrefix.snapshot_id)).parent).toBe(base.snapshot_id);
    // --parent beats the automatic choice (the latest of the same paths is byPrefix).
    const chosen = await snap(['given', 'extra', '--parent', base.snapshot_id]);
    expect((await snapshotJson(chosen.snapshot_id)).parent).toBe(base.snapshot_id);
  });

  it('a --parent that names no snapshot fails with ERR_SNAPSHOT_NOT_FOUND (exit 1) and saves nothing', async () => {
    await makeTree('badparent');
    const before = (await allSnapshots()).length;
    const text = await cairn(['-r', repo, 'snapshot', 'badparent', '--parent', 'deadbeef'], { env: ENV, cwd: root });
    expect(text.code).toBe(1);
    expect(text.err).toMatch(/^cairn: .*deadbeef/);
    expect(text.out).not.toMatch(/saved/);
    const json = await cairn(['-r', repo, 'snapshot', 'badparent', '--parent', 'not-an-id', '--json'], { env: ENV, cwd: root });
    expect(json.code).toBe(1);
    const error = JSON.parse(json.err.trim()) as { code: string; message: string };
    expect(error.code).toBe('ERR_SNAPSHOT_NOT_FOUND');
    expect(error.message).toContain('not-an-id');
    expect((await allSnapshots()).length).toBe(before);
    // No lock was left behind.
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
  });
});

describe('change detection', () => {
  it('a changed file is reread and restored with its new content; the others are reused', async () => {
    const { files } = await makeTree('edit');
    await snap(['edit']);
    await writeFile(join(root, 'edit', 'a.txt'), 'a new, longer alpha\n');
    await writeFile(join(root, 'edit', 'sub', 'new.txt'), 'a new file\n');
    const s = await snap(['edit']);
    expect(s).toMatchObject({ files_changed: 1, files_new: 1, files_unmodified: files - 1, total_files_processed: files + 1 });
    expect(s.data_added).toBeGreaterThan(0);
    expect((await restored(s.snapshot_id, '/edit/a.txt')).toString()).toBe('a new, longer alpha\n');
    expect((await restored(s.snapshot_id, '/edit/sub/new.txt')).toString()).toBe('a new file\n');
  });

  it('same size and mtime put back: detected through ctime; with --ignore-ctime not reread (the old content stays)', async () => {
    const dir = join(root, 'ctime');
    await mkdir(dir);
    const f = join(dir, 'f.txt');
    await writeFile(f, 'old content 1234\n');
    await utimes(f, T0, T0);
    const base = await snap(['ctime']);
    await writeFile(f, 'NEW CONTENT 5678\n'); // same length
    await utimes(f, T0, T0); // mtime as before; ctime is now later
    const relaxed = await snap(['ctime', '--ignore-ctime', '--parent', base.snapshot_id]);
    expect(relaxed).toMatchObject({ files_unmodified: 1, files_changed: 0, data_blobs: 0 });
    expect((await restored(relaxed.snapshot_id, '/ctime/f.txt')).toString()).toBe('old content 1234\n');
    const strict = await snap(['ctime', '--parent', base.snapshot_id]);
    expect(strict).toMatchObject({ files_unmodified: 0, files_changed: 1 });
    expect((await restored(strict.snapshot_id, '/ctime/f.txt')).toString()).toBe('NEW CONTENT 5678\n');
  });

  it('a file replaced by another inode with the same size and mtime: reread unless --ignore-inode', async () => {
    const dir = join(root, 'inode');
    await mkdir(dir);
    const f = join(dir, 'f.txt');
    await writeFile(f, 'first version\n');
    await utimes(f, T0, T0);
    const base = await snap(['inode']);
    const copy = join(dir, '.f.txt.tmp');
    await writeFile(copy, 'other version\n'); // same length, new inode
    await utimes(copy, T0, T0);
    await rename(copy, f);
    // --ignore-ctime hides the ctime change, so only the inode tells the files apart.
    const byInode = await snap(['inode', '--ignore-ctime', '--parent', base.snapshot_id]);
    expect(byInode).toMatchObject({ files_changed: 1, files_unmodified: 0 });
    expect((await restored(byInode.snapshot_id, '/inode/f.txt')).toString()).toBe('other version\n');
    const ignored = await snap(['inode', '--ignore-ctime', '--ignore-inode', '--parent', base.snapshot_id]);
    expect(ignored).toMatchObject({ files_changed: 0, files_unmodified: 1 });
    expect((await restored(ignored.snapshot_id, '/inode/f.txt')).toString()).toBe('first version\n');
    // restic 0.14: --ignore-inode implies --ignore-ctime (FUSE file systems report neither reliably).
    const alone = await snap(['inode', '--ignore-inode', '--parent', base.snapshot_id]);
    expect(alone).toMatchObject({ files_changed: 0, files_unmodified: 1 });
    expect((await restored(alone.snapshot_id, '/inode/f.txt')).toString()).toBe('first version\n');
  });

  it("symlinks: an unchanged one keeps its target (not read again), a retargeted one (same length) gets the new target", async () => {
    const dir = join(root, 'links');
    await mkdir(dir, { recursive: true });
    await symlink('target-a', join(dir, 'same'));
    await symlink('target-b', join(dir, 'moved'));
    await snap(['links']);
    await rm(join(dir, 'moved'));
    await symlink('target-c', join(dir, 'moved')); // same length, new inode and ctime
    const s = await snap(['links']);
    const target = await mkdtemp(join(root, 'restore-'));
    const r = await cairn(['-r', repo, 'restore', s.snapshot_id, '--target', target], { env: ENV });
    expect(r.code, r.err).toBe(0);
    const restoredDir = join(target, 'links');
    expect(await readlink(join(restoredDir, 'same'))).toBe('target-a');
    expect(await readlink(join(restoredDir, 'moved'))).toBe('target-c');
  });

  it('a change of metadata only, deep down, gives new trees up to the top; an unchanged tree is kept whole', async () => {
    await makeTree('meta');
    await snap(['meta']);
    const again = await snap(['meta']);
    expect(again).toMatchObject({ dirs_changed: 0, dirs_unmodified: 2, tree_blobs: 0, files_unmodified: 5 });

    await chmod(join(root, 'meta', 'sub', 'c.txt'), 0o600);
    const chmodded = await snap(['meta']);
    expect(chmodded).toMatchObject({ dirs_changed: 2, dirs_unmodified: 0, files_unmodified: 4 }); // a new ctime: c.txt is read again
    expect(chmodded.tree_blobs).toBeGreaterThanOrEqual(2);
    const target = await mkdtemp(join(root, 'restore-'));
    const r = await cairn(['-r', repo, 'restore', `${chmodded.snapshot_id}:/meta`, '--target', target], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(statSync(join(target, 'sub', 'c.txt')).mode & 0o777).toBe(0o600);

    await rm(join(root, 'meta', 'sub', 'empty'));
    const removed = await snap(['meta']);
    expect(removed).toMatchObject({ dirs_changed: 2, files_unmodified: 4 });
    const after = await mkdtemp(join(root, 'restore-'));
    expect((await cairn(['-r', repo, 'restore', `${removed.snapshot_id}:/meta/sub`, '--target', after], { env: ENV })).code).toBe(0);
    expect((await readdir(after)).sort()).toEqual(['c.txt']);
  });

  it('a file whose type changed is read as new content', async () => {
    const dir = join(root, 'retype');
    await mkdir(join(dir, 'x'), { recursive: true });
    await writeFile(join(dir, 'x', 'inner'), 'inside');
    await snap(['retype']);
    await rm(join(dir, 'x'), { recursive: true });
    await writeFile(join(dir, 'x'), 'now a file');
    const s = await snap(['retype']);
    expect(s.files_unmodified).toBe(0);
    expect(s.files_new + s.files_changed).toBe(1);
    expect((await restored(s.snapshot_id, '/retype/x')).toString()).toBe('now a file');
  });
});
