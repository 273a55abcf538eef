/**
 * The archiver's batched file-system calls: a directory scan (names in byte order, each with its
 * lstat and whether it has xattrs) and whole reads of small files (bytes and the stat after the
 * read). Natively each is one thread-pool job; the results must match Node's fs field for field,
 * errors included, so that a snapshot is the same with or without the addon.
 */
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, type BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAvailable, readSmall, scanDirectory, setXattr } from '../../src/fs/native.js';
import { readWhole, scanDir } from '../../src/fs/read.js';
import { nativeAddon } from '../../src/util/native-addon.js';

const FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'atimeNs', 'mtimeNs', 'ctimeNs'] as const;
const TYPES = ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isBlockDevice', 'isCharacterDevice'] as const;

function same(actual: BigIntStats, expected: BigIntStats): void {
  for (const f of FIELDS) expect(actual[f], f).toBe(expected[f]);
  for (const t of TYPES) expect(actual[t](), t).toBe(expected[t]());
  expect(actual.mtime.getTime()).toBe(expected.mtime.getTime());
}

let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-scan-'));
  const d = join(dir, 'tree');
  mkdirSync(d);
  for (let i = 0; i < 300; i++) writeFileSync(join(d, `f${i}`), 'x'.repeat(i));
  mkdirSync(join(d, 'sub'));
  symlinkSync('f1', join(d, 'link'));
  mkfifoSync(join(d, 'fifo'));
  writeFileSync(join(d, Buffer.from([0x61, 0xff, 0x62]).toString('latin1')), 'latin1 name');
  execFileSync('touch', ['-d', '1969-07-20 20:17:40.123456789 UTC', '-h', join(d, 'link')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mkfifoSync(p: string): void {
  execFileSync('mkfifo', [p]);
}

describe.runIf(nativeAvailable())('scanDirectory', () => {
  it('lists every entry in byte order with the same lstat as Node (nanosecond and pre-1970 times)', async () => {
    const path = Buffer.from(join(dir, 'tree'));
    const scan = await scanDirectory(path);
    const sorted = [...scan.names].sort(Buffer.compare);
    expect(scan.names.map((n) => n.toString('hex'))).toEqual(sorted.map((n) => n.toString('hex')));
    expect(scan.names).toHaveLength(304);
    for (let i = 0; i < scan.names.length; i++) {
      const st = scan.stat(i);
      if (st instanceof Error) throw st;
      same(st, lstatSync(Buffer.concat([path, Buffer.from('/'), scan.names[i]!]), { bigint: true }));
      expect(st.hasXattrs).toBe(false);
      expect(scan.isDirectory(i)).toBe(st.isDirectory());
    }
  });

  it('matches the fallback (readdir + lstat) entry for entry', async () => {
    const path = Buffer.from(join(dir, 'tree'));
    const [a, b] = [await scanDirectory(path), await scanDirectory(path)];
    const fallback = await Promise.all(b.names.map((n) => lstat(Buffer.concat([path, Buffer.from('/'), n]), { bigint: true })));
    a.names.forEach((_, i) => {
      same(a.stat(i) as BigIntStats, fallback[i]!);
      expect(a.isDirectory(i)).toBe(fallback[i]!.isDirectory());
    });
  });

  it('says which entries have extended attributes', async (ctx) => {
    const d = join(dir, 'xattrs');
    mkdirSync(d);
    writeFileSync(join(d, 'with'), '');
    writeFileSync(join(d, 'without'), '');
    try {
      setXattr(Buffer.from(join(d, 'with')), Buffer.from('user.k'), Buffer.from('v'));
    } catch {
      ctx.skip(); // this file system takes no user.* attributes
    }
    const scan = await scanDirectory(Buffer.from(d));
    expect(scan.names.map((_, i) => (scan.stat(i) as { hasXattrs?: boolean }).hasXattrs)).toEqual([true, false]);
    // Not asked (a scan with a parent tree): unknown for every entry, the stats the same.
    const quick = await scanDirectory(Buffer.from(d), { xattrs: false });
    expect(quick.names.map((_, i) => (quick.stat(i) as { hasXattrs?: boolean }).hasXattrs)).toEqual([undefined, undefined]);
    quick.names.forEach((_, i) => same(quick.stat(i) as BigIntStats, scan.stat(i) as BigIntStats));
  });

  it('rejects for a directory it cannot list, with Node-style errors', async () => {
    await expect(scanDirectory(Buffer.from(join(dir, 'missing')))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await expect(scanDirectory(Buffer.from(join(dir, 'tree', 'link')))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe.runIf(nativeAvailable())('readSmall', () => {
  it('reads many files at once, each whole, with the stat after the read', async () => {
    const paths = Array.from({ length: 300 }, (_, i) => Buffer.from(join(dir, 'tree', `f${i}`)));
    const reads = await Promise.all(paths.map((p, i) => readSmall(p, i)));
    reads.forEach((r, i) => {
      expect(r.data.toString()).toBe('x'.repeat(i));
      same(r.stat, lstatSync(paths[i]!, { bigint: true }));
    });
  });

  it('reads no more than asked, and fewer when the file is shorter', async () => {
    const p = Buffer.from(join(dir, 'tree', 'f10'));
    expect((await readSmall(p, 4)).data.toString()).toBe('xxxx');
    const r = await readSmall(p, 100);
    expect(r.data.length).toBe(10);
    expect(r.stat.size).toBe(10n);
  });

  it('fails one file without failing the others in its batch, with Node-style errors naming the call', async () => {
    const ok = readSmall(Buffer.from(join(dir, 'tree', 'f3')), 3);
    const missing = readSmall(Buffer.from(join(dir, 'tree', 'nope')), 3);
    const link = readSmall(Buffer.from(join(dir, 'tree', 'link')), 3);
    const directory = readSmall(Buffer.from(join(dir, 'tree', 'sub')), 3);
    expect((await ok).data.toString()).toBe('xxx');
    await expect(missing).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', message: `ENOENT: no such file or directory, open '${join(dir, 'tree', 'nope')}'` });
    await expect(link).rejects.toMatchObject({ code: 'ELOOP', syscall: 'open' });
    await expect(directory).rejects.toMatchObject({ code: 'EISDIR', syscall: 'read' });
  });

  it('a read keeps its bytes until released, whatever is read meanwhile; released memory holds later reads', async () => {
    // Files of distinct bytes, read in rounds of concurrent batches; each round releases a random
    // part of what it holds, and every held read is checked after each round.
    const root = join(dir, 'slabs');
    mkdirSync(root);
    const files = Array.from({ length: 64 }, (_, i) => {
      const p = join(root, `s${i}`);
      const bytes = Buffer.alloc(1 + ((i * 7919) % 300_000), (i * 37 + 11) & 0xff);
      writeFileSync(p, bytes);
      return { path: Buffer.from(p), bytes };
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(fc.nat(63), { minLength: 1, maxLength: 40 }), fc.array(fc.boolean(), { maxLength: 40 })), { minLength: 1, maxLength: 6 }), async (rounds) => {
        const held: Array<{ read: Awaited<ReturnType<typeof readSmall>>; want: Buffer }> = [];
        const buffers = new Set<ArrayBufferLike>();
        let released = 0;
        for (const [picks, drops] of rounds) {
          const reads = await Promise.all(picks.map((i) => readSmall(files[i]!.path, files[i]!.bytes.length)));
          reads.forEach((read, k) => {
            buffers.add(read.data.buffer);
            held.push({ read, want: files[picks[k]!]!.bytes });
          });
          for (const h of held) expect(h.read.data.equals(h.want)).toBe(true);
          for (let k = drops.length - 1; k >= 0; k--) {
            if (!drops[k] || k >= held.length) continue;
            held[k]!.read.release();
            held[k]!.read.release(); // twice: no effect
            held.splice(k, 1);
            released++;
          }
        }
        for (const h of held) expect(h.read.data.equals(h.want)).toBe(true);
        for (const h of held) h.read.release();
        expect(buffers.size).toBeGreaterThan(0);
      }),
      { seed: 7, numRuns: 40 },
    );
    // Batches released whole come back: two reads of about the same size (39,596 and 31,677
    // bytes), one after the other, go into the same memory.
    const first = await readSmall(files[5]!.path, files[5]!.bytes.length);
    const slab = first.data.buffer;
    first.release();
    const second = await readSmall(files[4]!.path, files[4]!.bytes.length);
    expect(second.data.buffer).toBe(slab);
    expect(second.data.equals(files[4]!.bytes)).toBe(true);
    second.release();
  });

  it('the native call refuses a destination shorter than the bytes asked for, or none, before reading anything', () => {
    const addon = nativeAddon<{ readFiles(paths: unknown, maxBytes: unknown, into?: unknown): Promise<unknown> }>()!;
    const p = [Buffer.from(join(dir, 'tree', 'f10'))];
    expect(() => addon.readFiles(p, [10], Buffer.alloc(9))).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }) as Error);
    expect(() => addon.readFiles(p, [10], 'not bytes')).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }) as Error);
    expect(() => addon.readFiles(p, [10])).toThrow(expect.objectContaining({ code: 'ERR_MISSING_ARGS' }) as Error);
  });

  it('leaves the access time alone (O_NOATIME)', async () => {
    const p = join(dir, 'atime');
    writeFileSync(p, 'data');
    execFileSync('touch', ['-a', '-d', '2001-01-01', p]);
    const before = statSync(p, { bigint: true }).atimeNs;
    await readSmall(Buffer.from(p), 4);
    expect(statSync(p, { bigint: true }).atimeNs).toBe(before);
  });
});

describe('scanDir and readWhole (native or not) agree with Node’s fs', () => {
  it('scanDir', async () => {
    const path = Buffer.from(join(dir, 'tree'));
    const scan = await scanDir(path);
    expect(scan.names).toHaveLength(304);
    for (let i = 0; i < scan.names.length; i++) same(scan.stat(i) as BigIntStats, lstatSync(Buffer.concat([path, Buffer.from('/'), scan.names[i]!]), { bigint: true }));
  });

  it('readWhole', async () => {
    const p = Buffer.from(join(dir, 'tree', 'f7'));
    const r = await readWhole(p, 7);
    expect(Buffer.from(r.data).toString()).toBe('xxxxxxx');
    same(r.stat, lstatSync(p, { bigint: true }));
    await expect(readWhole(Buffer.from(join(dir, 'nope')), 1)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });
});
