/**
 * The restore plans files as it restores them, a bounded number ahead, instead of holding a plan
 * of every file first (/usr/share's 49k files held ~70 MB that way): the walk over the trees must
 * not run away from the files restored, every file must still be restored, and the status line
 * must still get the totals. `pipeline` is the bounded producer/consumer under it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgress, encodeTree, hashId, restore, type BlobId, type BlobType, type Node, type TreeId } from '../../src/index.js';
import { pipeline } from '../../src/restorer/pipeline.js';

const TIME = { sec: 1_600_000_000, nsec: 0, offset: 0 };
const DIR_MODE = 2 ** 31 + 0o755;
const enc = new TextEncoder();

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('pipeline', () => {
  it('runs every item in order, at most `limit` at once, the producer at most `ahead` items ahead', async () => {
    const started: number[] = [];
    let running = 0;
    let maxRunning = 0;
    let emitted = 0;
    let maxAhead = 0;
    await pipeline<number>(
      async (emit) => {
        for (let i = 0; i < 500; i++) {
          emitted++;
          maxAhead = Math.max(maxAhead, emitted - started.length);
          await emit(i);
        }
      },
      4,
      16,
      async (i) => {
        started.push(i);
        running++;
        maxRunning = Math.max(maxRunning, running);
        for (let k = 0; k < (i % 3) + 1; k++) await tick();
        running--;
      },
    );
    expect(started).toEqual([...Array(500).keys()]);
    expect(maxRunning).toBe(4);
    expect(maxAhead).toBeLessThanOrEqual(16 + 1);
  });

  it('a failing item stops the producer and fails the whole, after the running items finished', async () => {
    let finished = 0;
    let emitted = 0;
    let producerSaw: unknown;
    const run = pipeline<number>(
      async (emit) => {
        try {
          for (let i = 0; i < 1000; i++) {
            emitted++;
            await emit(i);
          }
        } catch (e) {
          producerSaw = e;
          throw e;
        }
      },
      3,
      8,
      async (i) => {
        await tick();
        if (i === 20) throw new Error('item 20 failed');
        await tick();
        finished++;
      },
    );
    await expect(run).rejects.toThrow('item 20 failed');
    expect((producerSaw as Error).message).toBe('item 20 failed');
    expect(emitted).toBeLessThan(40);
    expect(finished).toBeGreaterThanOrEqual(20);
  });

  it('a failing producer: no new item starts, the running ones finish, then its failure is thrown', async () => {
    const done: number[] = [];
    const run = pipeline<number>(
      async (emit) => {
        for (let i = 0; i < 5; i++) await emit(i);
        throw new Error('walk failed');
      },
      2,
      100,
      async (i) => {
        await tick();
        done.push(i);
      },
    );
    await expect(run).rejects.toThrow('walk failed');
    expect(done.sort()).toEqual([0, 1]);
  });
});

describe('restore plans as it restores', () => {
  const blobs = new Map<string, Uint8Array>();
  const DIRS = 40;
  const FILES = 50; // per directory: 2,000 files in all
  let root: TreeId;
  let scratch: string;
  let bytes = 0;

  const put = (b: Uint8Array): string => {
    const id = hashId(b);
    blobs.set(id, b);
    return id;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cairn-restore-streaming-'));
    const dirs: Node[] = [];
    for (let d = 0; d < DIRS; d++) {
      const files: Node[] = [];
      for (let f = 0; f < FILES; f++) {
        const data = enc.encode(`directory ${d} file ${f}\n`.repeat(f + 1));
        bytes += data.length;
        files.push({ name: enc.encode(`f${String(f).padStart(3, '0')}`), type: 'file', mode: 0o644, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, size: data.length, content: [put(data) as BlobId] });
      }
      const sub = put(encodeTree({ nodes: files })) as TreeId;
      dirs.push({ name: enc.encode(`d${String(d).padStart(3, '0')}`), type: 'dir', mode: DIR_MODE, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, content: null, subtree: sub });
    }
    root = put(encodeTree({ nodes: dirs })) as TreeId;
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const fakeRepo = (onLoad: (type: BlobType) => void) => ({
    async loadBlob(type: BlobType, id: BlobId): Promise<Uint8Array> {
      const b = blobs.get(id);
      if (b === undefined) throw new Error(`no blob ${id}`);
      await tick();
      onLoad(type);
      return b;
    },
    blobLength: (_type: BlobType, id: BlobId) => blobs.get(id)?.length,
  });

  it('the walk stays a bounded number of files ahead of the files restored, and every file is restored', async () => {
    let trees = 0;
    let files = 0;
    let maxLead = 0;
    const repo = fakeRepo((type) => {
      if (type === 'tree') trees++;
      else {
        files++;
        // Files planned (the directories whose trees were loaded) but not yet loaded.
        maxLead = Math.max(maxLead, (trees - 1) * FILES - files);
      }
    });
    const summary = await restore(repo, root, undefined, { target: join(scratch, 'bounded') });
    expect(summary).toMatchObject({ files: DIRS * FILES, dirs: DIRS, errors: 0 });
    expect(await readFile(join(scratch, 'bounded', 'd017', 'f009'), 'utf8')).toBe('directory 17 file 9\n'.repeat(10));
    expect(files).toBe(DIRS * FILES);
    expect(trees).toBe(DIRS + 1);
    // A plan of every file first had all 2,000 planned before the first was restored; the walk
    // now stays within a few hundred files (FILES_AHEAD, the files in flight, one directory).
    expect(maxLead).toBeLessThan(400);
  });

  it('with a status line: the totals come from a walk of their own and are all there at the end', async () => {
    const progress = createProgress();
    const summary = await restore(fakeRepo(() => undefined), root, undefined, { target: join(scratch, 'totals'), progress });
    expect(summary).toMatchObject({ files: DIRS * FILES, errors: 0 });
    expect(progress).toMatchObject({ itemsTotal: DIRS * FILES, itemsDone: DIRS * FILES, bytesTotal: bytes, bytesDone: bytes, errors: 0 });
  });
});

describe('a tree out of order', () => {
  it('a name repeated after others (b, c, b) is refused once, as a repeat next to itself is', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cairn-restore-order-'));
    try {
      const blobs = new Map<string, Uint8Array>();
      const put = (b: Uint8Array): string => {
        const id = hashId(b);
        blobs.set(id, b);
        return id;
      };
      const file = (name: string, text: string): Node => {
        const data = enc.encode(text);
        return { name: enc.encode(name), type: 'file', mode: 0o644, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, size: data.length, content: [put(data) as BlobId] };
      };
      // encodeTree writes trees sorted: the third node is renamed in the JSON.
      const json = Buffer.from(encodeTree({ nodes: [file('b', 'first b\n'), file('c', 'c\n'), file('d', 'second b\n')] })).toString();
      expect(json).toContain('"name":"d"');
      const root = put(enc.encode(json.replace('"name":"d"', '"name":"b"'))) as TreeId;
      const repo = {
        loadBlob: async (_type: BlobType, id: BlobId) => blobs.get(id)!,
        blobLength: (_type: BlobType, id: BlobId) => blobs.get(id)?.length,
      };
      const warnings: string[] = [];
      const summary = await restore(repo, root, undefined, { target: join(scratch, 't'), onWarning: (w) => warnings.push(w.message) });
      expect(summary).toMatchObject({ files: 2, errors: 1 });
      expect(warnings).toEqual([expect.stringMatching(/^refused: tree [0-9a-f]{64} names this entry twice$/)]);
      expect(await readFile(join(scratch, 't', 'b'), 'utf8')).toBe('first b\n');
      expect(await readFile(join(scratch, 't', 'c'), 'utf8')).toBe('c\n');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
