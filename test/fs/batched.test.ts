/**
 * finishFile and openFile calls made in the same turn of the event loop share native jobs: each
 * file still gets its own result, a failure stays with its file, and errors are those of the
 * unbatched calls (fs.open's for openFile; finishFile's own shape, the path-based call's).
 */
import { closeSync, constants as FS, lstatSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { isOpen } from '../helpers/fd.js';
import { open as openPromise } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { finishFile, nativeAvailable, openFile } from '../../src/fs/native.js';

const dir = mkdtempSync(join(tmpdir(), 'cairn-batched-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b = (s: string): Buffer => Buffer.from(s);
const isRoot = process.getuid?.() === 0;
const FRESH = FS.O_WRONLY | FS.O_CREAT | FS.O_TRUNC | FS.O_NOFOLLOW;
/** What a user would see of an error. */
const shape = (e: unknown): unknown => {
  const x = e as NodeJS.ErrnoException;
  return { name: x.name, message: x.message, code: x.code, errno: x.errno, syscall: x.syscall, path: x.path };
};

describe.runIf(nativeAvailable())('finishFile in batches', () => {
  it('finishes many files given in one turn, each with its own owner, mode and times, and closes them all', async () => {
    const n = 300;
    const paths = Array.from({ length: n }, (_, i) => join(dir, `f${i}`));
    const fds = paths.map((p) => {
      writeFileSync(p, `x${p}`);
      return openSync(p, 'r+');
    });
    const results = await Promise.all(
      fds.map((fd, i) =>
        finishFile(fd, b(paths[i]!), isRoot ? { uid: 1000 + i, gid: 2000 + i } : undefined, 0o600 + (i % 0o100), { sec: 1_000 + i, nsec: i }, { sec: 2_000_000 + i, nsec: 999_999_000 + i }),
      ),
    );
    expect(results).toEqual(fds.map(() => ({})));
    for (let i = 0; i < n; i++) {
      expect(isOpen(fds[i]!)).toBe(false);
      const st = lstatSync(paths[i]!, { bigint: true });
      expect(Number(st.mode) & 0o7777).toBe(0o600 + (i % 0o100));
      expect(st.atimeNs).toBe(BigInt(1_000 + i) * 1_000_000_000n + BigInt(i));
      expect(st.mtimeNs).toBe(BigInt(2_000_000 + i) * 1_000_000_000n + BigInt(999_999_000 + i));
      if (isRoot) expect([st.uid, st.gid]).toEqual([BigInt(1000 + i), BigInt(2000 + i)]);
    }
  });

  it('a failure in the middle of a batch is that file\'s only, shaped as when the file is finished alone', async () => {
    const paths = Array.from({ length: 9 }, (_, i) => join(dir, `m${i}`));
    const fds = paths.map((p) => {
      writeFileSync(p, '');
      return openSync(p, 'r');
    });
    closeSync(fds[4]!); // every call on it fails with EBADF
    const results = await Promise.all(fds.map((fd, i) => finishFile(fd, b(paths[i]!), { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, 0o640, { sec: 5, nsec: 6 }, { sec: 7, nsec: 8 })));
    for (let i = 0; i < fds.length; i++) {
      if (i === 4) continue;
      expect(results[i]).toEqual({});
      expect(lstatSync(paths[i]!).mode & 0o7777).toBe(0o640);
    }
    const bad = results[4]!;
    expect(shape(bad.metadata)).toEqual({ name: 'Error', message: `EBADF: bad file descriptor, chown '${paths[4]!}'`, code: 'EBADF', errno: -9, syscall: 'chown', path: paths[4]! });
    expect(shape(bad.close)).toEqual({ name: 'Error', message: 'EBADF: bad file descriptor, close', code: 'EBADF', errno: -9, syscall: 'close', path: undefined });
    // Alone, in a turn of its own: the same result.
    const alone = await finishFile(fds[4]!, b(paths[4]!), { uid: 0, gid: 0 }, 0o640, { sec: 5, nsec: 6 }, { sec: 7, nsec: 8 });
    expect(shape(alone.metadata)).toEqual(shape(bad.metadata));
    expect(shape(alone.close)).toEqual(shape(bad.close));
  });

  it('refuses a bad argument synchronously, doing nothing for that file, and the others of the turn go on', async () => {
    const p1 = join(dir, 'r1');
    const p2 = join(dir, 'r2');
    writeFileSync(p1, '');
    writeFileSync(p2, '');
    const fd1 = openSync(p1, 'r');
    const fd2 = openSync(p2, 'r');
    const mode2 = lstatSync(p2).mode;
    try {
      const ok = finishFile(fd1, b(p1), undefined, 0o604, { sec: 1, nsec: 0 }, { sec: 2, nsec: 0 });
      expect(() => finishFile(fd2, b(p2), undefined, 0o644, { sec: 1, nsec: 1_000_000_000 }, { sec: 2, nsec: 0 })).toThrow(RangeError);
      expect(() => finishFile(fd2, b(p2), undefined, 0o10000, { sec: 1, nsec: 0 }, { sec: 2, nsec: 0 })).toThrow(RangeError);
      expect(() => finishFile(fd2, b(p2), undefined, 0o644, { sec: 0.5, nsec: 0 }, { sec: 2, nsec: 0 })).toThrow(RangeError);
      expect(() => finishFile(fd2, b(p2), undefined, 0o644, { sec: 1, nsec: 0 }, { sec: Number.MAX_SAFE_INTEGER + 2, nsec: 0 })).toThrow(RangeError);
      expect(await ok).toEqual({});
      expect(lstatSync(p1).mode & 0o7777).toBe(0o604);
      expect(isOpen(fd2)).toBe(true);
      expect(lstatSync(p2).mode).toBe(mode2);
    } finally {
      closeSync(fd2);
    }
  });
});

describe.runIf(nativeAvailable())('openFile in batches', () => {
  it('creates many files in one turn, each its own descriptor, with the mode (umask) and close-on-exec', async () => {
    const paths = Array.from({ length: 200 }, (_, i) => join(dir, `o${i}`));
    writeFileSync(paths[7]!, 'longer content, truncated'); // exists: O_TRUNC empties it
    const fds = await Promise.all(paths.map((p) => openFile(b(p), FRESH, 0o600)));
    expect(new Set(fds).size).toBe(paths.length);
    const umask = process.umask();
    for (let i = 0; i < paths.length; i++) {
      writeSync(fds[i]!, `file ${i}`);
      const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fds[i]!}`, 'utf8'))?.[1];
      expect(parseInt(flags ?? '0', 8) & 0o2000000).toBe(0o2000000); // O_CLOEXEC
      closeSync(fds[i]!);
      expect(readFileSync(paths[i]!, 'utf8')).toBe(`file ${i}`);
      if (i !== 7) expect(lstatSync(paths[i]!).mode & 0o7777).toBe(0o600 & ~umask);
    }
  });

  it('a failure in the middle of a batch rejects that file only, with fs.open\'s very error', async () => {
    const link = join(dir, 'link');
    symlinkSync(join(dir, 'o0'), link);
    const bad = [join(dir, 'missing', 'x'), link, dir];
    const paths = [join(dir, 'ok1'), bad[0]!, join(dir, 'ok2'), bad[1]!, bad[2]!, join(dir, 'ok3')];
    const settled = await Promise.allSettled(paths.map((p) => openFile(b(p), FRESH, 0o600)));
    for (const [i, s] of settled.entries()) {
      if (!bad.includes(paths[i]!)) {
        expect(s.status).toBe('fulfilled');
        closeSync((s as PromiseFulfilledResult<number>).value);
        continue;
      }
      expect(s.status).toBe('rejected');
      const node = await openPromise(b(paths[i]!), FRESH, 0o600).then(
        (fh) => fh.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(node).toBeDefined();
      expect(shape((s as PromiseRejectedResult).reason)).toEqual(shape(node));
    }
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
  });

  it('keeps calls with different flags apart in one turn', async () => {
    const p = join(dir, 'flags');
    writeFileSync(p, 'keep');
    const [a, c] = await Promise.all([openFile(b(p), FS.O_RDONLY, 0), openFile(b(join(dir, 'flags2')), FRESH, 0o600)]);
    expect(readFileSync(p, 'utf8')).toBe('keep'); // not truncated
    closeSync(a);
    closeSync(c);
    expect(() => openFile(b('a\0b'), FRESH, 0o600)).toThrow(TypeError);
  });
});
