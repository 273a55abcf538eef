/**
 * `cairn find` on real snapshots (test/cli/inspect-fixture.ts): which snapshots hold a name, hits
 * and misses, name globs and path patterns, -i, -s, --host/--tag, -l, and --json checked against
 * restic 0.14's `find --json` for a pattern both tools read alike (restic's `find DIR` also lists
 * everything below DIR; cairn lists what matches).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runRestic } from '../helpers/restic.js';
import { fixtureDir, makeFixture, PASSWORD, type Fixture } from './inspect-fixture.js';

interface FindJson {
  matches: { path: string; type: string; size?: number; [k: string]: unknown }[];
  hits: number;
  snapshot: string;
}

describe('cairn find', () => {
  const root = fixtureDir('cairn-find-');
  let f: Fixture;

  beforeAll(async () => {
    f = await makeFixture(root);
  });

  async function findJson(...args: string[]): Promise<FindJson[]> {
    const r = await f.run(['find', '--json', ...args]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.endsWith('\n') && r.out.trim().split('\n')).toHaveLength(1); // one line, as restic
    return JSON.parse(r.out) as FindJson[];
  }

  /** snapshot ID → the paths it matched. */
  async function hits(...args: string[]): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const s of await findJson(...args)) out[s.snapshot] = s.matches.map((m) => m.path);
    return out;
  }

  it('names the snapshots that hold a file, with a header per snapshot (text)', async () => {
    const r = await f.run(['find', 'gone.txt', 'later.txt']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(
      `Found matching entries in snapshot ${f.a.slice(0, 8)} from ${r.out.match(/from (\S+ \S+)/)![1]}\n` +
        '/src/gone.txt\n' +
        '\n' +
        `Found matching entries in snapshot ${f.c.slice(0, 8)} from ${r.out.match(/from (\S+ \S+)\n\/src\/newdir/)![1]}\n` +
        '/src/newdir/later.txt\n',
    );
  });

  it('hits: a glob on names, in every snapshot holding a match, in path order', async () => {
    expect(await hits('*.txt')).toEqual({
      [f.a]: ['/src/gone.txt', '/src/hard.txt', '/src/hard2.txt', '/src/keep.txt', '/src/mod.txt', '/src/olddir/x.txt', '/src/olddir/y.txt', '/src/same/deep/z.txt', '/src/touched.txt'],
      [f.b]: ['/src/becomes/inner.txt', '/src/hard.txt', '/src/hard2.txt', '/src/keep.txt', '/src/mod.txt', '/src/new.txt', '/src/newdir/n.txt', '/src/same/deep/z.txt', '/src/touched.txt'],
      [f.c]: ['/src/becomes/inner.txt', '/src/hard.txt', '/src/hard2.txt', '/src/keep.txt', '/src/mod.txt', '/src/newdir/later.txt', '/src/newdir/n.txt', '/src/same/deep/z.txt', '/src/touched.txt'],
    });
    expect(await hits('new.txt')).toEqual({ [f.b]: ['/src/new.txt'] });
  });

  it('misses: nothing printed (text), [] (--json), exit 0', async () => {
    const r = await f.run(['find', 'no-such-*']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('');
    expect(await findJson('no-such-*')).toEqual([]);
  });

  it('a directory matches itself, not what it holds; a pattern with "/" matches paths', async () => {
    expect(await hits('olddir')).toEqual({ [f.a]: ['/src/olddir'] });
    expect(await hits('/src/olddir/*')).toEqual({ [f.a]: ['/src/olddir/x.txt', '/src/olddir/y.txt'] });
    expect(await hits('same/**/z.txt')).toEqual({ [f.a]: ['/src/same/deep/z.txt'], [f.b]: ['/src/same/deep/z.txt'], [f.c]: ['/src/same/deep/z.txt'] });
    expect(await hits('/olddir/*')).toEqual({});
    expect(await hits('src/becomes')).toEqual({ [f.a]: ['/src/becomes'], [f.b]: ['/src/becomes'], [f.c]: ['/src/becomes'] });
  });

  it('-i ignores case; -s limits to the snapshots named; --host and --tag filter', async () => {
    expect(await hits('KEEP.*')).toEqual({});
    expect(Object.keys(await hits('-i', 'KEEP.*'))).toEqual([f.a, f.b, f.c]);
    expect(Object.keys(await hits('-s', f.b.slice(0, 10), '-s', 'latest', 'keep.txt'))).toEqual([f.b, f.c]);
    expect(Object.keys(await hits('--host', 'other', 'keep.txt'))).toEqual([f.c]);
    expect(Object.keys(await hits('--tag', 'late', 'keep.txt'))).toEqual([f.c]);
  });

  it('-l: mode, uid, gid, size, mtime and path; a symlink shows its target', async () => {
    const r = await f.run(['find', '-l', '-s', f.a, 'mod.txt', 'link']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n').slice(1);
    expect(lines[0]).toMatch(/^Lrwxrwxrwx +\d+ +\d+ +0 2001-09-\d\d \d\d:\d\d:\d\d \/src\/link -> keep\.txt$/);
    expect(lines[1]).toMatch(/^-rw-r--r-- +\d+ +\d+ +6 2001-09-\d\d \d\d:\d\d:\d\d \/src\/mod\.txt$/);
  });

  it('--json: the same array as restic 0.14\'s find --json', async () => {
    const ours = await findJson('*.txt', 'link');
    const theirs = JSON.parse((await runRestic(['-r', f.repo, '--no-cache', 'find', '--json', '*.txt', 'link'], PASSWORD)).text()) as FindJson[];
    const bySnapshot = (l: FindJson[]) => [...l].sort((x, y) => (x.snapshot < y.snapshot ? -1 : 1));
    expect(bySnapshot(ours)).toEqual(bySnapshot(theirs));
    expect(ours.map((s) => s.snapshot)).toEqual([f.a, f.b, f.c]); // oldest first
    expect(ours[0]!.hits).toBe(ours[0]!.matches.length);
  });

  it('a malformed pattern: ERR_INVALID_ARGUMENT before anything is read, nothing on stdout', async () => {
    const r = await f.run(['find', '--json', 'ok', '[x']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(JSON.parse(r.err)).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
