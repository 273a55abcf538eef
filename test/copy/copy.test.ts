/**
 * copySnapshots (src/copy/) on in-memory repositories: restic's similarSnapshots rule; an
 * interrupted copy leaves the snapshots copied before it, no snapshot of the unfinished one, and a
 * repository `check` finds sound, and the next run finishes the job; a damaged source blob stops
 * the copy before its snapshot is saved; a blob shared by snapshots is stored once; `original`
 * and `parent` of the copy.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { CairnError } from '../../src/errors.js';
import {
  checkRepository, copiedSnapshot, copySnapshots, isSimilarSnapshot, parseTime, Repository, snapshotStream,
  type Snapshot, type SnapshotId, type TreeId,
} from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';

const KDF = { N: 1024, r: 8, p: 1 };

async function repoWith(sources: Uint8Array[][]): Promise<Repository> {
  const repo = await Repository.init(new MemoryBackend(), 'src', { kdf: KDF });
  for (const [i, source] of sources.entries()) {
    await snapshotStream(repo, { filename: `f${i}`, source, hostname: 'h', time: parseTime(`2024-01-0${i + 1}T10:00:00Z`) });
  }
  return repo;
}

async function rejection(p: Promise<unknown>): Promise<CairnError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'it should have failed').toBeInstanceOf(CairnError);
  return e as CairnError;
}

const base: Snapshot = {
  time: parseTime('2024-01-01T10:00:00+02:00'),
  tree: 'a'.repeat(64) as TreeId,
  paths: ['/a', '/b'],
  hostname: 'h',
  username: 'u',
  tags: ['x', 'y'],
  excludes: ['*.o', '*.tmp'],
};

describe('isSimilarSnapshot (restic similarSnapshots)', () => {
  it('ignores parent, original, the order of paths and tags, and the UTC offset of the same instant', () => {
    expect(isSimilarSnapshot(base, { ...base, paths: ['/b', '/a'], tags: ['y', 'x'], parent: 'p'.repeat(64) as SnapshotId, original: 'o'.repeat(64) as SnapshotId })).toBe(true);
    expect(isSimilarSnapshot(base, { ...base, time: parseTime('2024-01-01T08:00:00Z') })).toBe(true);
  });
  it('any other field differing: not similar', () => {
    const others: Partial<Snapshot>[] = [
      { time: parseTime('2024-01-01T10:00:01+02:00') }, { tree: 'b'.repeat(64) as TreeId }, { hostname: 'g' }, { username: 'v' },
      { uid: 5 }, { gid: 5 }, { paths: ['/a'] }, { paths: ['/a', '/c'] }, { tags: ['x'] }, { tags: ['x', 'z'] },
      { excludes: ['*.tmp', '*.o'] }, { excludes: ['*.o'] },
    ];
    for (const o of others) expect(isSimilarSnapshot(base, { ...base, ...o }), JSON.stringify(o)).toBe(false);
  });
  it('the copy drops parent and keeps an original already set', () => {
    const id = 'c'.repeat(64) as SnapshotId;
    expect(copiedSnapshot({ id, snapshot: { ...base, parent: 'p'.repeat(64) as SnapshotId } })).toEqual({ ...base, original: id });
    const o = 'o'.repeat(64) as SnapshotId;
    expect(copiedSnapshot({ id, snapshot: { ...base, original: o } }).original).toBe(o);
  });
});

describe('copySnapshots', () => {
  it('stores a blob shared by several snapshots once; a second run skips all and stores nothing', async () => {
    const shared = pseudoRandomBytes(3 << 20, 1);
    const source = await repoWith([[shared], [shared, pseudoRandomBytes(1 << 20, 2)], [pseudoRandomBytes(100, 3), shared]]);
    const target = await Repository.init(new MemoryBackend(), 'dst', { kdf: KDF });
    const r = await copySnapshots(source, target);
    expect(r.copied).toHaveLength(3);
    await source.loadIndex();
    expect(target.index.size).toBe(source.index.size);
    expect(r.blobsCopied).toBe(source.index.size);
    const again = await copySnapshots(source, target);
    expect(again.copied).toHaveLength(0);
    expect(again.skipped.map((s) => s.existing)).toEqual(r.copied.map((c) => c.target));
    expect(again.blobsCopied).toBe(0);
    const check = await checkRepository(target, { readData: { kind: 'all' } });
    expect(check.errors).toBe(0);
  });

  it('interrupted: the snapshots before stay, none for the unfinished one, the target checks sound, and the next run finishes', async () => {
    const source = await repoWith([[pseudoRandomBytes(2 << 20, 4)], [pseudoRandomBytes(2 << 20, 5)], [pseudoRandomBytes(2 << 20, 6)]]);
    const target = await Repository.init(new MemoryBackend(), 'dst', { kdf: KDF });
    const controller = new AbortController();
    let copying = 0;
    let packReads = 0;
    // Aborted while the second snapshot's data is read: its blobs are stored and indexed, not its snapshot.
    (source.backend as MemoryBackend).fault = (op, h) => {
      if (copying === 2 && op === 'load' && h?.type === 'pack' && ++packReads === 2) controller.abort();
    };
    const e = await rejection(copySnapshots(source, target, {
      signal: controller.signal,
      concurrency: 1,
      onSnapshot: (ev) => {
        if (ev.kind === 'copying') copying++;
      },
    }));
    (source.backend as MemoryBackend).fault = undefined;
    expect(packReads).toBe(2);
    expect(e.code).toBe('ERR_INTERRUPTED');
    const after = await target.listSnapshots();
    expect(after).toHaveLength(1);
    expect((await checkRepository(target, { readData: { kind: 'all' } })).errors).toBe(0);
    const rest = await copySnapshots(source, target);
    expect(rest.skipped).toHaveLength(1);
    expect(rest.copied).toHaveLength(2);
    expect((await checkRepository(target, { readData: { kind: 'all' } })).errors).toBe(0);
  });

  it('a damaged source blob stops the copy before its snapshot is saved', async () => {
    const backend = new MemoryBackend();
    const source = await Repository.init(backend, 'src', { kdf: KDF });
    await snapshotStream(source, { filename: 'f', source: [pseudoRandomBytes(1 << 20, 7)] });
    await source.loadIndex();
    // Flip a byte inside the data blob's ciphertext.
    const [entry] = [...source.index.entries()].filter((x) => x.entry.type === 'data');
    const h = { type: 'pack' as const, name: entry!.entry.pack };
    const bytes = await backend.load(h);
    bytes[entry!.entry.offset + 100]! ^= 1;
    await backend.save(h, bytes);
    const target = await Repository.init(new MemoryBackend(), 'dst', { kdf: KDF });
    const e = await rejection(copySnapshots(source, target));
    expect(e.code).toBe('ERR_AUTH_FAILED');
    expect(await target.listSnapshots()).toEqual([]);
  });
});
