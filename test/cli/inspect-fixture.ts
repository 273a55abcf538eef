/**
 * A repository with three snapshots of one changing directory, for the tests of diff, find,
 * stats, tag and repo info (test/cli/{diff,find,stats,tag,repo-info}.test.ts).
 *
 * Snapshot A of `src`: unchanged files, a file to modify, files and a directory to remove, a file
 * that becomes a directory, a file whose mtime alone changes, a symlink, an unchanged subtree,
 * a hard link pair, an empty directory. Snapshot B: those changes made, a file and a directory
 * added. Snapshot C (host "other", tag "late"): B plus content changes only — a new file, a
 * removed one, a modified one — no type change, so restic 0.14's diff is a faithful oracle.
 *
 * Times are pinned (mtime in the past, atime a day ahead) so that reading the tree for a snapshot
 * does not change atimes, and unchanged entries keep their tree IDs from one snapshot to the next.
 */
import { link, lutimes, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { cairn } from './helpers.js';

export const PASSWORD = 'inspect pw';
export const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };

export interface Fixture {
  readonly root: string;
  readonly repo: string;
  readonly src: string;
  /** Snapshot IDs, full. */
  readonly a: string;
  readonly b: string;
  readonly c: string;
  /** `cairn -r repo …` in-process, cwd = root. */
  run(args: string[]): ReturnType<typeof cairn>;
}

const DAY = 86_400;
const PAST = 1_000_000_000; // 2001-09-09

/** Pins a path's times: mtime `mtime` (seconds), atime a day from now. */
async function pin(path: string, mtime = PAST): Promise<void> {
  await utimes(path, Date.now() / 1000 + DAY, mtime);
}

async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, content);
  }
}

/** Pins every directory's times (after its contents changed) — deepest first. */
async function pinDirs(src: string, dirs: readonly string[]): Promise<void> {
  for (const d of [...dirs].sort((x, y) => y.length - x.length)) await pin(join(src, d));
  await pin(src);
}

const DIRS_A = ['olddir', 'same', 'same/deep', 'empty'];
/** Only the directories whose contents changed: re-pinning the others would change their ctime. */
const DIRS_B = ['becomes', 'newdir'];

async function snapshot(run: Fixture['run'], extra: string[] = []): Promise<string> {
  const r = await run(['snapshot', '--json', ...extra, 'src']);
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id;
}

/** Builds the repository and its three snapshots (see the file comment). Call at collection time or in beforeAll of the describe that made `root`. */
export async function makeFixture(root: string): Promise<Fixture> {
  const repo = join(root, 'repo');
  const src = join(root, 'src');
  const run: Fixture['run'] = (args) => cairn(['-r', repo, ...args], { env: ENV, cwd: root });
  expect((await run(['repo', 'init'])).code).toBe(0);

  // Snapshot A.
  await write(src, {
    'keep.txt': 'keep me',
    'mod.txt': 'before',
    'gone.txt': 'going away',
    'olddir/x.txt': 'x in olddir',
    'olddir/y.txt': 'y in olddir',
    'becomes': 'a file for now',
    'touched.txt': 'same content',
    'same/deep/z.txt': 'deep and unchanged',
    'hard.txt': 'hard linked',
  });
  await link(join(src, 'hard.txt'), join(src, 'hard2.txt'));
  await symlink('keep.txt', join(src, 'link'));
  await lutimes(join(src, 'link'), Date.now() / 1000 + DAY, PAST);
  await mkdir(join(src, 'empty'));
  for (const f of ['keep.txt', 'mod.txt', 'gone.txt', 'olddir/x.txt', 'olddir/y.txt', 'becomes', 'touched.txt', 'same/deep/z.txt', 'hard.txt']) await pin(join(src, f));
  await pinDirs(src, DIRS_A);
  const a = await snapshot(run);

  // Snapshot B.
  await writeFile(join(src, 'mod.txt'), 'after, and longer');
  await rm(join(src, 'gone.txt'));
  await rm(join(src, 'olddir'), { recursive: true });
  await rm(join(src, 'becomes'));
  await write(src, { 'becomes/inner.txt': 'inside what was a file', 'new.txt': 'brand new', 'newdir/n.txt': 'n' });
  for (const f of ['mod.txt', 'becomes/inner.txt', 'new.txt', 'newdir/n.txt']) await pin(join(src, f));
  await pin(join(src, 'touched.txt'), PAST + DAY); // mtime alone changes
  await pinDirs(src, DIRS_B);
  const b = await snapshot(run);

  // Snapshot C: content changes only.
  await writeFile(join(src, 'keep.txt'), 'kept, but changed');
  await rm(join(src, 'new.txt'));
  await write(src, { 'newdir/later.txt': 'later' });
  for (const f of ['keep.txt', 'newdir/later.txt']) await pin(join(src, f));
  await pinDirs(src, ['newdir']);
  const c = await snapshot(run, ['--host', 'other', '--tag', 'late']);

  return { root, repo, src, a, b, c, run };
}

/** A fresh fixture in a temporary directory removed after the test file. Call at collection time. */
export function fixtureDir(prefix: string): string {
  return tempDir(prefix);
}
