/**
 * Restoring through the blob workers (Repository.restoreBlob, on a local repository): each worker
 * reads a blob's stored bytes through a pack descriptor the backend lends, verifies it and writes
 * it into the target file itself. What a user sees must be what the main-thread path gives:
 * the same bytes (blobs shared by two files and repeated within one included, compressed or not),
 * a damaged blob caught before a byte of it is written (the file removed and reported, the others
 * restored), a copy of a blob that fails replaced by another copy, progress counted, and no
 * descriptor left open (every lent pack given back, the file count of the process unchanged).
 */
import { lstat, mkdtemp, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { listXattrs } from '../../src/fs/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgress, encodeTree, hashId, initRepository, restore, type BlobId, type Node, type Repository, type RestoreWarning, type TreeId } from '../../src/index.js';
import type { PackId } from '../../src/model/index.js';

const TIME = { sec: 1_600_000_000, nsec: 0, offset: 0 };
const enc = new TextEncoder();
const DIR_MODE = 2 ** 31 + 0o755;

let root: string;
let repo: Repository;
let lent = 0;
let released = 0;
let direct = 0;

/** Deterministic bytes (a seeded xorshift), so a failure is reproducible. */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function blob(bytes: Uint8Array): Promise<BlobId> {
  const id = hashId(bytes) as BlobId;
  await repo.saveBlob('data', id, bytes);
  return id;
}

function fileNode(name: string, parts: readonly Uint8Array[], ids: readonly BlobId[]): Node {
  const size = parts.reduce((s, p) => s + p.length, 0);
  return { name: enc.encode(name), type: 'file', mode: 0o644, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, size, content: [...ids] };
}

async function treeOf(nodes: Node[]): Promise<TreeId> {
  const bytes = encodeTree({ nodes: [...nodes].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))) });
  const id = hashId(bytes) as TreeId;
  await repo.saveBlob('tree', id, bytes);
  return id;
}

/** The open descriptors of this process. */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

let tree: TreeId;
const want = new Map<string, Buffer>();
/** A blob only the file `damaged.bin` holds. */
let lonely: BlobId;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-direct-restore-'));
  repo = await initRepository(join(root, 'repo'), { password: 'pw', kdf: { N: 1024, r: 8, p: 1 } });
  // Random (stored uncompressed) and repetitive (stored compressed) blobs of several sizes.
  const parts = [
    pseudoRandom(300_000, 1),
    enc.encode('checkpoint '.repeat(60_000)),
    pseudoRandom(70_000, 2),
    pseudoRandom(1_500_000, 3),
    enc.encode('x'.repeat(5)),
    pseudoRandom(200_000, 4),
  ];
  const ids: BlobId[] = [];
  for (const p of parts) ids.push(await blob(p));
  const changed = pseudoRandom(250_000, 5);
  const changedId = await blob(changed);
  const lonelyBytes = pseudoRandom(400_000, 6);
  lonely = await blob(lonelyBytes);
  // a.ckpt: all parts; b.ckpt: the same with one part replaced and one repeated (shared blobs).
  const aParts = parts;
  const aIds = ids;
  const bParts = [parts[0]!, parts[1]!, changed, parts[3]!, parts[3]!, parts[4]!, parts[5]!];
  const bIds = [ids[0]!, ids[1]!, changedId, ids[3]!, ids[3]!, ids[4]!, ids[5]!];
  const dParts = [parts[2]!, lonelyBytes, parts[5]!];
  const dIds = [ids[2]!, lonely, ids[5]!];
  const nodes = [fileNode('a.ckpt', aParts, aIds), fileNode('b.ckpt', bParts, bIds), fileNode('damaged.bin', dParts, dIds), fileNode('empty', [], [])];
  want.set('a.ckpt', Buffer.concat(aParts));
  want.set('b.ckpt', Buffer.concat(bParts));
  want.set('damaged.bin', Buffer.concat(dParts));
  want.set('empty', Buffer.alloc(0));
  const sub = await treeOf(nodes);
  tree = await treeOf([{ name: enc.encode('data'), type: 'dir', mode: DIR_MODE, mtime: TIME, atime: TIME, ctime: TIME, uid: 0, gid: 0, content: null, subtree: sub }]);
  await repo.flush();
  // Count every pack lent and given back; count the blobs restored through the workers.
  const backend = repo.backend as { lendPack?: (h: { type: 'pack'; name: string }) => Promise<{ fd: number; size: number; path: string; release(): void }> };
  const lend = backend.lendPack!.bind(repo.backend);
  backend.lendPack = async (h) => {
    const l = await lend(h);
    lent++;
    let once = true;
    return { ...l, release: () => {
      if (once) released++;
      once = false;
      l.release();
    } };
  };
  const restoreBlob = repo.restoreBlob.bind(repo);
  repo.restoreBlob = (...args) => {
    direct++;
    return restoreBlob(...args);
  };
}, 60_000);

afterAll(async () => {
  await repo.close();
  await rm(root, { recursive: true, force: true });
});

async function restoreTo(name: string, options: { sparse?: boolean } = {}): Promise<{ target: string; warnings: RestoreWarning[]; errors: number; bytesDone: number }> {
  const target = join(root, name);
  const warnings: RestoreWarning[] = [];
  const progress = createProgress();
  const s = await restore(repo, tree, undefined, { target, onWarning: (w) => warnings.push(w), progress, ...options });
  return { target, warnings, errors: s.errors, bytesDone: progress.bytesDone };
}

async function expectRestored(target: string, names: readonly string[]): Promise<void> {
  for (const n of names) expect((await readFile(join(target, 'data', n))).equals(want.get(n)!), n).toBe(true);
}

describe('restore through the blob workers', () => {
  it('writes every file byte for byte, shared and repeated blobs included, and counts its progress', async () => {
    const before = direct;
    const r = await restoreTo('t1');
    expect(r.warnings).toEqual([]);
    expect(r.errors).toBe(0);
    await expectRestored(r.target, ['a.ckpt', 'b.ckpt', 'damaged.bin', 'empty']);
    expect(direct - before).toBe(6 + 7 + 3); // every blob of every file went through the workers
    let total = 0;
    for (const b of want.values()) total += b.length;
    expect(r.bytesDone).toBe(total);
    expect(lent).toBe(released);
  });

  it('leaves no descriptor open: every lent pack is given back', async () => {
    await restoreTo('warm'); // the backend's pack cache fills up to its steady state
    const fds = openFds();
    for (let i = 0; i < 3; i++) await restoreTo(`again-${i}`);
    expect(lent).toBe(released);
    expect(openFds()).toBe(fds);
  });

  it('without a lendPack backend (or with --sparse) the main-thread path restores the same bytes', async () => {
    const backend = repo.backend as { lendPack?: unknown };
    const lend = backend.lendPack;
    backend.lendPack = undefined;
    try {
      const before = direct;
      const r = await restoreTo('fallback');
      expect(r.errors).toBe(0);
      await expectRestored(r.target, ['a.ckpt', 'b.ckpt', 'damaged.bin', 'empty']);
      expect(direct).toBe(before);
    } finally {
      backend.lendPack = lend;
    }
    const before = direct;
    const r = await restoreTo('sparse', { sparse: true });
    expect(r.errors).toBe(0);
    await expectRestored(r.target, ['a.ckpt', 'b.ckpt', 'damaged.bin', 'empty']);
    expect(direct).toBe(before);
  });

  it('a copy that fails its checks is replaced by another copy of the blob', async () => {
    // A first copy of `lonely` that the index places over other bytes: its MAC fails.
    const [real] = repo.index.lookup(lonely, 'data');
    const other = [...repo.index.entries()].find((e) => e.id !== lonely && e.entry.length >= real!.length)!.entry;
    const wrong = { id: lonely, type: 'data' as const, offset: other.offset, length: real!.length, uncompressedLength: real!.uncompressedLength };
    const packs = new Map<string, Array<{ id: BlobId; type: 'data' | 'tree'; offset: number; length: number; uncompressedLength: number }>>();
    for (const { id, entry } of repo.index.entries()) {
      const list = packs.get(entry.pack) ?? [];
      list.push({ id, type: entry.type, offset: entry.offset, length: entry.length, uncompressedLength: entry.uncompressedLength });
      packs.set(entry.pack, list);
    }
    const truth = [...packs].map(([id, blobs]) => ({ id: id as PackId, blobs }));
    const fake = { id: other.pack as PackId, blobs: [wrong] };
    let tried = false;
    try {
      // Whichever order of the index puts the wrong copy first.
      for (const order of [[fake, ...truth], [...truth, fake]]) {
        repo.replaceIndex(order);
        const copies = repo.index.lookup(lonely, 'data');
        expect(copies.length).toBe(2);
        if (copies[0]!.offset !== wrong.offset || copies[0]!.pack !== other.pack) continue;
        tried = true;
        const r = await restoreTo('copies');
        expect(r.warnings).toEqual([]);
        await expectRestored(r.target, ['a.ckpt', 'b.ckpt', 'damaged.bin']);
        break;
      }
    } finally {
      repo.replaceIndex(truth);
    }
    expect(tried).toBe(true);
    expect(repo.index.lookup(lonely, 'data').length).toBe(1);
  });

  it('a damaged blob is caught before a byte of it is written: its file is removed and reported, the others restored', async () => {
    const [e] = repo.index.lookup(lonely, 'data');
    const packPath = join(root, 'repo', 'data', e!.pack.slice(0, 2), e!.pack);
    const fh = await open(packPath, 'r+');
    try {
      const one = Buffer.alloc(1);
      await fh.read(one, 0, 1, e!.offset + 100);
      one[0] = one[0]! ^ 0x01;
      await fh.write(one, 0, 1, e!.offset + 100);
      const before = direct;
      const r = await restoreTo('damaged');
      expect(direct).toBeGreaterThan(before);
      expect(r.errors).toBe(1);
      // The MAC fails (ERR_AUTH_FAILED), as on the main-thread path.
      expect(r.warnings.map((w) => [w.code, w.path.endsWith('damaged.bin')])).toEqual([['ERR_AUTH_FAILED', true]]);
      expect(r.warnings[0]!.message).toContain(lonely);
      await expect(stat(join(r.target, 'data', 'damaged.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expectRestored(r.target, ['a.ckpt', 'b.ckpt', 'empty']);
      expect((await readdir(join(r.target, 'data'))).sort()).toEqual(['a.ckpt', 'b.ckpt', 'empty']);
      expect(lent).toBe(released);
    } finally {
      const one = Buffer.alloc(1);
      await fh.read(one, 0, 1, e!.offset + 100);
      one[0] = one[0]! ^ 0x01;
      await fh.write(one, 0, 1, e!.offset + 100);
      await fh.close();
    }
  });

  it("sets each file's owner (as root), mode (setuid, setgid, sticky), nanosecond times and xattrs as the path-based way does (--verify)", async () => {
    const isRoot = process.geteuid?.() === 0;
    // Go's FileMode bits for setuid, setgid and sticky.
    const SETUID = 2 ** 23;
    const SETGID = 2 ** 22;
    const STICKY = 2 ** 20;
    const bytes = pseudoRandom(10_000, 77);
    const id = await blob(bytes);
    const at = (sec: number, nsec: number): { sec: number; nsec: number; offset: number } => ({ sec, nsec, offset: 0 });
    const meta = [
      { name: 'suid', mode: 0o755 | SETUID | SETGID, uid: 1001, gid: 1002, atime: at(1_700_000_000, 123_456_789), mtime: at(1_600_000_000, 987_654_321) },
      { name: 'sticky', mode: 0o640 | STICKY, uid: 0, gid: 7, atime: at(-5, 1), mtime: at(4_200_000_000, 999_999_999) },
      { name: 'none', mode: 0, uid: 65534, gid: 65534, atime: at(1, 0), mtime: at(2, 0) },
      { name: 'empty-ro', mode: 0o444, uid: 3, gid: 4, atime: at(10, 10), mtime: at(20, 20) },
    ];
    const nodes: Node[] = meta.map((m) => ({
      name: enc.encode(m.name), type: 'file', mode: m.mode, mtime: m.mtime, atime: m.atime, ctime: TIME, uid: m.uid, gid: m.gid,
      size: m.name === 'empty-ro' ? 0 : bytes.length, content: m.name === 'empty-ro' ? [] : [id],
      ...(m.name === 'suid' ? { extendedAttributes: [{ name: 'user.cairn', value: enc.encode('v') }] } : {}),
    }));
    const t = await treeOf(nodes);
    await repo.flush();
    const seen: string[][] = [];
    for (const verify of [false, true]) {
      const target = join(root, `meta-${verify}`);
      const warnings: RestoreWarning[] = [];
      const before = direct;
      const s = await restore(repo, t, undefined, { target, verify, onWarning: (w) => warnings.push(w) });
      expect(direct - before).toBe(3);
      // An xattr the file system refuses (user.* on some tmpfs) is the one allowed warning.
      const xattrRefused = warnings.length === 1 && warnings[0]!.path.endsWith('suid') && /setxattr/.test(warnings[0]!.message);
      if (!xattrRefused) expect(warnings).toEqual([]);
      expect(s.errors).toBe(warnings.length);
      const lines: string[] = [];
      for (const m of meta) {
        const p = join(target, m.name);
        const st = await lstat(p, { bigint: true });
        expect(Number(st.mode) & 0o7777, m.name).toBe(
          (m.mode & 0o777) | (m.mode & SETUID ? 0o4000 : 0) | (m.mode & SETGID ? 0o2000 : 0) | (m.mode & STICKY ? 0o1000 : 0),
        );
        if (isRoot) expect([st.uid, st.gid], m.name).toEqual([BigInt(m.uid), BigInt(m.gid)]);
        expect(st.atimeNs, m.name).toBe(BigInt(m.atime.sec) * 1_000_000_000n + BigInt(m.atime.nsec));
        expect(st.mtimeNs, m.name).toBe(BigInt(m.mtime.sec) * 1_000_000_000n + BigInt(m.mtime.nsec));
        expect(st.size, m.name).toBe(BigInt(m.name === 'empty-ro' ? 0 : bytes.length));
        if (m.name !== 'empty-ro') expect((await readFile(p)).equals(Buffer.from(bytes)), m.name).toBe(true);
        const x = xattrRefused ? [] : listXattrs(Buffer.from(p)).map((a) => `${Buffer.from(a.name).toString()}=${Buffer.from(a.value).toString()}`);
        lines.push(`${m.name} ${st.mode} ${st.uid} ${st.gid} ${st.atimeNs} ${st.mtimeNs} ${x.join(',')}`);
      }
      if (!xattrRefused) expect(lines[0]).toMatch(/ user\.cairn=v$/);
      seen.push(lines);
    }
    expect(seen[0]).toEqual(seen[1]);
  });

  it('many small files at once (their creations and finishes sharing native jobs) and larger ones among them each get their own bytes, mode and times', async () => {
    const nodes: Node[] = [];
    const expected = new Map<string, { bytes: Buffer; mode: number; sec: number; nsec: number }>();
    for (let f = 0; f < 150; f++) {
      // Larger files (over 1 MiB: 4 at most at once) among the small ones.
      const bytes = f % 50 === 7 ? pseudoRandom(1_200_000 + f, 500 + f) : pseudoRandom(1 + f * 37, 500 + f);
      const mode = 0o600 | (f % 0o100);
      const time = { sec: 1_500_000_000 + f, nsec: f * 1001, offset: 0 };
      nodes.push({ ...fileNode(`s${f}`, [bytes], [await blob(bytes)]), mode, mtime: time, atime: time });
      expected.set(`s${f}`, { bytes: Buffer.from(bytes), mode, sec: time.sec, nsec: time.nsec });
    }
    const t = await treeOf(nodes);
    await repo.flush();
    await restore(repo, t, undefined, { target: join(root, 'many-small-warm') }); // the pack cache fills up
    const fds = openFds();
    const before = direct;
    const target = join(root, 'many-small');
    const warnings: RestoreWarning[] = [];
    const s = await restore(repo, t, undefined, { target, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    expect(s.files).toBe(150);
    expect(direct - before).toBe(150);
    for (const [name, e] of expected) {
      const p = join(target, name);
      const st = await lstat(p, { bigint: true }); // before reading moves the atime
      expect(Number(st.mode) & 0o7777, name).toBe(e.mode);
      expect(st.mtimeNs, name).toBe(BigInt(e.sec) * 1_000_000_000n + BigInt(e.nsec));
      expect(st.atimeNs, name).toBe(BigInt(e.sec) * 1_000_000_000n + BigInt(e.nsec));
      expect((await readFile(p)).equals(e.bytes), name).toBe(true);
    }
    expect(openFds()).toBe(fds);
    expect(lent).toBe(released);
  });

  it('random files cut into random blobs restore exactly (seeded)', async () => {
    // A second tree of files made of blobs drawn from a pool, shared across files at random.
    const rand = pseudoRandom(4096, 42);
    let k = 0;
    const next = (n: number): number => {
      const v = (rand[k % rand.length]! << 8) | rand[(k + 1) % rand.length]!;
      k += 2;
      return v % n;
    };
    const pool: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) pool.push(next(2) === 0 ? pseudoRandom(1 + next(300_000), 100 + i) : enc.encode(`${i} `.repeat(1 + next(50_000))));
    const poolIds: BlobId[] = [];
    for (const p of pool) poolIds.push(await blob(p));
    const nodes: Node[] = [];
    const expected = new Map<string, Buffer>();
    for (let f = 0; f < 9; f++) {
      const picks = Array.from({ length: next(7) }, () => next(pool.length));
      nodes.push(fileNode(`f${f}`, picks.map((i) => pool[i]!), picks.map((i) => poolIds[i]!)));
      expected.set(`f${f}`, Buffer.concat(picks.map((i) => pool[i]!)));
    }
    await repo.flush();
    const t = await treeOf(nodes);
    await repo.flush();
    const target = join(root, 'random');
    const s = await restore(repo, t, undefined, { target });
    expect(s.errors).toBe(0);
    for (const [name, bytes] of expected) expect((await readFile(join(target, name))).equals(bytes), name).toBe(true);
    expect(lent).toBe(released);
  });
});
