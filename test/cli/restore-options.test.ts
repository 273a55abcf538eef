/**
 * `cairn restore` options, seen from outside: which files exist afterwards, their contents, mtimes
 * and inodes, the command's JSON (actions with -v or --dry-run, the summary, errors on stderr) and
 * its exit code.
 *
 *   --overwrite always|if-changed|if-newer|never, each also with a directory, a file or a symlink
 *   in the way of something else; --delete (with and without a selection); --dry-run (the disk is
 *   left exactly as it was, and the actions it lists are those a real run then takes); --verify;
 *   re-running after an interrupted restore (really interrupted, and simulated by damage); the
 *   --include/--exclude/--iinclude/--iexclude wiring and SNAPSHOT:PATH, with restic 0.14 as the
 *   oracle for two pattern sets (pattern semantics themselves: test/filter/restic-oracle.test.ts).
 *
 * The source tree's times are whole seconds, so that a test can put an mtime back exactly.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, lutimes, mkdir, mkdtemp, open, readFile, readdir, readlink, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCairnError, openRepository, restoreSnapshot, type RestoreAction } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { cheapenResticKey } from '../helpers/cheap-key.js';
import { ResticRepo } from '../helpers/restic.js';
import { compareTrees, statTree, type StatEntry, type TreeStat } from '../helpers/treecmp.js';
import { cairn } from './helpers.js';

const PASSWORD = 'pw';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
const T0 = 1_600_000_000;

/** The source: relative path → content (a string ending in `/` is a directory, `->x` a symlink). */
const FILES: ReadonlyArray<readonly [string, string | Uint8Array, number?]> = [
  ['same.txt', 'identical everywhere\n'],
  ['diff.txt', 'the snapshot version of diff.txt\n'],
  ['big.bin', pseudoRandomBytes(3 << 20, 7)], // several blobs (FastCDC: 512 KiB .. 8 MiB, 1 MiB average)
  ['ro.txt', 'read-only in the snapshot\n', 0o444],
  ['sub/x.bin', pseudoRandomBytes(1000, 8)],
  ['sub/z.txt', 'zzz\n'],
  ['sub/deep/y.txt', 'y\n'],
];
const FILE_COUNT = FILES.length;

interface Action {
  readonly action: RestoreAction['action'];
  readonly path: string;
  readonly type: string;
}
interface Summary {
  readonly files_restored: number;
  readonly dirs_restored: number;
  readonly others_restored: number;
  readonly files_unchanged: number;
  readonly deleted: number;
  readonly verified: number;
  readonly skipped: number;
  readonly errors: number;
  readonly dry_run: boolean;
}
interface ErrorLine {
  readonly item: string;
  readonly error: { readonly code: string; readonly message: string };
}
interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** Actions with paths relative to the target. */
  readonly actions: Action[];
  readonly summary: Summary;
  readonly errors: ErrorLine[];
}

let root: string;
let src: string;
let repo: string;
let snap: string;
/** `snap:src`: the source's contents straight into the target. */
let spec: string;
let targets = 0;

async function newTarget(): Promise<string> {
  return join(root, `t${++targets}`);
}

/** `cairn --json restore ARGS`, parsed; action paths relative to `target`. */
async function restoreCli(target: string, args: readonly string[]): Promise<Run> {
  const r = await cairn(['-r', repo, '--json', 'restore', ...args, '--target', target], { env: ENV });
  const lines = r.out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { message_type: string });
  const actions = lines.filter((l) => l.message_type === 'action').map((l) => {
    const a = l as unknown as Action;
    return { action: a.action, type: a.type, path: relative(target, a.path) };
  });
  const summary = lines.find((l) => l.message_type === 'summary') as unknown as Summary;
  const errors = r.err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ErrorLine & { message_type: string; during?: string }).filter((l) => l.message_type === 'error' && l.during === 'restore');
  return { code: r.code, out: r.out, err: r.err, actions, summary, errors };
}

/** A fresh, complete restore of the source into a new target. */
async function restored(): Promise<string> {
  const t = await newTarget();
  const r = await restoreCli(t, [spec]);
  expect(r.code, r.err).toBe(0);
  return t;
}

/** The actions reported for one relative path, in order. */
function actionsOf(r: Run, path: string): string[] {
  return r.actions.filter((a) => a.path === path).map((a) => a.action);
}

/** `action type path` lines, sorted (the order of concurrent file restores varies). */
function actionSet(r: Run): string[] {
  return r.actions.map((a) => `${a.action} ${a.type} ${a.path}`).sort();
}

async function ino(p: string): Promise<bigint> {
  return (await lstat(p, { bigint: true })).ino;
}

async function mtimeNs(p: string): Promise<bigint> {
  return (await lstat(p, { bigint: true })).mtimeNs;
}

/**
 * Every path below `dir`, relative, sorted, directories with a trailing `/` (and, with `dirMeta`,
 * their mode and mtime), symlinks not followed.
 */
async function listing(dir: string, dirMeta = false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        const st = dirMeta ? await lstat(join(d, e.name), { bigint: true }) : undefined;
        out.push(st ? `${r}/ ${(st.mode & 0o7777n).toString(8)} ${st.mtimeNs / 1000n}` : `${r}/`);
        await walk(join(d, e.name), r);
      } else {
        out.push(r);
      }
    }
  };
  await walk(dir, '');
  return out.sort();
}

async function sourceContent(rel: string): Promise<Buffer> {
  return readFile(join(src, rel));
}

/** Differences between the source and a restore (stat level: content, modes, owners, ns times, links). */
async function differences(target: string): Promise<string[]> {
  return compareTrees(src, target);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-restore-options-'));
  src = join(root, 'src');
  for (const [rel, content, mode] of FILES) {
    await mkdir(join(src, rel, '..'), { recursive: true });
    await writeFile(join(src, rel), content);
    if (mode !== undefined) await chmod(join(src, rel), mode);
  }
  await mkdir(join(src, 'emptydir'));
  await symlink('same.txt', join(src, 'link'));
  let i = 0;
  for (const [rel] of FILES) await utimes(join(src, rel), T0 + 50_000, T0 + ++i * 1000);
  for (const d of ['sub/deep', 'sub', 'emptydir']) await utimes(join(src, d), T0 + 50_000, T0 + ++i * 1000);
  repo = join(root, 'repo');
  expect((await cairn(['-r', repo, 'repo', 'init'], { env: ENV })).code).toBe(0);
  const s = await cairn(['-r', repo, '--json', 'snapshot', src], { env: ENV });
  expect(s.code, s.err).toBe(0);
  snap = (JSON.parse(s.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id;
  spec = `${snap}:${src}`;
}, 60_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('a plain restore', () => {
  it('recreates the source exactly and says so in its summary', async () => {
    const t = await newTarget();
    const r = await restoreCli(t, [spec]);
    expect(r.code, r.err).toBe(0);
    expect(r.summary).toMatchObject({ files_restored: FILE_COUNT, dirs_restored: 3, others_restored: 1, files_unchanged: 0, deleted: 0, errors: 0, dry_run: false });
    expect(r.actions).toEqual([]); // actions only with -v or --dry-run
    expect(await differences(t)).toEqual([]);
  });
});

describe('--overwrite', () => {
  it('always (the default): rewrites a file that differs in place, leaves an equal one alone', async () => {
    const t = await restored();
    const inodes = { same: await ino(join(t, 'same.txt')), diff: await ino(join(t, 'diff.txt')), big: await ino(join(t, 'big.bin')) };
    await writeFile(join(t, 'diff.txt'), 'a local edit, longer than the snapshot version of the file\n');
    // one byte in the middle of a multi-blob file
    const fh = await open(join(t, 'big.bin'), 'r+');
    await fh.write(Buffer.from([0xff ^ (await sourceContent('big.bin'))[1_500_000]!]), 0, 1, 1_500_000);
    await fh.close();
    const r = await restoreCli(t, [spec, '-v']);
    expect(r.code, r.err).toBe(0);
    expect(actionsOf(r, 'diff.txt')).toEqual(['update']);
    expect(actionsOf(r, 'big.bin')).toEqual(['update']);
    expect(actionsOf(r, 'same.txt')).toEqual(['unchanged']);
    expect(r.summary).toMatchObject({ files_restored: FILE_COUNT, files_unchanged: FILE_COUNT - 2, errors: 0 });
    // patched, not replaced: the same inodes
    expect(await ino(join(t, 'same.txt'))).toBe(inodes.same);
    expect(await ino(join(t, 'diff.txt'))).toBe(inodes.diff);
    expect(await ino(join(t, 'big.bin'))).toBe(inodes.big);
    expect(await differences(t)).toEqual([]);
  });

  it('if-changed: an equal size and mtime is trusted without reading (the trade-off: a same-size edit with the mtime put back stays)', async () => {
    const t = await restored();
    const diffMtime = await mtimeNs(join(t, 'diff.txt'));
    const edited = Buffer.alloc((await sourceContent('diff.txt')).length, '#');
    await writeFile(join(t, 'diff.txt'), edited);
    await utimes(join(t, 'diff.txt'), T0, Number(diffMtime / 1_000_000_000n));
    expect(await mtimeNs(join(t, 'diff.txt'))).toBe(diffMtime);
    // a different mtime, same content: read, found equal, only the mtime is put back
    await utimes(join(t, 'same.txt'), T0, T0 + 123_456);
    // different size (and mtime): rewritten
    await writeFile(join(t, 'sub/z.txt'), 'changed\n');
    const r = await restoreCli(t, [spec, '--overwrite', 'if-changed', '-v']);
    expect(r.code, r.err).toBe(0);
    expect(actionsOf(r, 'diff.txt')).toEqual(['unchanged']);
    expect(await readFile(join(t, 'diff.txt'))).toEqual(edited); // not rewritten, by design
    expect(actionsOf(r, 'same.txt')).toEqual(['unchanged']);
    expect(await mtimeNs(join(t, 'same.txt'))).toBe(await mtimeNs(join(src, 'same.txt')));
    expect(actionsOf(r, 'sub/z.txt')).toEqual(['update']);
    expect(await differences(t)).toEqual([`content: diff.txt: sha256 ${sha(await sourceContent('diff.txt'))} vs ${sha(edited)}`]);
  });

  it('if-newer: replaces a file only when the snapshot is newer than it', async () => {
    const t = await restored();
    await writeFile(join(t, 'diff.txt'), 'edited now, so newer than the snapshot\n');
    await writeFile(join(t, 'sub/z.txt'), 'edited, then made older than the snapshot\n');
    await utimes(join(t, 'sub/z.txt'), T0, T0 - 1);
    await rm(join(t, 'sub/deep/y.txt'));
    const r = await restoreCli(t, [spec, '--overwrite', 'if-newer', '-v']);
    expect(r.code, r.err).toBe(0);
    expect(actionsOf(r, 'diff.txt')).toEqual(['skip']);
    expect(await readFile(join(t, 'diff.txt'), 'utf8')).toBe('edited now, so newer than the snapshot\n');
    expect(actionsOf(r, 'sub/z.txt')).toEqual(['update']);
    expect(actionsOf(r, 'sub/deep/y.txt')).toEqual(['restore']);
    // same mtime as the snapshot: not newer, so kept as it is
    expect(actionsOf(r, 'same.txt')).toEqual(['skip']);
    const left = await differences(t);
    expect(left.length).toBeGreaterThan(0);
    for (const d of left) expect(d).toMatch(/^\w+: diff\.txt: /); // only the newer local edit differs
  });

  it('never: keeps every existing file, restores only what is missing', async () => {
    const t = await restored();
    await writeFile(join(t, 'diff.txt'), 'kept\n');
    await rm(join(t, 'sub/deep/y.txt'));
    await rm(join(t, 'link'));
    const r = await restoreCli(t, [spec, '--overwrite', 'never', '-v']);
    expect(r.code, r.err).toBe(0);
    expect(actionsOf(r, 'diff.txt')).toEqual(['skip']);
    expect(actionsOf(r, 'same.txt')).toEqual(['skip']);
    expect(actionsOf(r, 'sub/deep/y.txt')).toEqual(['restore']);
    expect(actionsOf(r, 'link')).toEqual(['restore']);
    expect(await readFile(join(t, 'diff.txt'), 'utf8')).toBe('kept\n');
    expect(await readFile(join(t, 'sub/deep/y.txt'), 'utf8')).toBe('y\n');
    expect(await readlink(join(t, 'link'))).toBe('same.txt');
  });

  it('rejects an unknown mode', async () => {
    const r = await restoreCli(await newTarget(), [spec, '--overwrite', 'sometimes']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--overwrite must be one of always, if-changed, if-newer, never');
  });

  describe('something else in the way', () => {
    /**
     * After a full restore: a directory where the file diff.txt goes, a symlink to a file outside
     * where same.txt goes, a file where the directory sub goes, a symlink to a directory outside
     * where emptydir goes, a directory where the symlink link goes. All of them newer than the
     * snapshot (made now). `outside` holds victim.txt and dir/keep.txt.
     */
    async function obstacles(): Promise<{ t: string; outside: string }> {
      const t = await restored();
      const outside = join(root, `outside-${targets}`);
      await mkdir(join(outside, 'dir'), { recursive: true });
      await writeFile(join(outside, 'victim.txt'), 'outside, must not change\n');
      await writeFile(join(outside, 'dir', 'keep.txt'), 'outside, must not change\n');
      await rm(join(t, 'diff.txt'));
      await mkdir(join(t, 'diff.txt'));
      await writeFile(join(t, 'diff.txt', 'inner'), 'in a directory in the way\n');
      await rm(join(t, 'same.txt'));
      await symlink(join(outside, 'victim.txt'), join(t, 'same.txt'));
      await rm(join(t, 'sub'), { recursive: true });
      await writeFile(join(t, 'sub'), 'a file where a directory goes\n');
      await rm(join(t, 'emptydir'), { recursive: true });
      await symlink(join(outside, 'dir'), join(t, 'emptydir'));
      await rm(join(t, 'link'));
      await mkdir(join(t, 'link'));
      return { t, outside };
    }

    async function kinds(t: string): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const n of ['diff.txt', 'same.txt', 'sub', 'emptydir', 'link']) {
        const st = await lstat(join(t, n));
        out[n] = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
      }
      return out;
    }

    const SNAPSHOT_KINDS = { 'diff.txt': 'file', 'same.txt': 'file', sub: 'dir', emptydir: 'dir', link: 'symlink' };
    const OBSTACLE_KINDS = { 'diff.txt': 'dir', 'same.txt': 'symlink', sub: 'file', emptydir: 'symlink', link: 'dir' };

    it.each(['always', 'if-changed'])('%s: everything in the way is replaced, nothing outside is touched', async (mode) => {
      const { t, outside } = await obstacles();
      const before = await statTree(outside);
      const r = await restoreCli(t, [spec, '--overwrite', mode, '-v']);
      expect(r.code, r.err).toBe(0);
      expect(await kinds(t)).toEqual(SNAPSHOT_KINDS);
      for (const p of ['diff.txt', 'same.txt', 'sub', 'emptydir', 'link']) expect(actionsOf(r, p)[0], p).toBe('delete');
      expect(await differences(t)).toEqual([]);
      expect(compareStatsExactly(before, await statTree(outside))).toEqual([]);
    });

    it('if-newer: newer things in the way are kept, directories included (refused, exit 1); older ones are replaced', async () => {
      const { t, outside } = await obstacles();
      const before = await statTree(outside);
      const r = await restoreCli(t, [spec, '--overwrite', 'if-newer', '-v']);
      expect(r.code).toBe(1);
      expect(await kinds(t)).toEqual(OBSTACLE_KINDS);
      expect(actionsOf(r, 'diff.txt')).toEqual(['skip']);
      expect(actionsOf(r, 'same.txt')).toEqual(['skip']);
      expect(actionsOf(r, 'link')).toEqual(['skip']);
      expect(r.errors.map((e) => relative(t, e.item)).sort()).toEqual(['emptydir', 'sub']);
      for (const e of r.errors) expect(e.error.message).toMatch(/not a directory is in the way/);
      expect(compareStatsExactly(before, await statTree(outside))).toEqual([]);

      // made older than the snapshot, the same things are replaced
      for (const n of ['diff.txt', 'same.txt', 'sub', 'emptydir', 'link']) await lutimesOld(join(t, n));
      const again = await restoreCli(t, [spec, '--overwrite', 'if-newer', '-v']);
      expect(again.code, again.err).toBe(0);
      expect(await kinds(t)).toEqual(SNAPSHOT_KINDS);
      expect(await differences(t)).toEqual([]);
      expect(compareStatsExactly(before, await statTree(outside))).toEqual([]);
    });

    it('never: everything in the way is kept; directories that cannot be made are reported (exit 1)', async () => {
      const { t, outside } = await obstacles();
      const before = await statTree(outside);
      const r = await restoreCli(t, [spec, '--overwrite', 'never', '-v']);
      expect(r.code).toBe(1);
      expect(await kinds(t)).toEqual(OBSTACLE_KINDS);
      expect(r.errors.map((e) => relative(t, e.item)).sort()).toEqual(['emptydir', 'sub']);
      for (const e of r.errors) expect(e.error.message).toContain('--overwrite never');
      expect(await readFile(join(t, 'sub'), 'utf8')).toBe('a file where a directory goes\n');
      expect(await readdir(join(t, 'diff.txt'))).toEqual(['inner']);
      expect(compareStatsExactly(before, await statTree(outside))).toEqual([]);
    });
  });
});

describe('--delete', () => {
  async function withExtras(): Promise<{ t: string; sibling: string }> {
    const t = await restored();
    await writeFile(join(t, 'extra.txt'), 'x');
    await mkdir(join(t, 'extra-dir/a'), { recursive: true });
    await writeFile(join(t, 'extra-dir/a/b.txt'), 'x');
    await writeFile(join(t, 'sub/extra.bin'), 'x');
    await writeFile(join(t, 'sub/deep/extra.txt'), 'x');
    await mkdir(join(t, 'emptydir/junk'));
    await symlink('/nonexistent', join(t, 'sub/extra-link'));
    const sibling = `${t}-sibling.txt`;
    await writeFile(sibling, 'next to the target, not in it\n');
    return { t, sibling };
  }

  it('removes what the snapshot lacks in every restored directory, nothing outside the target', async () => {
    const { t, sibling } = await withExtras();
    const r = await restoreCli(t, [spec, '--delete', '-v']);
    expect(r.code, r.err).toBe(0);
    expect(r.actions.filter((a) => a.action === 'delete').map((a) => a.path).sort()).toEqual(['emptydir/junk', 'extra-dir', 'extra.txt', 'sub/deep/extra.txt', 'sub/extra-link', 'sub/extra.bin']);
    expect(r.summary.deleted).toBe(6);
    expect(await differences(t)).toEqual([]);
    expect(await readFile(sibling, 'utf8')).toBe('next to the target, not in it\n');
  });

  it('with SNAPSHOT:PATH, deletes below the target only what PATH lacks', async () => {
    const t = await newTarget();
    await mkdir(join(t, 'deep'), { recursive: true });
    await writeFile(join(t, 'same.txt'), 'not in sub: deleted\n');
    await writeFile(join(t, 'deep/extra'), 'x');
    const sibling = `${t}-sibling.txt`;
    await writeFile(sibling, 'x');
    const r = await restoreCli(t, [`${spec}/sub`, '--delete']);
    expect(r.code, r.err).toBe(0);
    expect(r.summary.deleted).toBe(2);
    expect(await compareTrees(join(src, 'sub'), t)).toEqual([]);
    expect(await readFile(sibling, 'utf8')).toBe('x');
  });

  it('with --include, deletes only extra entries the patterns select; unselected snapshot entries stay', async () => {
    const t = await restored();
    for (const p of ['junk.txt', 'junk.bin', 'sub/junk.txt', 'sub/junk.bin']) await writeFile(join(t, p), 'x');
    await mkdir(join(t, 'newdir'));
    await writeFile(join(t, 'big.bin'), 'a local big.bin: in the snapshot, but not selected\n');
    const r = await restoreCli(t, [spec, '--delete', '--include', '*.txt', '-v']);
    expect(r.code, r.err).toBe(0);
    expect(r.actions.filter((a) => a.action === 'delete').map((a) => a.path).sort()).toEqual(['junk.txt', 'sub/junk.txt']);
    expect(await listing(t)).toEqual(['big.bin', 'diff.txt', 'emptydir/', 'junk.bin', 'link', 'newdir/', 'ro.txt', 'same.txt', 'sub/', 'sub/deep/', 'sub/deep/y.txt', 'sub/junk.bin', 'sub/x.bin', 'sub/z.txt']);
    expect(await readFile(join(t, 'big.bin'), 'utf8')).toBe('a local big.bin: in the snapshot, but not selected\n');
  });

  it('with --exclude, never deletes what the patterns exclude, nor anything in an excluded directory', async () => {
    const t = await restored();
    for (const p of ['junk.txt', 'junk.bin', 'sub/junk.txt']) await writeFile(join(t, p), 'x');
    const r = await restoreCli(t, [spec, '--delete', '--exclude', '*.bin', '--exclude', 'sub', '-v']);
    expect(r.code, r.err).toBe(0);
    expect(r.actions.filter((a) => a.action === 'delete').map((a) => a.path)).toEqual(['junk.txt']);
    expect(await listing(t)).toContain('junk.bin');
    expect(await listing(t)).toContain('sub/junk.txt');
  });
});

describe('--dry-run', () => {
  /** A target with one of each difference: edited, missing, extra, equal but touched, obstacles. */
  async function messy(): Promise<{ t: string; outside: string }> {
    const t = await restored();
    const outside = join(root, `outside-${targets}`);
    await mkdir(join(outside, 'dir'), { recursive: true });
    await writeFile(join(outside, 'dir', 'keep.txt'), 'outside\n');
    await writeFile(join(t, 'diff.txt'), 'edited\n');
    await rm(join(t, 'ro.txt'));
    await writeFile(join(t, 'extra.txt'), 'x');
    await utimes(join(t, 'big.bin'), T0, T0 + 1); // content equal, mtime not
    await rm(join(t, 'sub'), { recursive: true });
    await writeFile(join(t, 'sub'), 'a file where a directory goes\n');
    await rm(join(t, 'emptydir'), { recursive: true });
    await symlink(join(outside, 'dir'), join(t, 'emptydir'));
    return { t, outside };
  }

  const EXPECTED = [
    'delete file extra.txt',
    'delete other emptydir',
    'delete other sub',
    'restore dir emptydir',
    'restore dir sub',
    'restore dir sub/deep',
    'restore file ro.txt',
    'restore file sub/deep/y.txt',
    'restore file sub/x.bin',
    'restore file sub/z.txt',
    'unchanged file big.bin',
    'unchanged file same.txt',
    'unchanged symlink link',
    'update file diff.txt',
  ];

  it('changes nothing on disk and lists what a real run then does', async () => {
    const { t, outside } = await messy();
    const before = await statTree(t);
    const outsideBefore = await statTree(outside);
    const dry = await restoreCli(t, [spec, '--dry-run', '--delete']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.errors).toEqual([]);
    expect(compareStatsExactly(before, await statTree(t))).toEqual([]);
    expect(compareStatsExactly(outsideBefore, await statTree(outside))).toEqual([]);
    expect(actionSet(dry)).toEqual(EXPECTED);
    expect(dry.summary).toMatchObject({ dry_run: true, files_restored: FILE_COUNT, files_unchanged: 2, deleted: 1, errors: 0 });

    // the real run does just that
    const real = await restoreCli(t, [spec, '--delete', '-v']);
    expect(real.code, real.err).toBe(0);
    expect(actionSet(real)).toEqual(EXPECTED);
    expect(real.summary).toMatchObject({ dry_run: false, files_restored: FILE_COUNT, files_unchanged: 2, deleted: 1, errors: 0 });
    expect(await differences(t)).toEqual([]);
    expect(compareStatsExactly(outsideBefore, await statTree(outside))).toEqual([]);
  });

  it('into a target that does not exist: creates nothing, lists every entry as restored', async () => {
    const t = await newTarget();
    const r = await restoreCli(t, [spec, '--dry-run', '--delete']);
    expect(r.code, r.err).toBe(0);
    await expect(stat(t)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(r.actions.every((a) => a.action === 'restore')).toBe(true);
    expect(r.actions).toHaveLength(FILE_COUNT + 3 + 1);
  });

  it('in text: "would …" lines and a "would restore" summary', async () => {
    const { t } = await messy();
    const r = await cairn(['-r', repo, 'restore', spec, '--target', t, '--dry-run', '--delete'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toContain(`would update file ${join(t, 'diff.txt')}`);
    expect(lines).toContain(`would delete file ${join(t, 'extra.txt')}`);
    expect(lines).toContain(`would restore file ${join(t, 'ro.txt')}`);
    expect(lines).toContain(`would delete other ${join(t, 'emptydir')}`);
    expect(lines.at(-1)).toMatch(/^would restore snapshot [0-9a-f]{8} of \[.*\] at .* to .*: 7 files \(2 already right\), 3 directories, 1 other entries, .*, 1 deleted in /);
    expect(lines.some((l) => l.includes('keep.txt'))).toBe(false);
  });
});

describe('--verify', () => {
  it('reads back every restored file: verified = files restored, on a fresh restore and on a re-run', async () => {
    const t = await newTarget();
    const r = await restoreCli(t, [spec, '--verify']);
    expect(r.code, r.err).toBe(0);
    expect(r.summary).toMatchObject({ files_restored: FILE_COUNT, verified: FILE_COUNT, errors: 0 });
    const again = await restoreCli(t, [spec, '--verify']);
    expect(again.summary).toMatchObject({ files_restored: FILE_COUNT, files_unchanged: FILE_COUNT, verified: FILE_COUNT, errors: 0 });
    const text = await cairn(['-r', repo, 'restore', spec, '--target', t, '--verify'], { env: ENV });
    expect(text.out).toContain(`${FILE_COUNT} verified`);
    // a read-back keeps the atimes the restore set
    expect(await differences(t)).toEqual([]);
  });

  it('fails for a file if-changed trusted wrongly; the file is removed and reported (exit 1), a re-run restores it', async () => {
    const t = await restored();
    const m = await mtimeNs(join(t, 'diff.txt'));
    await writeFile(join(t, 'diff.txt'), Buffer.alloc((await sourceContent('diff.txt')).length, '#'));
    await utimes(join(t, 'diff.txt'), T0, Number(m / 1_000_000_000n));
    const r = await restoreCli(t, [spec, '--overwrite', 'if-changed', '--verify']);
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.item).toBe(join(t, 'diff.txt'));
    expect(r.errors[0]!.error.message).toMatch(/verification failed: bytes 0–\d+ differ from blob [0-9a-f]{64}/);
    expect(r.summary).toMatchObject({ verified: FILE_COUNT - 1, errors: 1 });
    await expect(lstat(join(t, 'diff.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await restoreCli(t, [spec, '--verify']);
    expect(again.code, again.err).toBe(0);
    expect(await differences(t)).toEqual([]);
  });
});

describe('re-running an interrupted restore', () => {
  it('after a real interruption, finishes the job and leaves alone what was done', async () => {
    const t = await newTarget();
    const ac = new AbortController();
    const r = await openRepository(repo, { password: PASSWORD });
    let done = 0;
    try {
      await expect(
        restoreSnapshot(r, snap, {
          target: t,
          path: src,
          concurrency: 1,
          signal: ac.signal,
          onAction: (a) => {
            if (a.type === 'file' && ++done === 3) ac.abort();
          },
        }),
      ).rejects.toSatisfy((e: unknown) => isCairnError(e, 'ERR_INTERRUPTED'));
    } finally {
      await r.close();
    }
    const partial = await listing(t);
    const filesThere = partial.filter((p) => FILES.some(([f]) => f === p));
    expect(filesThere.length).toBeGreaterThanOrEqual(3);
    expect(filesThere.length).toBeLessThan(FILE_COUNT);
    const inodes = new Map(await Promise.all(filesThere.map(async (p) => [p, await ino(join(t, p))] as const)));

    const again = await restoreCli(t, [spec, '-v']);
    expect(again.code, again.err).toBe(0);
    for (const p of filesThere) {
      expect(actionsOf(again, p), p).toEqual(['unchanged']);
      expect(await ino(join(t, p)), p).toBe(inodes.get(p));
    }
    expect(again.summary.files_unchanged).toBe(filesThere.length);
    expect(await differences(t)).toEqual([]);
  });

  it('after damage (truncated, deleted, corrupted in the middle, touched), rewrites only the damaged files', async () => {
    const t = await restored();
    const inodes = new Map(await Promise.all(FILES.map(async ([p]) => [p, await ino(join(t, p))] as const)));
    await truncate(join(t, 'diff.txt'), 10);
    await rm(join(t, 'sub/deep/y.txt'));
    const fh = await open(join(t, 'big.bin'), 'r+');
    await fh.write(Buffer.alloc(4096, 0x55), 0, 4096, 2_000_000);
    await fh.close();
    await utimes(join(t, 'same.txt'), T0, T0 + 7);
    const r = await restoreCli(t, [spec, '-v']);
    expect(r.code, r.err).toBe(0);
    const fileActions = r.actions.filter((a) => a.type === 'file').map((a) => `${a.action} ${a.path}`).sort();
    expect(fileActions).toEqual(['restore sub/deep/y.txt', 'unchanged ro.txt', 'unchanged same.txt', 'unchanged sub/x.bin', 'unchanged sub/z.txt', 'update big.bin', 'update diff.txt']);
    expect(r.summary).toMatchObject({ files_restored: FILE_COUNT, files_unchanged: 4 });
    for (const [p] of FILES) if (p !== 'sub/deep/y.txt') expect(await ino(join(t, p)), p).toBe(inodes.get(p));
    expect(await differences(t)).toEqual([]);
  });

  it('as a non-root owner, patches files the snapshot made read-only instead of failing on them', async () => {
    // Needs root to switch to an unprivileged effective user (CI runs as root).
    expect(process.getuid?.()).toBe(0);
    const NOBODY = 65534;
    const t = await newTarget();
    await mkdir(t);
    await chownTree(repo, NOBODY);
    await chown(t, NOBODY, NOBODY);
    await chmod(root, 0o755);
    await asUser(NOBODY, async () => {
      const r = await restoreCli(t, [spec]);
      expect(r.code, r.err).toBe(0);
    });
    expect((await lstat(join(t, 'ro.txt'))).mode & 0o777).toBe(0o444);
    const before = await ino(join(t, 'ro.txt'));
    const size = (await sourceContent('ro.txt')).length;
    await writeFile(join(t, 'ro.txt'), Buffer.alloc(size, '!')); // as root; mode stays 0444
    await utimes(join(t, 'same.txt'), T0, T0 + 9);
    await asUser(NOBODY, async () => {
      const r = await restoreCli(t, [spec, '-v']);
      expect(r.code, r.err).toBe(0);
      expect(actionsOf(r, 'ro.txt')).toEqual(['update']);
      expect(actionsOf(r, 'same.txt')).toEqual(['unchanged']);
    });
    expect(await readFile(join(t, 'ro.txt'))).toEqual(await sourceContent('ro.txt'));
    expect((await lstat(join(t, 'ro.txt'))).mode & 0o777).toBe(0o444);
    expect(await ino(join(t, 'ro.txt'))).toBe(before);
  });
});

describe('selection', () => {
  const cases: ReadonlyArray<readonly [string, readonly string[], readonly string[]]> = [
    ['--include *.txt', ['--include', '*.txt'], ['diff.txt', 'ro.txt', 'same.txt', 'sub/', 'sub/deep/', 'sub/deep/y.txt', 'sub/z.txt']],
    ['--iinclude *.TXT', ['--iinclude', '*.TXT'], ['diff.txt', 'ro.txt', 'same.txt', 'sub/', 'sub/deep/', 'sub/deep/y.txt', 'sub/z.txt']],
    ['--include /sub/deep (anchored at what is restored)', ['--include', '/sub/deep'], ['sub/', 'sub/deep/', 'sub/deep/y.txt']],
    ['--exclude sub --exclude *.bin', ['--exclude', 'sub', '--exclude', '*.bin'], ['diff.txt', 'emptydir/', 'link', 'ro.txt', 'same.txt']],
    ['--iexclude SUB --iexclude LINK', ['--iexclude', 'SUB', '--iexclude', 'LINK'], ['big.bin', 'diff.txt', 'emptydir/', 'ro.txt', 'same.txt']],
    ['--exclude deep --iexclude *.TXT', ['--exclude', 'deep', '--iexclude', '*.TXT'], ['big.bin', 'emptydir/', 'link', 'sub/', 'sub/x.bin']],
  ];

  it.each(cases)('%s', async (_name, flags, expected) => {
    const t = await newTarget();
    const r = await restoreCli(t, [spec, ...flags]);
    expect(r.code, r.err).toBe(0);
    expect(await listing(t)).toEqual(expected);
  });

  it('SNAPSHOT:PATH takes patterns relative to PATH', async () => {
    const t = await newTarget();
    const r = await restoreCli(t, [`${spec}/sub`, '--include', '/deep']);
    expect(r.code, r.err).toBe(0);
    expect(await listing(t)).toEqual(['deep/', 'deep/y.txt']);
  });

  it('SNAPSHOT:PATH of a file restores it as TARGET/name', async () => {
    const t = await newTarget();
    const r = await restoreCli(t, [`${spec}/sub/z.txt`]);
    expect(r.code, r.err).toBe(0);
    expect(await listing(t)).toEqual(['z.txt']);
    expect(await readFile(join(t, 'z.txt'), 'utf8')).toBe('zzz\n');
  });

  it('SNAPSHOT:PATH that does not exist fails naming it', async () => {
    const r = await restoreCli(await newTarget(), [`${spec}/nope`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('ERR_PATH_NOT_FOUND');
    expect(r.err).toContain(`${src}/nope is not in the snapshot`);
  });

  it('refuses --include together with --exclude (as restic)', async () => {
    const r = await restoreCli(await newTarget(), [spec, '--include', '*.txt', '--iexclude', '*.bin']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('ERR_USAGE');
  });

  it('restores what restic 0.14 restores for the same patterns (oracle)', async () => {
    const restic = await ResticRepo.create({ password: PASSWORD });
    try {
      await cheapenResticKey(restic.dir, PASSWORD);
      const s = await cairn(['-r', restic.dir, '--json', 'snapshot', src], { env: ENV });
      expect(s.code, s.err).toBe(0);
      const id = (JSON.parse(s.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id;
      // restic 0.14 has no SNAPSHOT:PATH: whole snapshots, patterns on absolute paths
      for (const flags of [['--include', '*.txt'], ['--exclude', 'deep', '--iexclude', '*.BIN'], ['--iinclude', `${src}/SUB/*`]]) {
        const tr = await newTarget();
        await restic.run(['restore', id, '--target', tr, ...flags]);
        const tc = await newTarget();
        const c = await cairn(['-r', restic.dir, 'restore', id, '--target', tc, ...flags], { env: ENV });
        expect(c.code, c.err).toBe(0);
        // below the source's path: what is restored, with directory modes and times (restic sets
        // them on every directory it restored something into); the directories above it are
        // restic's to create at the time of the restore
        const want = await listing(join(tr, src), true);
        expect(want.length, flags.join(' ')).toBeGreaterThan(2);
        expect(await listing(join(tc, src), true), flags.join(' ')).toEqual(want);
      }
    } finally {
      await restic.cleanup();
    }
  });
});

// ---------------------------------------------------------------------------------------------

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Every stat field of every entry, inode and ctime included: lines for each difference. Except:
 * the atimes of directories and symlinks (listing or reading them is a read: a dry run does it),
 * and the ctimes of symlinks (treestat.py puts back the atime its readlink moved, which sets them).
 */
function compareStatsExactly(a: TreeStat, b: TreeStat): string[] {
  const out: string[] = [];
  const fields = ['type', 'mode', 'uid', 'gid', 'nlink', 'mtimeNs', 'atimeNs', 'ctimeNs', 'ino', 'size', 'sha256'] as const;
  for (const [p, x] of a) {
    const y = b.get(p);
    if (y === undefined) {
      out.push(`gone: ${p}`);
      continue;
    }
    const skip = (f: string): boolean => (f === 'atimeNs' && (x.type === 'dir' || x.type === 'symlink')) || (f === 'ctimeNs' && x.type === 'symlink');
    for (const f of fields) if (!skip(f) && x[f as keyof StatEntry] !== y[f as keyof StatEntry]) out.push(`${f}: ${p}: ${String(x[f])} vs ${String(y[f])}`);
    if ((x.target === undefined) !== (y.target === undefined) || (x.target !== undefined && !x.target.equals(y.target!))) out.push(`target: ${p}`);
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`new: ${p}`);
  return out;
}

/** Sets an entry's own mtime (not a symlink's target's) before the snapshot's times. */
async function lutimesOld(p: string): Promise<void> {
  await lutimes(p, T0 - 10, T0 - 10);
}

async function chownTree(p: string, uid: number): Promise<void> {
  await chown(p, uid, uid);
  const st = await lstat(p);
  if (st.isDirectory()) for (const n of await readdir(p)) await chownTree(join(p, n), uid);
}

/** Runs `fn` with `uid` as the effective user (this test file's own process: vitest's forks pool). */
async function asUser(uid: number, fn: () => Promise<void>): Promise<void> {
  process.seteuid!(uid);
  try {
    await fn();
  } finally {
    process.seteuid!(0);
  }
}
