/**
 * Repository.findSnapshot resolves a full ID or a prefix against the snapshot file names and
 * loads only the snapshot chosen (restic's FindSnapshot), so one damaged snapshot file does not
 * stop a lookup of another. `latest` must read every snapshot, and fails naming the file that does
 * not load (restic 0.14's FindLatestSnapshot). listSnapshots is strict unless given onUnreadable,
 * which gets each file that does not load and leaves it out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { CairnError, isCairnError } from '../../src/errors.js';
import { parseTime, Repository, type Handle, type SnapshotId, type TreeId } from '../../src/index.js';
import type { UnreadableSnapshot } from '../../src/repository/index.js';

const TREE = 'a'.repeat(64) as TreeId;

async function rejection(p: Promise<unknown>): Promise<CairnError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'it should have failed').toBeInstanceOf(CairnError);
  return e as CairnError;
}

describe('finding a snapshot with a damaged snapshot file present', () => {
  let backend: MemoryBackend;
  let repo: Repository;
  let ids: SnapshotId[];
  /** The damaged snapshot (the newest by time, so that `latest` cannot skip it). */
  let bad: SnapshotId;
  /** An intact snapshot whose first hex digit is also the damaged one's. */
  let twin: SnapshotId;
  let loads: string[];

  beforeAll(async () => {
    backend = new MemoryBackend();
    repo = await Repository.init(backend, 'pw', { kdf: { N: 1024, r: 8, p: 1 } });
    ids = [];
    // 17 snapshots: two of them share a first hex digit (pigeonhole); the newest of such a pair is damaged.
    for (let i = 0; i < 17; i++) {
      const time = parseTime(`2024-01-${String(i + 1).padStart(2, '0')}T10:00:00Z`);
      ids.push(await repo.saveSnapshot({ time, tree: TREE, paths: ['/data'], hostname: `host-${i}` }));
    }
    let pair: [SnapshotId, SnapshotId] | undefined;
    for (let j = ids.length - 1; j >= 0 && pair === undefined; j--) {
      const older = ids.slice(0, j).find((id) => id[0] === ids[j]![0]);
      if (older !== undefined) pair = [ids[j]!, older];
    }
    [bad, twin] = pair!;
    // Make `bad` the newest snapshot: give every later one an older time by removing them.
    for (const id of ids.slice(ids.indexOf(bad) + 1)) await backend.remove({ type: 'snapshot', name: id });
    ids = ids.slice(0, ids.indexOf(bad) + 1);
    const h: Handle = { type: 'snapshot', name: bad };
    const bytes = await backend.load(h);
    bytes[bytes.length - 5]! ^= 0x40;
    await backend.save(h, bytes);
    loads = [];
    backend.fault = (op, handle) => {
      if (op === 'load' && handle?.type === 'snapshot') loads.push(handle.name);
    };
  });

  const intact = (): SnapshotId[] => ids.filter((id) => id !== bad);

  it('a unique prefix or full ID of an intact snapshot loads just that snapshot', async () => {
    const want = intact()[0]!;
    for (const ref of [want.slice(0, 8), want, want.toUpperCase(), want.slice(0, 3)]) {
      if (ids.filter((id) => id.startsWith(ref.toLowerCase())).length > 1) continue; // a 3-digit prefix may be shared
      loads.length = 0;
      const e = await repo.findSnapshot(ref);
      expect(e.id).toBe(want);
      expect(e.snapshot.hostname).toBe('host-0');
      expect(loads).toEqual([want]);
    }
    loads.length = 0;
    expect((await repo.findSnapshot(twin.slice(0, 10))).id).toBe(twin);
    expect(loads).toEqual([twin]);
  });

  it('a prefix the damaged file shares with an intact one is ambiguous, from the names alone', async () => {
    loads.length = 0;
    const e = await rejection(repo.findSnapshot(bad[0]!));
    expect(e.code).toBe('ERR_AMBIGUOUS_ID');
    expect(e.data['matches']).toEqual(expect.arrayContaining([bad, twin]));
    expect(loads).toEqual([]);
  });

  it('a prefix nothing has is not found; an empty one is invalid', async () => {
    const unused = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'].flatMap((a) => ['0', 'f'].map((b) => a + b)).find((p) => !ids.some((id) => id.startsWith(p)))!;
    expect((await rejection(repo.findSnapshot(unused))).code).toBe('ERR_SNAPSHOT_NOT_FOUND');
    expect((await rejection(repo.findSnapshot('xyz'))).code).toBe('ERR_SNAPSHOT_NOT_FOUND');
    expect((await rejection(repo.findSnapshot(''))).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('the damaged snapshot by its own ID fails with its load error, naming the file', async () => {
    const e = await rejection(repo.findSnapshot(bad.slice(0, 12)));
    expect(['ERR_CORRUPT', 'ERR_AUTH_FAILED']).toContain(e.code);
    expect(e.message).toContain(`snapshots/${bad}`);
  });

  it('latest fails: the damaged snapshot could be the newest; the error names it', async () => {
    const e = await rejection(repo.findSnapshot('latest'));
    expect(['ERR_CORRUPT', 'ERR_AUTH_FAILED']).toContain(e.code);
    expect(e.message).toContain(`snapshots/${bad}`);
    expect(e.message).toMatch(/latest/);
    expect(e.data['snapshots']).toEqual([bad]);
  });

  it('listSnapshots: strict by default; with onUnreadable it lists the others and reports the file', async () => {
    const strict = await rejection(repo.listSnapshots());
    expect(strict.message).toContain(`snapshots/${bad}`);
    const seen: UnreadableSnapshot[] = [];
    const list = await repo.listSnapshots({ onUnreadable: (w) => seen.push(w) });
    expect(list.map((e) => e.id)).toEqual(intact()); // oldest first
    expect(seen).toEqual([expect.objectContaining({ code: 'SNAPSHOT_UNREADABLE', id: bad, file: `snapshots/${bad}` })]);
    expect(seen[0]!.message).toContain(bad.slice(0, 8));
  });

  it('a file gone between listing and loading is reported too; an interruption is not swallowed', async () => {
    const gone = intact()[1]!;
    const fault = backend.fault;
    try {
      backend.fault = (op, h) => {
        if (op === 'load' && h?.name === gone) throw new CairnError('ERR_NOT_FOUND', `snapshots/${gone} does not exist`);
      };
      const seen: UnreadableSnapshot[] = [];
      const list = await repo.listSnapshots({ onUnreadable: (w) => seen.push(w) });
      expect(list.map((e) => e.id)).toEqual(intact().filter((id) => id !== gone));
      expect(seen.map((w) => w.id)).toEqual([bad, gone].sort());
      expect(seen.find((w) => w.id === gone)!.cause).toSatisfy((c: unknown) => isCairnError(c, 'ERR_NOT_FOUND'));
      backend.fault = (op, h) => {
        if (op === 'load' && h?.type === 'snapshot') throw new CairnError('ERR_INTERRUPTED', 'interrupted');
      };
      expect((await rejection(repo.listSnapshots({ onUnreadable: () => undefined }))).code).toBe('ERR_INTERRUPTED');
    } finally {
      backend.fault = fault;
    }
  });
});
