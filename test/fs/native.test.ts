/**
 * cairn's native addon: extended attributes, nanosecond times and special files, as a restore
 * must reproduce them. Runs as root (device nodes need CAP_MKNOD; trusted.* xattrs on symlinks,
 * since Linux allows user.* only on regular files and directories).
 */
import {
  closeSync,
  lstatSync,
  openSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { isOpen } from '../helpers/fd.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { finishFile, listXattrs, makeNode, nativeAvailable, scanDirectory, setTimes, setXattr } from '../../src/fs/native.js';
import { nativeAddon, trimRetainedMemory } from '../../src/util/native-addon.js';

const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const isRoot = process.getuid?.() === 0;

/** A tmpfs directory whose file system takes user.* xattrs (Linux 6.6+), or undefined. */
const shm = ((): string | undefined => {
  try {
    const d = mkdtempSync('/dev/shm/cairn-native-');
    try {
      const probe = join(d, 'probe');
      writeFileSync(probe, '');
      setXattr(Buffer.from(probe), Buffer.from('user.probe'), new Uint8Array(4096));
      return d;
    } catch {
      rmSync(d, { recursive: true, force: true });
      return undefined;
    }
  } catch {
    return undefined;
  }
})();

let dir = '';
let seq = 0;
/** A fresh path (bytes) in the test directory, not yet created. */
function fresh(label: string): Buffer {
  return Buffer.from(join(dir, `${label}-${seq++}`));
}
function file(label: string, content = 'x'): Buffer {
  const p = fresh(label);
  writeFileSync(p, content);
  return p;
}
const b = (s: string): Buffer => Buffer.from(s, 'latin1');
/** `n` bytes of a repeating pattern that includes NUL and 0xff. */
const pattern = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 0xff);
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
/** The attributes as a name → value (hex) map, plus the list length to catch duplicates. */
function attrs(path: Uint8Array): { count: number; map: Record<string, string> } {
  const list = listXattrs(path);
  return { count: list.length, map: Object.fromEntries(list.map((x) => [Buffer.from(x.name).toString('latin1'), hex(x.value)])) };
}
/** What an fs call throws, for asserting on its code. */
function thrown(f: () => unknown): NodeJS.ErrnoException {
  try {
    f();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected a throw');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-native-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (shm !== undefined) rmSync(shm, { recursive: true, force: true });
});

describe('native addon', () => {
  it('is built and loads', () => {
    expect(nativeAvailable()).toBe(true);
  });

  it("sets glibc's trim threshold for the executable, and refuses a size malloc cannot take", () => {
    // Debian's C library is glibc: the setting takes.
    expect(trimRetainedMemory()).toBe(true);
    const trim = nativeAddon<{ trimMalloc(bytes: number): boolean }>()!.trimMalloc;
    for (const bad of [-1, 2 ** 31, 1.5, Number.NaN]) expect(thrown(() => trim(bad)).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('when missing, importing still works and each call says how to build it', async () => {
    vi.resetModules();
    vi.doMock('node:module', () => ({
      createRequire: () => () => {
        throw Object.assign(new Error('Cannot find module cairn_native.node'), { code: 'MODULE_NOT_FOUND' });
      },
    }));
    try {
      // The executable's malloc setting is skipped, not an error: the library works without it.
      const addon = await import('../../src/util/native-addon.js');
      expect(addon.trimRetainedMemory()).toBe(false);
      const missing = await import('../../src/fs/native.js');
      // The fresh module graph has its own CairnError class: compare by name and code.
      const { isCairnError } = await import('../../src/errors.js');
      expect(missing.nativeAvailable()).toBe(false);
      const e = thrown(() => missing.setTimes(b('/x'), { sec: 0, nsec: 0 }, { sec: 0, nsec: 0 }, false));
      expect(isCairnError(e, 'ERR_UNSUPPORTED')).toBe(true);
      expect(e.message).toContain('npm run build:native');
      for (const call of [() => missing.listXattrs(b('/x')), () => missing.setXattr(b('/x'), b('user.a'), b('')), () => missing.makeNode(b('/x'), S_IFIFO, 0n), () => missing.finishFile(-1, b('/x'), undefined, 0o644, { sec: 0, nsec: 0 }, { sec: 0, nsec: 0 })]) {
        expect(isCairnError(thrown(call), 'ERR_UNSUPPORTED')).toBe(true);
      }
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });
});

describe('extended attributes', () => {
  it('a file with none lists none', () => {
    expect(listXattrs(file('plain'))).toEqual([]);
  });

  it('round-trips binary values (NUL bytes, empty, larger than the first read buffer) on a file', () => {
    const p = file('f');
    // ext4 without ea_inode keeps all of a file's attributes in one 4 KiB block: 3000 bytes fit.
    const big = pattern(3000);
    setXattr(p, b('user.binary'), new Uint8Array([0, 1, 0, 255, 0]));
    setXattr(p, b('user.empty'), new Uint8Array(0));
    setXattr(p, b('user.big'), big);
    const got = attrs(p);
    expect(got.count).toBe(3);
    expect(got.map).toEqual({ 'user.binary': '000100ff00', 'user.empty': '', 'user.big': hex(big) });
  });

  it.runIf(shm !== undefined)('round-trips a 4 KiB value (on tmpfs: ext4 cannot hold one)', () => {
    const p = Buffer.from(join(shm!, 'four-k'));
    writeFileSync(p, 'x');
    const big = pattern(4096);
    setXattr(p, b('user.4k'), big);
    setXattr(p, b('user.nul'), new Uint8Array(3));
    expect(attrs(p).map).toEqual({ 'user.4k': hex(big), 'user.nul': '000000' });
  });

  it('reports a value too large for any Linux file system (over 64 KiB) as E2BIG', () => {
    const e = thrown(() => setXattr(file('huge'), b('user.huge'), new Uint8Array(65537)));
    expect([e.code, e.syscall]).toEqual(['E2BIG', 'lsetxattr']);
  });

  it('replaces a value, bigger then smaller', () => {
    const p = file('replace');
    setXattr(p, b('user.v'), b('short'));
    setXattr(p, b('user.v'), new Uint8Array(3000).fill(0x41));
    expect(attrs(p).map['user.v']).toBe('41'.repeat(3000));
    setXattr(p, b('user.v'), b('s'));
    expect(attrs(p).map).toEqual({ 'user.v': hex(b('s')) });
  });

  it('lists many attributes (a list far beyond the first buffer)', () => {
    const p = file('many');
    const want: Record<string, string> = {};
    // 50 names take 1250 bytes of list (more than the first read); ext4 holds them in its block.
    for (let i = 0; i < 50; i++) {
      const name = `user.many-attribute-${String(i).padStart(4, '0')}`;
      const value = b(`value ${i}`);
      setXattr(p, b(name), value);
      want[name] = hex(value);
    }
    const got = attrs(p);
    expect(got.count).toBe(50);
    expect(got.map).toEqual(want);
  });

  it('round-trips on a directory', () => {
    const p = fresh('d');
    mkdirSync(p);
    setXattr(p, b('user.dir'), b('on a directory\0!'));
    expect(attrs(p).map).toEqual({ 'user.dir': hex(b('on a directory\0!')) });
  });

  it.runIf(isRoot)('round-trips on a symlink itself, never its target', () => {
    const target = file('target');
    const link = fresh('link');
    symlinkSync(target, link);
    setXattr(link, b('trusted.cairn'), new Uint8Array([0, 0xff, 0]));
    setXattr(target, b('user.target'), b('t'));
    expect(attrs(link).map).toEqual({ 'trusted.cairn': '00ff00' });
    expect(attrs(target).map).toEqual({ 'user.target': hex(b('t')) });
  });

  it('user.* on a symlink is refused by Linux with EPERM', () => {
    const link = fresh('link-user');
    symlinkSync(file('t2'), link);
    expect(thrown(() => setXattr(link, b('user.x'), b('v'))).code).toBe('EPERM');
  });

  it('takes names with non-UTF-8 bytes, and lists them back byte for byte', () => {
    const p = file('raw-name');
    const name = Buffer.concat([b('user.'), Buffer.from([0xff, 0xfe, 0x80, 0x41])]);
    setXattr(p, name, b('v'));
    const list = listXattrs(p);
    expect(list).toHaveLength(1);
    expect(hex(list[0]!.name)).toBe(hex(name));
  });

  it('accepts a Uint8Array view at an offset (not only a Buffer)', () => {
    const p = file('view');
    const backing = new Uint8Array(64);
    const path = new Uint8Array(backing.buffer, 5, p.length);
    path.set(p);
    const value = new Uint8Array(backing.buffer, 40, 3);
    value.set([9, 8, 7]);
    setXattr(path, new TextEncoder().encode('user.view'), value);
    expect(attrs(p).map).toEqual({ 'user.view': '090807' });
  });

  it('fails with Node-style errors: code, errno, syscall, path in the message', () => {
    const missing = Buffer.from(join(dir, 'missing'));
    const set = thrown(() => setXattr(missing, b('user.x'), b('v')));
    expect(set).toBeInstanceOf(Error);
    expect(set.code).toBe('ENOENT');
    expect(set.errno).toBe(-2);
    expect(set.syscall).toBe('lsetxattr');
    expect(set.message).toBe(`ENOENT: no such file or directory, lsetxattr '${join(dir, 'missing')}'`);
    const list = thrown(() => listXattrs(missing));
    expect([list.code, list.syscall]).toEqual(['ENOENT', 'llistxattr']);
  });

  it('refuses a path or name holding a NUL byte (it would name something else)', () => {
    const p = file('nul');
    expect(thrown(() => listXattrs(Buffer.concat([p, Buffer.from([0, 0x41])]))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => setXattr(p, Buffer.from('user.a\0b'), b('v'))).code).toBe('ERR_INVALID_ARG_VALUE');
  });
});

describe('setTimes', () => {
  const ns = (sec: number, nsec: number): bigint => BigInt(sec) * 1_000_000_000n + BigInt(nsec);

  it('sets atime and mtime to the nanosecond', () => {
    const p = file('times');
    setTimes(p, { sec: 1_600_000_000, nsec: 123_456_789 }, { sec: 1_500_000_000, nsec: 987_654_321 }, true);
    const st = lstatSync(p, { bigint: true });
    expect(st.atimeNs).toBe(ns(1_600_000_000, 123_456_789));
    expect(st.mtimeNs).toBe(ns(1_500_000_000, 987_654_321));
  });

  it('sets times before 1970 and after 2038', () => {
    const p = file('far');
    setTimes(p, { sec: -1_000_000_000, nsec: 1 }, { sec: -86_400 * 365 * 10 - 7, nsec: 999_999_999 }, false);
    let st = lstatSync(p, { bigint: true });
    expect(st.atimeNs).toBe(ns(-1_000_000_000, 1));
    expect(st.mtimeNs).toBe(ns(-86_400 * 365 * 10 - 7, 999_999_999));
    // 2038-01-19T03:14:08Z is 2^31; ext4 stores up to 2446, so 2200 and 2400 must survive.
    setTimes(p, { sec: 2 ** 31, nsec: 5 }, { sec: 13_569_465_600, nsec: 500_000_001 }, false);
    st = lstatSync(p, { bigint: true });
    expect(st.atimeNs).toBe(ns(2 ** 31, 5));
    expect(st.mtimeNs).toBe(ns(13_569_465_600, 500_000_001));
  });

  it("sets a symlink's own times without following it, or the target's when asked", () => {
    const target = file('ttarget');
    const link = fresh('tlink');
    symlinkSync(target, link);
    const before = lstatSync(target, { bigint: true }).mtimeNs;
    setTimes(link, { sec: 1_000_000_000, nsec: 111 }, { sec: 1_000_000_001, nsec: 222 }, false);
    expect(lstatSync(link, { bigint: true }).mtimeNs).toBe(ns(1_000_000_001, 222));
    expect(lstatSync(target, { bigint: true }).mtimeNs).toBe(before);
    setTimes(link, { sec: 1_200_000_000, nsec: 333 }, { sec: 1_200_000_001, nsec: 444 }, true);
    expect(lstatSync(target, { bigint: true }).mtimeNs).toBe(ns(1_200_000_001, 444));
    expect(lstatSync(link, { bigint: true }).mtimeNs).toBe(ns(1_000_000_001, 222));
  });

  it('rejects nanoseconds outside 0..999999999 (UTIME_NOW/UTIME_OMIT cannot slip through)', () => {
    const p = file('range');
    const t = { sec: 0, nsec: 0 };
    expect(thrown(() => setTimes(p, { sec: 0, nsec: 1_000_000_000 }, t, false)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => setTimes(p, t, { sec: 0, nsec: (1 << 30) - 1 }, false)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => setTimes(p, t, { sec: 0, nsec: -1 }, false)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => setTimes(p, { sec: 1.5, nsec: 0 }, t, false)).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('fails with ENOENT on a missing path', () => {
    const e = thrown(() => setTimes(fresh('gone'), { sec: 0, nsec: 0 }, { sec: 0, nsec: 0 }, true));
    expect([e.code, e.syscall]).toEqual(['ENOENT', 'utimensat']);
  });
});

describe('makeNode', () => {
  it('creates a FIFO', () => {
    const p = fresh('fifo');
    makeNode(p, S_IFIFO | 0o644, 0n);
    const st = lstatSync(p);
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o644 & ~process.umask());
  });

  it.runIf(isRoot)('creates a character device with the rdev stat reports (1,3 like /dev/null)', () => {
    const devNull = statSync('/dev/null', { bigint: true }).rdev;
    const p = fresh('chr');
    makeNode(p, S_IFCHR | 0o600, devNull);
    const st = lstatSync(p, { bigint: true });
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(devNull);
    expect(st.rdev).toBe((1n << 8n) | 3n);
  });

  it.runIf(isRoot)('creates a block device, with major and minor beyond 8 bits', () => {
    // glibc's makedev(259, 300): minor low byte | major << 8 | minor high bits << 12.
    const major = 259n;
    const minor = 300n;
    const rdev = (minor & 0xffn) | (major << 8n) | ((minor & ~0xffn) << 12n);
    const p = fresh('blk');
    makeNode(p, S_IFBLK | 0o600, rdev);
    const st = lstatSync(p, { bigint: true });
    expect(st.isBlockDevice()).toBe(true);
    expect(st.rdev).toBe(rdev);
  });

  it('fails with EEXIST over an existing file and ENOENT in a missing directory', () => {
    const e = thrown(() => makeNode(file('exists'), S_IFIFO | 0o600, 0n));
    expect([e.code, e.syscall]).toEqual(['EEXIST', 'mknod']);
    const missing = Buffer.from(join(dir, 'no-such-dir', 'fifo'));
    expect(thrown(() => makeNode(missing, S_IFIFO | 0o600, 0n)).code).toBe('ENOENT');
  });
});

describe('non-UTF-8 paths', () => {
  it('works on a path whose name holds 0xff, never decoding it', () => {
    const raw = (tail: number[]): Buffer => Buffer.concat([Buffer.from(dir + '/'), Buffer.from(tail)]);
    const fifo = raw([0x66, 0xff, 0xfe, 0x2e, 0x80]);
    makeNode(fifo, S_IFIFO | 0o600, 0n);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const p = raw([0x67, 0xff, 0xc3, 0x28]);
    writeFileSync(p, 'raw');
    setXattr(p, b('user.raw'), b('bytes'));
    expect(attrs(p).map).toEqual({ 'user.raw': hex(b('bytes')) });
    setTimes(p, { sec: 42, nsec: 424_242_424 }, { sec: 43, nsec: 434_343_434 }, false);
    expect(lstatSync(p, { bigint: true }).mtimeNs).toBe(43_434_343_434n);
    // A decoded-and-re-encoded name (U+FFFD for each bad byte) would be a different file.
    expect(() => lstatSync(Buffer.from(p.toString('utf8')))).toThrow();
    expect(() => lstatSync(Buffer.from(fifo.toString('utf8')))).toThrow();
  });
});

describe('directory listing (scanDirectory)', () => {
  const readDirectory = async (p: Uint8Array): Promise<Buffer[]> => (await scanDirectory(p)).names;
  const atimeOf = (p: Buffer): bigint => lstatSync(p, { bigint: true }).atimeNs;

  it('lists every name as raw bytes, without . and .., thousands of them', async () => {
    const d = fresh('listing');
    mkdirSync(d);
    const names = [b('plain'), Buffer.from([0x62, 0x61, 0x64, 0xff]), b('new\nline'), b('.hidden'), b('..dots')];
    for (let i = 0; i < 3000; i++) names.push(b(`f${i}`));
    for (const n of names) writeFileSync(Buffer.concat([d, b('/'), n]), '');
    const got = await readDirectory(d);
    expect(got.every((n) => Buffer.isBuffer(n))).toBe(true);
    expect(got.map((n) => n.toString('hex')).sort()).toEqual(names.map((n) => n.toString('hex')).sort());
  });

  it('an empty directory lists nothing', async () => {
    const d = fresh('empty');
    mkdirSync(d);
    expect(await readDirectory(d)).toEqual([]);
  });

  it('leaves the directory access time alone (O_NOATIME)', async () => {
    const d = fresh('atime');
    mkdirSync(d);
    writeFileSync(join(d.toString(), 'x'), '');
    // An atime far in the past: relatime would update it on the next read.
    setTimes(d, { sec: 1_000_000_000, nsec: 123 }, { sec: 1_000_000_001, nsec: 0 }, false);
    await readDirectory(d);
    expect(atimeOf(d)).toBe(1_000_000_000_000_000_123n);
  });

  it('refuses to follow a symlink (Linux answers ENOTDIR for O_DIRECTORY|O_NOFOLLOW), a file (ENOTDIR) and a missing path (ENOENT), with Node-style errors', async () => {
    const target = fresh('real');
    mkdirSync(target);
    const link = fresh('link');
    symlinkSync(target, link);
    const rejection = async (p: Uint8Array): Promise<NodeJS.ErrnoException> => {
      try {
        await readDirectory(p);
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
      throw new Error('expected a rejection');
    };
    const loop = await rejection(link);
    expect(['ELOOP', 'ENOTDIR']).toContain(loop.code);
    expect(loop.syscall).toBe('open');
    expect(loop.message).toContain(link.toString());
    expect((await rejection(file('plain-file'))).code).toBe('ENOTDIR');
    expect((await rejection(fresh('missing'))).code).toBe('ENOENT');
  });

  it('refuses a path holding a NUL byte', async () => {
    await expect(async () => readDirectory(Buffer.from(`${dir}/a\0b`))).rejects.toThrow(/null bytes/);
  });
});

describe('finishFile (a restored file\'s owner, mode and times on its descriptor, then close)', () => {
  const ns = (sec: number, nsec: number): bigint => BigInt(sec) * 1_000_000_000n + BigInt(nsec);

  it('sets owner, mode (setuid and setgid kept: chmod after chown) and times to the nanosecond, and closes', async () => {
    const p = file('finish', 'content');
    const fd = openSync(p, 'r+');
    const owner = isRoot ? { uid: 1234, gid: 5678 } : undefined;
    const r = await finishFile(fd, p, owner, 0o6751, { sec: 1_600_000_000, nsec: 123_456_789 }, { sec: -1_000, nsec: 5 });
    expect(r).toEqual({});
    expect(isOpen(fd)).toBe(false);
    const st = lstatSync(p, { bigint: true });
    expect(Number(st.mode) & 0o7777).toBe(0o6751);
    if (isRoot) {
      expect(st.uid).toBe(1234n);
      expect(st.gid).toBe(5678n);
    }
    expect(st.atimeNs).toBe(ns(1_600_000_000, 123_456_789));
    expect(st.mtimeNs).toBe(ns(-1_000, 5));
  });

  it('without an owner leaves the owner alone', async () => {
    const p = file('finish-noowner');
    const before = lstatSync(p);
    const r = await finishFile(openSync(p, 'r'), p, undefined, 0o600, { sec: 1, nsec: 0 }, { sec: 2, nsec: 0 });
    expect(r).toEqual({});
    const st = lstatSync(p);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([before.uid, before.gid, 0o600]);
  });

  it('reports the first call that failed as the path-based call would (code, syscall, path), and the failing close like FileHandle.close', async () => {
    const p = file('finish-bad');
    const fd = openSync(p, 'r');
    closeSync(fd); // a descriptor no longer open: every call fails with EBADF
    const r = await finishFile(fd, p, { uid: 0, gid: 0 }, 0o644, { sec: 1, nsec: 0 }, { sec: 2, nsec: 0 });
    expect(r.metadata?.code).toBe('EBADF');
    expect(r.metadata?.syscall).toBe('chown');
    expect(r.metadata?.message).toBe(`EBADF: bad file descriptor, chown '${p.toString()}'`);
    expect(r.close?.code).toBe('EBADF');
    expect(r.close?.message).toBe('EBADF: bad file descriptor, close');
    const r2 = await finishFile(fd, p, undefined, 0o644, { sec: 1, nsec: 0 }, { sec: 2, nsec: 0 });
    expect(r2.metadata?.syscall).toBe('chmod');
  });

  it('refuses out-of-range arguments synchronously, doing nothing: the descriptor stays open', () => {
    const p = file('finish-range');
    const fd = openSync(p, 'r');
    const mode = lstatSync(p).mode;
    try {
      expect(() => finishFile(fd, p, undefined, 0o644, { sec: 1, nsec: 1_000_000_000 }, { sec: 2, nsec: 0 })).toThrow(RangeError);
      expect(() => finishFile(fd, p, undefined, 0o10000, { sec: 1, nsec: 0 }, { sec: 2, nsec: 0 })).toThrow(RangeError);
      expect(isOpen(fd)).toBe(true);
      expect(lstatSync(p).mode).toBe(mode);
    } finally {
      closeSync(fd);
    }
  });
});
