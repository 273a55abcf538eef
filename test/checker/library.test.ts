/**
 * The checker as a library, on hand-built repositories in memory: problems are reported with
 * every snapshot and the path that lead to them, each tree once; an index that disagrees with a
 * pack header is caught from both sides; overlapping index entries, duplicate packs; an
 * interrupted check stops and leaves no lock; repair snapshots keeps what remains of a file,
 * empties an unreadable directory, and deletes a snapshot whose root is gone.
 */
import { describe, expect, it } from 'vitest';
import { checkRepository, repairSnapshots, type CheckProblem, type RepairSnapshotsEvent } from '../../src/checker/index.js';
import { MemoryBackend } from '../../src/backend/index.js';
import { isCairnError } from '../../src/errors.js';
import { hashId, type BlobId, type SnapshotId, type TreeId } from '../../src/model/index.js';
import { Repository } from '../../src/repository/index.js';
import { decodeTree, encodeTree, nowTime, sortNodes, ZERO_TIME, type Node } from '../../src/tree/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function file(name: string, content: BlobId[], size: number): Node {
  return { name: enc(name), type: 'file', mtime: ZERO_TIME, atime: ZERO_TIME, ctime: ZERO_TIME, uid: 0, gid: 0, content, ...(size > 0 ? { size } : {}) };
}

function dir(name: string, subtree: TreeId): Node {
  return { name: enc(name), type: 'dir', mode: 2147484141, mtime: ZERO_TIME, atime: ZERO_TIME, ctime: ZERO_TIME, uid: 0, gid: 0, content: null, subtree };
}

class Builder {
  private constructor(
    readonly backend: MemoryBackend,
    readonly repo: Repository,
  ) {}

  static async create(): Promise<Builder> {
    const backend = new MemoryBackend();
    return new Builder(backend, await Repository.init(backend, 'pw', { kdf: { N: 1024, r: 8, p: 1 }, packSize: 2000 }));
  }

  async blob(text: string): Promise<BlobId> {
    const bytes = enc(text);
    const id = hashId(bytes);
    await this.repo.saveBlob('data', id, bytes);
    return id;
  }

  async tree(nodes: Node[], save = true): Promise<TreeId> {
    const bytes = encodeTree({ nodes: sortNodes(nodes) });
    const id = hashId(bytes);
    if (save) await this.repo.saveBlob('tree', id, bytes);
    return id;
  }

  async snapshot(tree: TreeId, path: string): Promise<SnapshotId> {
    await this.repo.flush();
    return this.repo.saveSnapshot({ time: nowTime(), tree, paths: [path], hostname: 'h' });
  }

  /** A fresh Repository on the same storage (its index not loaded yet). */
  reopen(): Promise<Repository> {
    return Repository.open(this.backend, 'pw');
  }

  locks(): number {
    return this.backend.files().filter((f) => f.handle.type === 'lock').length;
  }
}

async function check(repo: Repository, readData = false): Promise<{ problems: CheckProblem[]; summary: Awaited<ReturnType<typeof checkRepository>>; hints: string[] }> {
  const problems: CheckProblem[] = [];
  const hints: string[] = [];
  const summary = await checkRepository(repo, { ...(readData ? { readData: { kind: 'all' } } : {}), onProblem: (p) => problems.push(p), onHint: (h) => hints.push(h.kind) });
  return { problems, summary, hints };
}

describe('checkRepository', () => {
  it('a lost blob in a directory two snapshots share is reported once, naming both snapshots and the path', async () => {
    const b = await Builder.create();
    const kept = await b.blob('kept');
    const lost = hashId(enc('never stored'));
    const common = await b.tree([file('x', [kept, lost], 20), file('y', [kept], 4)]);
    const s1 = await b.snapshot(await b.tree([dir('a', await b.tree([dir('common', common)]))]), '/a');
    const s2 = await b.snapshot(await b.tree([dir('b', await b.tree([dir('common', common), file('z', [lost], 12)]))]), '/b');
    const { problems, summary } = await check(await b.reopen(), true);
    expect(summary).toMatchObject({ errors: 2, snapshots: 2, trees: 5, brokenPacks: [] });
    const x = problems.find((p) => p.path?.endsWith('/x'))!;
    expect(x).toMatchObject({ kind: 'blob-missing', code: 'ERR_NOT_FOUND', blob: lost });
    expect([...x.snapshots!].sort()).toEqual([s1, s2].sort());
    expect(x.message).toMatch(/^snapshot [0-9a-f]{8} \/(a|b)\/common\/x: data blob [0-9a-f]{64} is not in the index \(also in 1 other snapshot\)$/);
    expect(problems.find((p) => p.path === '/b/z')).toMatchObject({ snapshots: [s2] });
    expect(problems.filter((p) => p.blob === lost)).toHaveLength(2);
    expect(b.locks()).toBe(0);
  });

  it('an index that names the wrong blob: both sides of the disagreement, the bad blob, and the lost reference are all reported', async () => {
    const b = await Builder.create();
    const a = await b.blob('alpha');
    await b.snapshot(await b.tree([file('a', [a], 5)]), '/');
    const repo = await b.reopen();
    await repo.loadIndex();
    const entry = repo.index.lookup(a, 'data')[0]!;
    const fake = hashId(enc('fake'));
    const blobs = [...repo.index.entries()].filter((e) => e.entry.pack === entry.pack).map(({ id, entry: e }) => ({ id: id === a ? fake : id, type: e.type, offset: e.offset, length: e.length, uncompressedLength: e.uncompressedLength }));
    const others = [...new Set([...repo.index.entries()].map((e) => e.entry.pack))].filter((p) => p !== entry.pack);
    const keep = others.map((p) => ({ id: p, blobs: [...repo.index.entries()].filter((e) => e.entry.pack === p).map(({ id, entry: e }) => ({ id, type: e.type, offset: e.offset, length: e.length, uncompressedLength: e.uncompressedLength })) }));
    for (const f of b.backend.files().filter((x) => x.handle.type === 'index')) b.backend.delete(f.handle);
    await repo.saveIndexFiles([...keep, { id: entry.pack, blobs }]);
    const { problems } = await check(await b.reopen(), true);
    const kinds = problems.map((p) => p.kind).sort();
    expect(kinds).toEqual(['blob-damaged', 'blob-missing', 'pack-header', 'pack-header']);
    expect(problems.find((p) => p.kind === 'blob-damaged')).toMatchObject({ blob: fake, pack: entry.pack, code: 'ERR_CORRUPT' });
    expect(problems.filter((p) => p.kind === 'pack-header').map((p) => p.blob).sort()).toEqual([a, fake].sort());
  });

  it('overlapping index entries and a wrong-size pack are reported; a pack named by two index files is a hint only', async () => {
    const b = await Builder.create();
    const a = await b.blob('alpha alpha alpha');
    await b.snapshot(await b.tree([file('a', [a], 17)]), '/');
    const repo = await b.reopen();
    await repo.loadIndex();
    const e = repo.index.lookup(a, 'data')[0]!;
    const real = { id: a, type: 'data' as const, offset: e.offset, length: e.length, uncompressedLength: e.uncompressedLength };
    await repo.saveIndexFiles([{ id: e.pack, blobs: [real] }]); // the same pack in a second index file
    const dup = await check(await b.reopen());
    expect(dup.summary.errors).toBe(0);
    expect(dup.hints).toEqual(['duplicate-pack']);
    expect(dup.summary.suggestRepairIndex).toBe(true);
    await repo.saveIndexFiles([{ id: e.pack, blobs: [{ ...real, id: hashId(enc('ghost')), offset: e.offset + 1 }] }]);
    const { problems } = await check(await b.reopen());
    expect(problems.map((p) => p.kind).sort()).toEqual(['pack-overlap', 'pack-size']);
    expect(problems.find((p) => p.kind === 'pack-overlap')!.message).toContain(`pack ${e.pack}: the index has overlapping entries`);
  });

  it('a damaged tree is reported once, with its path; the trees stored beside it are still checked', async () => {
    const b = await Builder.create();
    const kept = await b.blob('kept');
    const lost = hashId(enc('never stored'));
    const subs: TreeId[] = [];
    for (let i = 0; i < 6; i++) subs.push(await b.tree([file(`f${i}`, i === 4 ? [kept, lost] : [kept], 4)]));
    await b.snapshot(await b.tree(subs.map((t, i) => dir(`d${i}`, t))), '/');
    const repo = await b.reopen();
    await repo.loadIndex();
    const e = repo.index.lookup(subs[2]!, 'tree')[0]!;
    expect(repo.index.lookup(subs[4]!, 'tree')[0]!.pack).toBe(e.pack); // neighbours in one pack
    const bytes = b.backend.get({ type: 'pack', name: e.pack })!.slice();
    bytes[e.offset + 40]! ^= 1;
    b.backend.put({ type: 'pack', name: e.pack }, bytes);
    const { problems, summary } = await check(await b.reopen());
    expect(summary).toMatchObject({ errors: 2, trees: 7 });
    expect(problems[0]).toMatchObject({ kind: 'tree', code: 'ERR_AUTH_FAILED', tree: subs[2], path: '/d2' });
    expect(problems[0]!.message).toMatch(/^snapshot [0-9a-f]{8} \/d2: tree [0-9a-f]{64} cannot be loaded: ciphertext verification failed/);
    expect(problems[1]).toMatchObject({ kind: 'blob-missing', blob: lost, path: '/d4/f4' });
  });

  it('a tree whose copy in one pack is damaged loads from its copy in another: no error without --read-data, the damaged pack with it', async () => {
    const b = await Builder.create();
    const kept = await b.blob('kept');
    const sub = await b.tree([file('f', [kept], 4)]);
    await b.snapshot(await b.tree([dir('d', sub)]), '/');
    const repo = await b.reopen();
    await repo.loadIndex();
    const e = repo.index.lookup(sub, 'tree')[0]!;
    const original = b.backend.get({ type: 'pack', name: e.pack })!;
    const copy = hashId(enc('a second copy of the tree pack'));
    b.backend.put({ type: 'pack', name: copy }, original.slice());
    const blobs = [...repo.index.entries()].filter((x) => x.entry.pack === e.pack).map(({ id, entry: x }) => ({ id, type: x.type, offset: x.offset, length: x.length, uncompressedLength: x.uncompressedLength }));
    await repo.saveIndexFiles([{ id: copy, blobs }]);
    const damaged = original.slice();
    damaged[e.offset + 40]! ^= 1;
    b.backend.put({ type: 'pack', name: e.pack }, damaged);
    expect((await check(await b.reopen())).summary.errors).toBe(0);
    const read = await check(await b.reopen(), true);
    expect(read.problems.filter((p) => p.kind === 'blob-damaged').map((p) => [p.pack, p.blob])).toEqual([[e.pack, sub]]);
  });

  it('an interrupted check stops with ERR_INTERRUPTED and leaves no lock', async () => {
    const b = await Builder.create();
    await b.snapshot(await b.tree([file('a', [await b.blob('a')], 1)]), '/');
    const ac = new AbortController();
    const repo = await b.reopen();
    let err: unknown;
    try {
      await checkRepository(repo, { signal: ac.signal, onPhase: (p) => (p.phase === 'packs' ? ac.abort() : undefined) });
    } catch (e) {
      err = e;
    }
    expect(isCairnError(err, 'ERR_INTERRUPTED')).toBe(true);
    expect(b.locks()).toBe(0);
  });
});

describe('repairSnapshots', () => {
  it('keeps what remains of a file, empties a directory whose tree is lost, deletes a snapshot whose root is lost', async () => {
    const b = await Builder.create();
    const one = await b.blob('one');
    const two = hashId(enc('two (never stored)'));
    const three = await b.blob('three!');
    const lostTree = await b.tree([file('q', [one], 3)], false);
    const root = await b.tree([file('f', [one, two, three], 3 + 18 + 6), file('g', [three], 6), dir('gone', lostTree)]);
    const good = await b.snapshot(root, '/');
    const orphan = await b.snapshot(await b.tree([file('h', [one], 3)], false), '/other');
    const events: RepairSnapshotsEvent[] = [];
    const repo = await b.reopen();
    const summary = await repairSnapshots(repo, { onEvent: (e) => events.push(e) });
    expect(summary).toMatchObject({ snapshots: 2, modified: 2, removed: [orphan], forgotten: [] });
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(['snapshot', 'file-repaired', 'dir-emptied', 'snapshot-saved', 'snapshot-removed']));
    expect(events.find((e) => e.kind === 'file-repaired')).toEqual({ kind: 'file-repaired', path: '/f', missing: 1, size: 9 });
    expect(b.backend.get({ type: 'snapshot', name: orphan })).toBeUndefined();
    const saved = summary.saved[0]!;
    expect(saved.original).toBe(good);
    const fresh = await b.reopen();
    await fresh.loadIndex();
    const snap = await fresh.loadSnapshot(saved.id!);
    expect(snap).toMatchObject({ original: good, tags: ['repaired'], paths: ['/'], hostname: 'h' });
    const nodes = decodeTree(await fresh.loadBlob('tree', snap.tree)).nodes;
    expect(nodes.map((n) => [new TextDecoder().decode(n.name), n.content, n.size])).toEqual([
      ['f', [one, three], 9],
      ['g', [three], 6],
      ['gone', null, undefined],
    ]);
    expect(decodeTree(await fresh.loadBlob('tree', nodes[2]!.subtree!)).nodes).toEqual([]);
    expect(b.locks()).toBe(0);
    expect((await check(await b.reopen())).summary.errors).toBe(2); // the original still refers to lost data (a blob, a tree)
    await repairSnapshots(await b.reopen(), { snapshots: [good.slice(0, 10)], forget: true });
    expect((await check(await b.reopen())).summary.errors).toBe(0);
  });
});
