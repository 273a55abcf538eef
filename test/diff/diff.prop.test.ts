/**
 * diff properties on random pairs of small trees (seeded): a tiny pool of names, contents and
 * modes makes overlapping paths, shared blobs and identical subtrees common. Checked against a
 * brute-force oracle that flattens both snapshots into path → entry maps and both blob sets:
 * the changes reported (paths, modifiers, order), the counts, and the added/removed blobs and
 * bytes. Also: diff(A, A) is empty, and diff(B, A) mirrors diff(A, B).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffTrees, type DiffChange, type DiffRepository, type DiffResult } from '../../src/diff/index.js';
import { hashId, type BlobId, type BlobType, type TreeId } from '../../src/model/index.js';
import { encodeTree, sortNodes, ZERO_TIME, type Node } from '../../src/tree/index.js';

const SEED = 20261124;
const enc = new TextEncoder();

type Spec = FileSpec | DirSpec | LinkSpec;
interface FileSpec { kind: 'file'; content: number[]; mode: number; mtime: number }
interface DirSpec { kind: 'dir'; children: Record<string, Spec>; mode: number; mtime: number }
interface LinkSpec { kind: 'symlink'; target: string; mode: number; mtime: number }

const BLOBS: BlobId[] = Array.from({ length: 6 }, (_, i) => hashId(enc.encode(`blob ${i}`)) as BlobId);
const BLOB_SIZE = (id: BlobId): number => 100 + BLOBS.indexOf(id) * 7;

const meta = { mode: fc.constantFrom(0o644, 0o600), mtime: fc.constantFrom(1, 2) };
const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('file' as const), content: fc.array(fc.integer({ min: 0, max: BLOBS.length - 1 }), { maxLength: 3 }), ...meta }),
    fc.record({ kind: fc.constant('symlink' as const), target: fc.constantFrom('x', 'y'), ...meta }),
    fc.record({
      kind: fc.constant('dir' as const),
      children: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('spec'), { maxKeys: 4 }),
      ...meta,
    }),
  ),
})).spec;
const rootArb: fc.Arbitrary<DirSpec> = fc.record({
  kind: fc.constant('dir' as const),
  children: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), specArb, { maxKeys: 4 }),
  mode: fc.constant(0o755),
  mtime: fc.constant(1),
});

interface Mutation { path: string[]; replacement: Spec | null }
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 3 }),
  replacement: fc.option(specArb, { nil: null }),
});

/** `root` with each mutation applied: the entry at `path` (as deep as directories go) replaced, added or removed. */
function mutate(root: DirSpec, mutations: readonly Mutation[]): DirSpec {
  const copy = structuredClone(root);
  for (const m of mutations) {
    let dir = copy;
    let i = 0;
    while (i < m.path.length - 1 && dir.children[m.path[i]!]?.kind === 'dir') dir = dir.children[m.path[i++]!] as DirSpec;
    const name = m.path[i]!;
    if (m.replacement === null) delete dir.children[name];
    else dir.children[name] = m.replacement;
  }
  return copy;
}

/** Pairs of snapshots: unrelated, or the second a few edits away from the first (identical subtrees abound). */
const pairArb: fc.Arbitrary<[DirSpec, DirSpec]> = fc.oneof(
  fc.tuple(rootArb, rootArb),
  fc.tuple(rootArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([a, ms]): [DirSpec, DirSpec] => [a, mutate(a, ms)]),
);

/** An in-memory repository holding the trees (and the sizes of the data blobs). */
class FakeRepo implements DiffRepository {
  readonly trees = new Map<string, Uint8Array>();

  async loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array> {
    const t = this.trees.get(id);
    if (type !== 'tree' || t === undefined) throw new Error(`no ${type} blob ${id}`);
    return t;
  }

  blobLength(type: BlobType, id: BlobId): number | undefined {
    return type === 'tree' ? this.trees.get(id)?.length : BLOB_SIZE(id);
  }

  /** Stores the directory's tree (and its subtrees); returns its ID. */
  store(dir: DirSpec): TreeId {
    const nodes: Node[] = Object.entries(dir.children).map(([name, s]) => {
      const base = { name: enc.encode(name), mtime: { ...ZERO_TIME, sec: s.mtime }, atime: ZERO_TIME, ctime: ZERO_TIME, uid: 0, gid: 0 };
      if (s.kind === 'file') return { ...base, type: 'file', mode: s.mode, size: s.content.length * 10, content: s.content.map((i) => BLOBS[i]!) };
      if (s.kind === 'symlink') return { ...base, type: 'symlink', mode: s.mode, linktarget: enc.encode(s.target), content: null };
      return { ...base, type: 'dir', mode: s.mode, content: null, subtree: this.store(s) };
    });
    const bytes = encodeTree({ nodes: sortNodes(nodes) });
    const id = hashId(bytes) as TreeId;
    this.trees.set(id, bytes);
    return id;
  }
}

interface Flat { type: string; content: string; meta: string; dir: boolean }

/** path → entry, and every blob the tree refers to ("t…" trees including the root, "d…" data). */
function flatten(repo: FakeRepo, root: DirSpec): { paths: Map<string, Flat>; blobs: Set<string> } {
  const paths = new Map<string, Flat>();
  const blobs = new Set<string>([`t${repo.store(root)}`]);
  const walk = (dir: DirSpec, prefix: string): void => {
    for (const [name, s] of Object.entries(dir.children)) {
      const p = `${prefix}/${name}`;
      const content = s.kind === 'file' ? s.content.join(',') : '';
      paths.set(p, { type: s.kind, content, meta: `${s.mode}:${s.mtime}:${s.kind === 'symlink' ? s.target : ''}:${s.kind === 'file' ? s.content.length * 10 : 0}`, dir: s.kind === 'dir' });
      if (s.kind === 'file') for (const i of s.content) blobs.add(`d${BLOBS[i]!}`);
      if (s.kind === 'dir') {
        blobs.add(`t${repo.store(s)}`);
        walk(s, p);
      }
    }
  };
  walk(root, '');
  return { paths, blobs };
}

/** The oracle's diff: changes as "MOD path" in path order, and the result numbers. */
function oracle(repo: FakeRepo, a: DirSpec, b: DirSpec, metadata: boolean): { changes: string[]; result: DiffResult } {
  const A = flatten(repo, a);
  const B = flatten(repo, b);
  const entries: { parts: string[]; line: string }[] = [];
  const stat = () => ({ files: 0, dirs: 0, others: 0, dataBlobs: 0, treeBlobs: 0, bytes: 0 });
  const added = stat();
  const removed = stat();
  let changedFiles = 0;
  const count = (s: ReturnType<typeof stat>, f: Flat): void => {
    if (f.type === 'file') s.files++;
    else if (f.type === 'dir') s.dirs++;
    else s.others++;
  };
  for (const p of new Set([...A.paths.keys(), ...B.paths.keys()])) {
    const x = A.paths.get(p);
    const y = B.paths.get(p);
    let mod: string | undefined;
    if (x === undefined) {
      mod = '+';
      count(added, y!);
    } else if (y === undefined) {
      mod = '-';
      count(removed, x);
    } else if (x.type !== y.type) {
      mod = metadata && x.meta !== y.meta ? 'TU' : 'T';
      count(removed, x);
      count(added, y);
    } else if (x.type === 'file' && x.content !== y.content) {
      mod = 'M';
      changedFiles++;
    } else if (metadata && x.meta !== y.meta) {
      mod = 'U';
    }
    if (mod !== undefined) entries.push({ parts: p.split('/'), line: `${mod} ${p}${(y ?? x)!.dir ? '/' : ''}` });
  }
  entries.sort((u, v) => {
    for (let i = 0; i < Math.min(u.parts.length, v.parts.length); i++) if (u.parts[i] !== v.parts[i]) return u.parts[i]! < v.parts[i]! ? -1 : 1;
    return u.parts.length - v.parts.length;
  });
  const tally = (keys: string[], s: ReturnType<typeof stat>): void => {
    for (const k of keys) {
      if (k[0] === 't') s.treeBlobs++;
      else s.dataBlobs++;
      s.bytes += repo.blobLength(k[0] === 't' ? 'tree' : 'data', k.slice(1) as BlobId)!;
    }
  };
  tally([...B.blobs].filter((k) => !A.blobs.has(k)), added);
  tally([...A.blobs].filter((k) => !B.blobs.has(k)), removed);
  return { changes: entries.map((e) => e.line), result: { changedFiles, added, removed } };
}

async function run(repo: FakeRepo, a: DirSpec, b: DirSpec, metadata = false): Promise<{ changes: string[]; result: DiffResult; raw: DiffChange[] }> {
  const raw: DiffChange[] = [];
  const result = await diffTrees(repo, repo.store(a), repo.store(b), { metadata, onChange: (c) => raw.push(c) });
  return { changes: raw.map((c) => `${c.modifier} ${c.path}`), result, raw };
}

describe('diff (property, seeded)', () => {
  it('reports exactly what the flattened snapshots differ in: changes in path order, counts, blobs and bytes', async () => {
    await fc.assert(fc.asyncProperty(pairArb, fc.boolean(), async ([a, b], metadata) => {
      const repo = new FakeRepo();
      const got = await run(repo, a, b, metadata);
      const want = oracle(repo, a, b, metadata);
      expect(got.changes).toEqual(want.changes);
      expect(got.result).toEqual(want.result);
    }), { seed: SEED, numRuns: 600 });
  });

  it('diff(A, A) is empty', async () => {
    await fc.assert(fc.asyncProperty(rootArb, fc.boolean(), async (a, metadata) => {
      const repo = new FakeRepo();
      const got = await run(repo, a, structuredClone(a), metadata);
      expect(got.changes).toEqual([]);
      const zero = { files: 0, dirs: 0, others: 0, dataBlobs: 0, treeBlobs: 0, bytes: 0 };
      expect(got.result).toEqual({ changedFiles: 0, added: zero, removed: zero });
    }), { seed: SEED, numRuns: 100 });
  });

  it('diff(B, A) mirrors diff(A, B): added ↔ removed, + ↔ -, the same M and T entries', async () => {
    await fc.assert(fc.asyncProperty(pairArb, async ([a, b]) => {
      const repo = new FakeRepo();
      const ab = await run(repo, a, b);
      const ba = await run(repo, b, a);
      expect(ba.result.added).toEqual(ab.result.removed);
      expect(ba.result.removed).toEqual(ab.result.added);
      expect(ba.result.changedFiles).toBe(ab.result.changedFiles);
      const mirror = (c: DiffChange): string => `${c.modifier === '+' ? '-' : c.modifier === '-' ? '+' : c.modifier} ${c.path.replace(/\/$/, '')}`;
      expect(ba.raw.map(mirror).sort()).toEqual(ab.raw.map((c) => `${c.modifier} ${c.path.replace(/\/$/, '')}`).sort());
    }), { seed: SEED, numRuns: 200 });
  });
});
