/**
 * find properties on random snapshots (seeded): several snapshots sharing subtrees (each a few
 * edits from the one before), patterns from a small grammar (names, globs, absolute and relative
 * paths, `**`). findInTrees must report exactly the entries a regular-expression oracle picks
 * from the flattened snapshots, in path order, snapshot by snapshot — which checks that the
 * shortcuts (subtrees skipped by tree ID, matches replayed from memory, unreachable subtrees
 * not read) never change the answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findInTrees } from '../../src/inspect/index.js';
import { hashId, type BlobId, type BlobType, type SnapshotId, type TreeId } from '../../src/model/index.js';
import type { SnapshotEntry } from '../../src/snapshot/index.js';
import { encodeTree, sortNodes, ZERO_TIME, type Node } from '../../src/tree/index.js';

const SEED = 20261124;
const enc = new TextEncoder();
const NAMES = ['a', 'b', 'ab', 'c.txt', 'B'];

interface Dir { [name: string]: Dir | string }

const dirArb: fc.Arbitrary<Dir> = fc.letrec<{ dir: Dir }>((tie) => ({
  dir: fc.dictionary(fc.constantFrom(...NAMES), fc.oneof({ depthSize: 'small' }, fc.constantFrom('x', 'y'), tie('dir')), { maxKeys: 4 }),
})).dir;

interface Edit { path: string[]; value: Dir | string | null }
const editArb: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }),
  value: fc.option(fc.oneof(fc.constantFrom('x', 'y'), dirArb), { nil: null }),
});

function edit(root: Dir, edits: readonly Edit[]): Dir {
  const copy = structuredClone(root);
  for (const e of edits) {
    let d = copy;
    let i = 0;
    while (i < e.path.length - 1 && typeof d[e.path[i]!] === 'object') d = d[e.path[i++]!] as Dir;
    if (e.value === null) delete d[e.path[i]!];
    else d[e.path[i]!] = e.value;
  }
  return copy;
}

const snapshotsArb: fc.Arbitrary<Dir[]> = fc
  .tuple(dirArb, fc.array(fc.array(editArb, { minLength: 1, maxLength: 2 }), { maxLength: 3 }))
  .map(([first, edits]) => edits.reduce<Dir[]>((list, e) => [...list, edit(list[list.length - 1]!, e)], [first]));

const patternArb = fc.constantFrom('a', 'b', 'B', '*', 'a*', '?', 'c.*', '[ab]', 'a/b', 'a/*', '/a', '/a/*', '/*/b', '**/c.txt', 'a/**/b', '/**/ab', 'nope');

class FakeRepo {
  readonly trees = new Map<string, Uint8Array>();
  loads = 0;

  async loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array> {
    this.loads++;
    const t = this.trees.get(id);
    if (type !== 'tree' || t === undefined) throw new Error(`no ${type} blob ${id}`);
    return t;
  }

  store(dir: Dir): TreeId {
    const nodes: Node[] = Object.entries(dir).map(([name, v]) => {
      const base = { name: enc.encode(name), mtime: ZERO_TIME, atime: ZERO_TIME, ctime: ZERO_TIME, uid: 0, gid: 0 };
      return typeof v === 'string'
        ? { ...base, type: 'file' as const, size: 1, content: [hashId(enc.encode(v)) as BlobId] }
        : { ...base, type: 'dir' as const, content: null, subtree: this.store(v) };
    });
    const bytes = encodeTree({ nodes: sortNodes(nodes) });
    const id = hashId(bytes) as TreeId;
    this.trees.set(id, bytes);
    return id;
  }
}

/** A path pattern as a regular expression over "/c1/c2/…": `**` is any number of components. */
function patternRegex(pattern: string, ignoreCase: boolean): RegExp {
  const absolute = pattern.startsWith('/');
  const body = pattern
    .split('/')
    .filter((p) => p !== '')
    .map((part) => (part === '**' ? '(?:/[^/]+)*' : '/' + part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
    .join('');
  return new RegExp(`^${absolute ? '' : '(?:/[^/]+)*'}${body}$`, ignoreCase ? 'i' : '');
}

/** The paths of `root` that `patterns` select, in path order (an entry before its contents). */
function oracle(root: Dir, patterns: readonly string[], ignoreCase: boolean): string[] {
  const res = patterns.map((p) => patternRegex(p, ignoreCase));
  const out: string[] = [];
  const walk = (d: Dir, prefix: string): void => {
    for (const name of Object.keys(d).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) {
      const p = `${prefix}/${name}`;
      if (res.some((r) => r.test(p))) out.push(p);
      const v = d[name]!;
      if (typeof v === 'object') walk(v, p);
    }
  };
  walk(root, '');
  return out;
}

describe('find (property, seeded)', () => {
  it('reports exactly the entries the patterns describe, in every snapshot, whatever it skips or replays', async () => {
    await fc.assert(
      fc.asyncProperty(snapshotsArb, fc.array(patternArb, { minLength: 1, maxLength: 3 }), fc.boolean(), async (dirs, patterns, ignoreCase) => {
        const repo = new FakeRepo();
        const entries: SnapshotEntry[] = dirs.map((d, i) => ({
          id: hashId(enc.encode(`snapshot ${i}`)) as SnapshotId,
          snapshot: { time: ZERO_TIME, tree: repo.store(d), paths: ['/'] },
        }));
        const got = new Map<string, string[]>();
        const result = await findInTrees(repo, entries, {
          patterns,
          ignoreCase,
          onMatch: (m) => got.set(m.snapshot.id, [...(got.get(m.snapshot.id) ?? []), m.path]),
        });
        dirs.forEach((d, i) => expect(got.get(entries[i]!.id) ?? [], `snapshot ${i}`).toEqual(oracle(d, patterns, ignoreCase)));
        expect(result.hits).toBe([...got.values()].reduce((s, l) => s + l.length, 0));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('with name patterns, a subtree shared by later snapshots is read once', async () => {
    const repo = new FakeRepo();
    const big: Dir = { a: { b: { 'c.txt': 'x', ab: { a: 'y' } }, B: 'x' }, ab: { b: 'y' } };
    const entries: SnapshotEntry[] = [0, 1, 2].map((i) => ({
      id: hashId(enc.encode(`s${i}`)) as SnapshotId,
      snapshot: { time: ZERO_TIME, tree: repo.store(i === 0 ? big : { ...big, [`c.txt`]: String(i) }), paths: ['/'] },
    }));
    const paths: string[] = [];
    await findInTrees(repo, entries, { patterns: ['c.txt', 'ab'], onMatch: (m) => paths.push(m.path) });
    // 5 trees in the first snapshot, one new root in each later one.
    expect(repo.loads).toBe(5 + 2);
    expect(paths.filter((p) => p === '/a/b/c.txt')).toHaveLength(3);
  });
});
