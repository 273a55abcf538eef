/**
 * Real git as the oracle for GitIgnore (seeded fast-check): random small trees with .gitignore
 * files at the root and in some directories, rules drawn from a pool that exercises anchoring,
 * `**`, classes, negation, directory-only rules, escapes and trailing spaces. Every path is asked
 * of `git check-ignore --no-index` and of a walk with GitIgnore (a directory found ignored takes
 * its subtree, and its .gitignore is never read); the ignored sets must be equal.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitIgnore } from '../../src/filter/index.js';

const SEED = 20261124;

interface Dir {
  readonly files: readonly string[];
  readonly dirs: readonly (readonly [string, Dir])[];
  readonly gitignore: readonly string[] | undefined;
}

const FILE_NAMES = ['a', 'b', 'x.txt', 'y.log', 'keep.log', 'foo', 'bar', '.hidden', '#f', '!n', 'sp ', 'A.TXT', 'deep.c', '[x]', 'q?', 'c d'];
const DIR_NAMES = ['a', 'b', 'build', 'foo', 'sub', '.cache', 'x.txt', 'bar'];
const RULES = [
  '*.log', '!keep.log', 'build/', 'build', '/a', 'a/', 'a/**', '**/b', 'b/*.txt', 'x*', '[ab]', '\\#f', '\\!n', '#f', '', 'sp',
  'sp\\ ', 'sp ', '*', '!*/', '!a', 'foo/', '/foo/bar', 'a/**/y.log', '?', '**', '!**/b/**', '[!a]*', '*.TXT', 'sub/a', '!sub/',
  '.*', '!.hidden', 'deep.c', '**/foo/*', '/*/x.txt', 'x.txt/', '!x.txt', '*/', 'foo/**/', 'b/**', ' a', 'a ', '!/b', 'q\\?',
  '\\[x\\]', '[[]x]', 'c\\ d', 'c d', '[[:upper:]]*', 'bar/', '!bar', '/sub/*', '*/*.log', '**/*.c', 'foo/*/', '.cache/',
  '!build/', 'a/b', '/b/', '*.txt\r',
];

const dirArb: fc.Arbitrary<Dir> = fc.letrec<{ dir: Dir }>((tie) => ({
  dir: fc.record({
    files: fc.uniqueArray(fc.constantFrom(...FILE_NAMES), { minLength: 1, maxLength: 4 }),
    dirs: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant([] as [string, Dir][]),
      fc.uniqueArray(fc.tuple(fc.constantFrom(...DIR_NAMES), tie('dir')), { maxLength: 3, selector: (d) => d[0] }),
    ),
    gitignore: fc.option(fc.array(fc.constantFrom(...RULES), { minLength: 1, maxLength: 5 }), { nil: undefined, freq: 2 }),
  }),
})).dir;

/** The root always has subdirectories and a .gitignore of a few rules. */
const treeArb: fc.Arbitrary<Dir> = fc.record({
  files: fc.uniqueArray(fc.constantFrom(...FILE_NAMES), { minLength: 2, maxLength: 6 }),
  dirs: fc.uniqueArray(fc.tuple(fc.constantFrom(...DIR_NAMES), dirArb), { minLength: 1, maxLength: 4, selector: (d) => d[0] }),
  gitignore: fc.array(fc.constantFrom(...RULES), { minLength: 2, maxLength: 7 }),
});

async function writeTree(root: string, d: Dir): Promise<void> {
  await mkdir(root, { recursive: true });
  const dirNames = new Set(d.dirs.map(([n]) => n));
  for (const f of d.files) if (!dirNames.has(f) && f !== '.gitignore') await writeFile(join(root, f), 'x');
  if (d.gitignore !== undefined) await writeFile(join(root, '.gitignore'), d.gitignore.join('\n') + '\n');
  for (const [name, sub] of d.dirs) await writeTree(join(root, name), sub);
}

/** Every entry below the root (relative path → is a directory), as git would see it. */
function entries(d: Dir, prefix: string, out: Map<string, boolean>): void {
  const dirNames = new Set(d.dirs.map(([n]) => n));
  for (const f of d.files) if (!dirNames.has(f)) out.set(prefix + f, false);
  if (d.gitignore !== undefined) out.set(prefix + '.gitignore', false);
  for (const [name, sub] of d.dirs) {
    out.set(prefix + name, true);
    entries(sub, `${prefix}${name}/`, out);
  }
}

/** The walker's answer: what GitIgnore leaves out, a left-out directory taking its subtree. */
function modelIgnored(root: string, d: Dir): Set<string> {
  const ignored = new Set<string>();
  const all = (sub: Dir, rel: string): void => {
    const m = new Map<string, boolean>();
    entries(sub, `${rel}/`, m);
    for (const k of m.keys()) ignored.add(k);
  };
  const walk = (dir: Dir, rel: string, stack: GitIgnore): void => {
    const here = stack.with(rel === '' ? root : `${root}/${rel}`, dir.gitignore === undefined ? undefined : dir.gitignore.join('\n') + '\n');
    const m = new Map<string, boolean>();
    entries({ ...dir, dirs: dir.dirs.map(([n]) => [n, { files: [], dirs: [], gitignore: undefined }] as const) }, '', m);
    for (const [name, isDir] of m) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (here.ignored(`${root}/${r}`, isDir)) {
        ignored.add(r);
        if (isDir) all(dir.dirs.find(([n]) => n === name)![1], r);
      } else if (isDir) {
        walk(dir.dirs.find(([n]) => n === name)![1], r, here);
      }
    }
  };
  walk(d, '', GitIgnore.EMPTY);
  return ignored;
}

function gitEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return { ...env, HOME: home, XDG_CONFIG_HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
}

function gitIgnored(dir: string, paths: readonly string[], env: NodeJS.ProcessEnv): Set<string> {
  let out: string;
  try {
    out = execFileSync('git', ['-C', dir, 'check-ignore', '--no-index', '--stdin', '-z'], { env, input: paths.join('\0') + '\0', encoding: 'utf8' });
  } catch (e) {
    const err = e as { status?: number; stdout?: string };
    if (err.status !== 1) throw e; // 1: nothing is ignored
    out = err.stdout ?? '';
  }
  return new Set(out.split('\0').filter((p) => p !== ''));
}

describe('GitIgnore against git check-ignore', () => {
  let base: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-gitignore-'));
    env = gitEnv(base);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('ignores exactly what git ignores', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(treeArb, async (tree) => {
        const root = join(base, `t${n++}`);
        await writeTree(root, tree);
        execFileSync('git', ['init', '-q', '--template=', root], { env });
        const all = new Map<string, boolean>();
        entries(tree, '', all);
        const want = gitIgnored(root, [...all.keys()], env);
        const got = modelIgnored(root, tree);
        expect([...got].sort()).toEqual([...want].sort());
        await rm(root, { recursive: true, force: true });
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
