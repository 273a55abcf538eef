/**
 * The tree comparison can fail: a case tree equals itself, a second build of it and an exact copy,
 * and each single mutation of a copy is reported — and only that one.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCaseTree, type CaseTreeInfo } from './fscases.js';
import { compareStats, compareTrees, statTree, type CompareOptions, type TreeStat } from './treecmp.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** Python prelude for mutations: `d` is the tree (bytes), `kept(...)` puts times back after. */
const PRELUDE = `
import os, sys, stat, socket, contextlib
d = os.fsencode(sys.argv[1])
def P(rel): return os.path.join(d, rel)
@contextlib.contextmanager
def kept(*rels):
    sts = [(P(r), os.lstat(P(r))) for r in rels]
    yield
    for p, st in sts: os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
`;

async function py(dir: string, code: string): Promise<void> {
  await exec('python3', ['-c', `${PRELUDE}\n${code}`, dir], { env: { ...process.env, PYTHONUTF8: '1' } });
}

let work: string;
let src: string;
let info: CaseTreeInfo;
let srcStat: TreeStat;
let copies = 0;

/** An exact copy of the source (cp -a keeps modes, owners, times, links, xattrs, holes, specials). */
async function copy(): Promise<string> {
  const dst = join(work, `copy-${copies++}`);
  await exec('cp', ['-a', '--', src, dst]);
  return dst;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'treecmp-'));
  src = join(work, 'src');
  info = await makeCaseTree(src);
  srcStat = await statTree(src);
});

afterAll(async () => {
  if (work === undefined) return;
  await exec('chmod', ['-R', 'u+rwX', work]).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('case tree', () => {
  it('holds the cases, with the root-only ones exactly when root', () => {
    for (const c of ['nested-40', 'file-sparse', 'name-non-utf8', 'name-255-ascii', 'symlink-non-utf8-target', 'hardlink-group-3', 'fifo', 'socket', 'mode-setuid-file', 'mode-readonly-dir-with-children', 'xattr-user-file', 'time-before-1970', 'time-after-2038', 'time-symlink']) {
      expect(info.cases[c], c).toBeDefined();
    }
    for (const c of ['chardev', 'blockdev', 'owner-1234-5678', 'xattr-trusted']) {
      expect(info.cases[c] !== undefined, c).toBe(isRoot);
    }
    const e = srcStat.get('files/sparse.bin');
    expect(e?.extents).toEqual([[0, 1 << 20], [20 << 20, 21 << 20]]);
    expect(srcStat.get('names/\\xff\\xfe')?.pathBytes).toEqual(Buffer.from('names/\xff\xfe', 'latin1'));
    expect(srcStat.get('links/non-utf8')?.target).toEqual(Buffer.from('\xff\xfe-target\n', 'latin1'));
    expect(srcStat.get('times/minus-one-ns')?.mtimeNs).toBe(-1n);
    expect(srcStat.get('perms/setuid')?.mode).toBe(0o4755);
    expect(srcStat.get('perms/readonly-dir')?.mode).toBe(0o555);
    expect(srcStat.get('xattrs/file')?.xattrs.map(([n]) => n)).toEqual(['user.big', 'user.binary', 'user.empty', 'user.name-é', 'user.text']);
  });

  it('equals itself, and reading it again moves no access time (symlinks included)', async () => {
    expect(compareStats(srcStat, await statTree(src), { atime: true, sparse: true, rootMetadata: true })).toEqual([]);
  });

  it('equals a second build in everything, access times and root included', async () => {
    await makeCaseTree(join(work, 'again'));
    expect(await compareTrees(srcStat, join(work, 'again'), { atime: true, sparse: true, rootMetadata: true })).toEqual([]);
  });

  it('equals an exact copy', async () => {
    expect(await compareTrees(srcStat, await copy(), { sparse: true, rootMetadata: true })).toEqual([]);
  });
});

interface Mutation {
  readonly name: string;
  readonly code: string;
  readonly expected: readonly RegExp[];
  readonly options?: CompareOptions;
  /** Options under which the same mutation is not a difference. */
  readonly unseenWith?: CompareOptions;
  readonly rootOnly?: boolean;
}

const mutations: readonly Mutation[] = [
  {
    name: 'one byte of content (size and times kept)',
    code: `
with kept(b'files/random.bin'):
    with open(P(b'files/random.bin'), 'r+b') as f:
        f.seek(1000000); b = f.read(1); f.seek(1000000); f.write(bytes([b[0] ^ 1]))`,
    expected: [/^content: files\/random\.bin: sha256 [0-9a-f]{64} vs [0-9a-f]{64}$/],
  },
  {
    name: 'one mode bit',
    code: `os.chmod(P(b'perms/private'), 0o601)`,
    expected: [/^mode: perms\/private: 0600 vs 0601$/],
  },
  {
    name: 'the setgid bit of a directory',
    code: `os.chmod(P(b'perms/setgid-dir'), 0o775)`,
    expected: [/^mode: perms\/setgid-dir: 02775 vs 0775$/],
  },
  {
    name: 'mtime by 1 ns',
    code: `
st = os.lstat(P(b'times/nanoseconds'))
os.utime(P(b'times/nanoseconds'), ns=(st.st_atime_ns, st.st_mtime_ns + 1))`,
    expected: [/^mtime: times\/nanoseconds: 1600000000123456789 vs 1600000000123456790 ns$/],
  },
  {
    name: 'a directory mtime by 1 ns',
    code: `
st = os.lstat(P(b'perms/readonly-dir'))
os.utime(P(b'perms/readonly-dir'), ns=(st.st_atime_ns, st.st_mtime_ns - 1))`,
    expected: [/^mtime: perms\/readonly-dir: \d+ vs \d+ ns$/],
  },
  {
    name: 'a symlink mtime by 1 ns',
    code: `
st = os.lstat(P(b'times/symlink'))
os.utime(P(b'times/symlink'), ns=(st.st_atime_ns, st.st_mtime_ns + 1), follow_symlinks=False)`,
    expected: [/^mtime: times\/symlink: 1300000000222222222 vs 1300000000222222223 ns$/],
  },
  {
    name: 'an xattr value',
    code: `os.setxattr(P(b'xattrs/file'), 'user.text', b'hellp')`,
    expected: [/^xattr value: xattrs\/file: user\.text: 5 bytes 68656c6c6f vs 5 bytes 68656c6c70$/],
    unseenWith: { ignoreXattrPrefixes: ['user.'] },
  },
  {
    name: 'an empty xattr lost, another added',
    code: `
os.removexattr(P(b'xattrs/file'), 'user.empty')
os.setxattr(P(b'xattrs/dir'), 'user.new', b'')`,
    expected: [/^xattr missing: xattrs\/file: user\.empty$/, /^xattr extra: xattrs\/dir: user\.new$/],
    unseenWith: { ignoreXattrPrefixes: ['user.e', 'user.n'] },
  },
  {
    name: 'one byte of a symlink target (link and directory times kept)',
    code: `
with kept(b'links', b'links/non-utf8'):
    os.unlink(P(b'links/non-utf8'))
    os.symlink(b'\\xff\\xfd-target\\n', P(b'links/non-utf8'))`,
    expected: [/^link target: links\/non-utf8: "\\\\xff\\\\xfe-target\\\\x0a" vs "\\\\xff\\\\xfd-target\\\\x0a"$/],
  },
  {
    name: 'a hard link broken (a copy instead)',
    code: `
with kept(b'hard2'):
    st = os.lstat(P(b'hard2/c'))
    data = open(P(b'hard2/c'), 'rb').read()
    os.unlink(P(b'hard2/c'))
    with open(P(b'hard2/c'), 'wb') as f: f.write(data)
    os.chown(P(b'hard2/c'), st.st_uid, st.st_gid)
    os.chmod(P(b'hard2/c'), stat.S_IMODE(st.st_mode))
    os.utime(P(b'hard2/c'), ns=(st.st_atime_ns, st.st_mtime_ns))`,
    expected: [/^hard links: hard\/a: \[hard\/a, hard\/b, hard2\/c\] vs \[hard\/a, hard\/b\] \[hard2\/c\]$/],
  },
  {
    name: 'two separate files hard-linked',
    code: `
with kept(b'files'):
    os.unlink(P(b'files/empty'))
    os.link(P(b'perms/sticky-dir/child'), P(b'files/empty'))`,
    expected: [
      /^hard links: files\/empty: not linked in source vs \[files\/empty, perms\/sticky-dir\/child\]$/,
      /^size: files\/empty: 0 vs 22$/,
      /^content: files\/empty:/,
      /^mtime: files\/empty:/,
    ],
  },
  {
    name: 'holes filled (content and times kept)',
    code: `
with kept(b'files/sparse.bin'):
    with open(P(b'files/sparse.bin'), 'r+b') as f:
        f.seek(1 << 20); f.write(bytes(19 << 20)); f.seek(21 << 20); f.write(bytes(9 << 20))`,
    options: { sparse: true },
    expected: [/^sparse: files\/sparse\.bin: source 2097152 data bytes in 2 extents of 31457280, restored 31457280 in 1 \(at most 5242880 allowed\)$/],
    unseenWith: { sparse: false },
  },
  {
    name: 'holes partly filled within the slack (a restorer writing whole chunks)',
    code: `
with kept(b'files/sparse.bin'):
    with open(P(b'files/sparse.bin'), 'r+b') as f:
        f.seek(1 << 20); f.write(bytes(512 << 10)); f.seek((20 << 20) - (512 << 10)); f.write(bytes(512 << 10))`,
    options: { sparse: true },
    expected: [],
  },
  {
    name: 'an all-hole file written densely',
    code: `
with kept(b'files/all-hole.bin'):
    with open(P(b'files/all-hole.bin'), 'r+b') as f: f.write(bytes(8 << 20))`,
    options: { sparse: true },
    expected: [/^sparse: files\/all-hole\.bin: source 0 data bytes in 0 extents of 8388608, restored 8388608 in 1 \(at most 1048576 allowed\)$/],
  },
  {
    name: 'the uid',
    code: `os.chown(P(b'owners/u1234-g5678'), 1235, -1)`,
    expected: [/^uid: owners\/u1234-g5678: 1234 vs 1235$/],
    rootOnly: true,
  },
  {
    name: 'the gid of a symlink',
    code: `os.chown(P(b'owners/symlink-2222-3333'), -1, 3334, follow_symlinks=False)`,
    expected: [/^gid: owners\/symlink-2222-3333: 3333 vs 3334$/],
    rootOnly: true,
  },
  {
    name: 'a non-UTF-8 name renamed (directory times kept)',
    code: `
with kept(b'names'):
    os.rename(P(b'names/\\xff\\xfe'), P(b'names/\\xff\\xfd'))`,
    expected: [/^missing: names\/\\xff\\xfe \(file\)$/, /^extra: names\/\\xff\\xfd \(file\)$/],
    unseenWith: { ignorePaths: (p) => p === 'names' },
  },
  {
    name: 'a FIFO turned into a file',
    code: `
with kept(b'special', b'special/fifo'):
    os.unlink(P(b'special/fifo'))
    open(P(b'special/fifo'), 'wb').close()
    os.chmod(P(b'special/fifo'), 0o640)`,
    expected: [/^type: special\/fifo: fifo vs file$/],
  },
  {
    name: 'the socket lost',
    code: `
with kept(b'special'):
    os.unlink(P(b'special/socket'))`,
    expected: [/^missing: special\/socket \(socket\)$/],
    unseenWith: { ignoreTypes: ['socket'] },
  },
  {
    name: 'a device number',
    code: `
with kept(b'special', b'special/null-like'):
    os.unlink(P(b'special/null-like'))
    os.mknod(P(b'special/null-like'), 0o660 | stat.S_IFCHR, os.makedev(1, 5))
    os.chmod(P(b'special/null-like'), 0o660)`,
    expected: [/^device: special\/null-like: 1:3 vs 1:5$/],
    rootOnly: true,
  },
  {
    name: "the root's mode",
    code: `os.chmod(d, 0o700)`,
    options: { rootMetadata: true },
    expected: [/^mode: \.: 0755 vs 0700$/],
    unseenWith: { rootMetadata: false },
  },
];

// each mutation works on its own copy, so they run concurrently (with the context's expect)
describe.concurrent('each single mutation is reported, and only it', () => {
  for (const m of mutations) {
    it.skipIf(m.rootOnly === true && !isRoot)(m.name, async ({ expect }) => {
      const dir = await copy();
      await py(dir, m.code);
      const diffs = await compareTrees(srcStat, dir, { rootMetadata: true, ...m.options });
      expect(diffs, diffs.join('\n')).toHaveLength(m.expected.length);
      for (const re of m.expected) expect(diffs.some((d) => re.test(d)), `${re} in\n${diffs.join('\n')}`).toBe(true);
      if (m.unseenWith !== undefined) {
        expect(await compareTrees(srcStat, dir, { rootMetadata: true, ...m.options, ...m.unseenWith })).toEqual([]);
      }
    });
  }

  it('an access time by 1 ns, only when asked', async ({ expect }) => {
    // cp -a has moved the source's access times, so the copy is compared with itself
    const dir = await copy();
    const before = await statTree(dir);
    await py(dir, `
st = os.lstat(P(b'times/after-2038'))
os.utime(P(b'times/after-2038'), ns=(st.st_atime_ns + 1, st.st_mtime_ns))`);
    const after = await statTree(dir);
    const t = before.get('times/after-2038')?.atimeNs ?? 0n;
    expect(compareStats(before, after, { atime: true })).toEqual([`atime: times/after-2038: ${t} vs ${t + 1n} ns`]);
    expect(compareStats(before, after)).toEqual([]);
  });
});
