/**
 * `dump SNAPSHOT DIR` as a user sees it: a tar archive of the directory's contents that GNU tar
 * extracts into the same files (contents, modes, symlinks, mtimes to the second as Go rounds them),
 * byte for byte the archive restic 0.14's `dump` writes for the same snapshot (names over 100
 * bytes, a non-ASCII name, an xattr as a PAX record, a 3 MiB file over several chunks, an empty
 * file, a FIFO left out); `/` dumps the whole snapshot. A terminal on stdout, `--archive zip` and
 * a blob that cannot be loaded are errors (the last after part of the archive is out). Output
 * waits for stdout to drain after each chunk.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { RESTIC_BIN } from '../helpers/restic.js';
import { tempDir } from '../helpers/tmp.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { run } from '../../src/cli/main.js';
import { cairn, makeIo, scratchRepository } from './helpers.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };
const root = tempDir('cairn-dump-tar-');
const src = join(root, 'src');
let repo: string;
let repoRoot: string | undefined;

const LONG_NAME = `${'L'.repeat(120)}.txt`;
const SPLIT_DIR = join('d'.repeat(60), 'e'.repeat(60));
const UNICODE = 'héllo wörld ✓.txt';
const big = pseudoRandomBytes(3 * 1024 * 1024, 7);

/** mtimes with nanoseconds: one rounds up (≥ .5 s), one down, as Go's time.Round does. */
const MTIMES: Record<string, string> = {
  'big.bin': '1614834367.876543210',
  'a/b/c/deep.txt': '1600000000.123456789',
};

function touch(path: string, epoch: string): void {
  execFileSync('touch', ['-h', '-d', `@${epoch}`, path]);
}

async function makeSource(): Promise<void> {
  await mkdir(join(src, 'a', 'b', 'c'), { recursive: true });
  await mkdir(join(src, SPLIT_DIR), { recursive: true });
  await writeFile(join(src, 'a', 'b', 'c', 'deep.txt'), 'deep\n');
  await writeFile(join(src, 'a', LONG_NAME), 'long name\n');
  await writeFile(join(src, 'a', UNICODE), 'unicode\n');
  await writeFile(join(src, SPLIT_DIR, 'f.txt'), 'split\n');
  await symlink('../a/b', join(src, 'a', 'link'));
  execFileSync('mkfifo', [join(src, 'a', 'b', 'fifo')]);
  await writeFile(join(src, 'big.bin'), big);
  await writeFile(join(src, 'empty'), '', { mode: 0o600 });
  await writeFile(join(src, 'script.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(src, 'xattr.txt'), 'with an xattr\n');
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.cairn", b"v\\x00al")', join(src, 'xattr.txt')]);
  execFileSync('chmod', ['0600', join(src, 'empty')]);
  execFileSync('chmod', ['0755', join(src, 'script.sh'), join(src, 'a')]);
  execFileSync('chmod', ['0700', join(src, 'a', 'b')]);
  for (const [path, epoch] of Object.entries(MTIMES)) touch(join(src, path), epoch);
  // Directories last, deepest first (making entries changed their times).
  touch(join(src, 'a', 'b', 'c'), '1500000000.5');
  touch(join(src, 'a', 'b'), '1500000001.25');
  touch(join(src, 'a'), '1500000002');
}

async function dump(path: string, options: { stdoutIsTTY?: boolean; args?: string[]; repository?: string } = {}): Promise<{ code: number; out: Buffer; err: string }> {
  const r = await cairn(['-r', options.repository ?? repo, 'dump', ...(options.args ?? []), 'latest', path], { env: ENV, ...(options.stdoutIsTTY === true ? { stdoutIsTTY: true } : {}) });
  return { code: r.code, out: r.io.outBytes(), err: r.err };
}

function resticDump(path: string): Buffer {
  const r = spawnSync(RESTIC_BIN, ['-r', repo, '--no-cache', 'dump', 'latest', path], {
    env: { PATH: process.env['PATH'] ?? '', HOME: root, RESTIC_PASSWORD: 'pw' },
    maxBuffer: 64 << 20,
  });
  expect(r.status, r.stderr.toString()).toBe(0);
  return r.stdout;
}

async function tarList(archive: Buffer, name: string): Promise<string> {
  const file = join(root, name);
  await writeFile(file, archive);
  return execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
}

/** Every path below `dir` (relative), depth first. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), rel)));
  }
  return out;
}

/** Go's time.Round(time.Second) of a file's mtime, in seconds. */
function roundedSeconds(ns: bigint): number {
  const sec = ns / 1_000_000_000n;
  return Number(ns % 1_000_000_000n >= 500_000_000n ? sec + 1n : sec);
}

beforeAll(async () => {
  ({ root: repoRoot, repo } = await scratchRepository('cairn-dump-tar-repo-', ENV));
  await makeSource();
  const r = await cairn(['-r', repo, 'snapshot', '--json', 'src'], { env: ENV, cwd: root });
  expect(r.code, r.err).toBe(0);
}, 60_000);
afterAll(() => (repoRoot === undefined ? undefined : rm(repoRoot, { recursive: true, force: true })));

describe('dump DIR', () => {
  it('GNU tar extracts the same files: contents, modes, symlinks, mtimes (to the second, rounded); the FIFO is left out', async () => {
    const r = await dump('/src');
    expect(r.code, r.err).toBe(0);
    expect(r.out.length % 512).toBe(0);
    expect(r.out.subarray(r.out.length - 1024).every((b) => b === 0)).toBe(true);
    const file = join(root, 'src.tar');
    await writeFile(file, r.out);
    const out = join(root, 'extracted');
    await mkdir(out);
    execFileSync('tar', ['-xf', file, '-C', out]);
    const want = (await walk(src)).filter((p) => p !== 'a/b/fifo');
    expect(await walk(join(out, 'src'))).toEqual(want);
    for (const rel of want) {
      const a = await lstat(join(src, rel), { bigint: true });
      const b = await lstat(join(out, 'src', rel), { bigint: true });
      expect(b.mode, rel).toBe(a.mode);
      if (a.isSymbolicLink()) {
        expect(await readlink(join(out, 'src', rel))).toBe(await readlink(join(src, rel)));
        continue;
      }
      expect(Number(b.mtimeNs / 1_000_000_000n), rel).toBe(roundedSeconds(a.mtimeNs));
      if (a.isFile()) expect((await readFile(join(out, 'src', rel))).equals(await readFile(join(src, rel))), rel).toBe(true);
    }
    expect((await stat(join(out, 'src', 'big.bin'))).mtimeMs).toBe(1614834368_000);
    expect((await stat(join(out, 'src', 'a', 'b', 'c', 'deep.txt'))).mtimeMs).toBe(1600000000_000);
  });

  it('is byte for byte the archive restic 0.14 dumps from the same repository (directory, subdirectory, whole snapshot)', async () => {
    for (const path of ['/src', '/src/a', '/']) {
      const ours = await dump(path);
      expect(ours.code, ours.err).toBe(0);
      const theirs = resticDump(path);
      expect(await tarList(ours.out, 'ours.tar')).toBe(await tarList(theirs, 'theirs.tar'));
      expect(ours.out.equals(theirs), `dump ${path} differs from restic's`).toBe(true);
    }
    const names = execFileSync('tar', ['-tf', join(root, 'ours.tar')], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toContain(`src/a/${LONG_NAME}`);
    expect(names).toContain(`src/a/${UNICODE}`);
    expect(names).toContain(`src/${SPLIT_DIR}/f.txt`);
    expect(names).toContain('src/a/link');
    expect(names).not.toContain('src/a/b/fifo');
    expect(names[0]).toBe('src/');
  });

  it('leaves out a FIFO directly in the dumped directory, where restic 0.14 writes an empty regular file (a documented difference)', async () => {
    const ours = await dump('/src/a/b');
    expect(ours.code, ours.err).toBe(0);
    const theirs = await tarList(resticDump('/src/a/b'), 'theirs.tar');
    expect(theirs).toMatch(/^-rw-r--r-- .* 0 .* src\/a\/b\/fifo$/m);
    expect(await tarList(ours.out, 'ours.tar')).toBe(theirs.split('\n').filter((l) => !l.endsWith('src/a/b/fifo')).join('\n'));
  });

  it('waits for stdout to drain after each chunk: no write while the reader is behind', async () => {
    let behind = false;
    let writes = 0;
    let early = 0;
    const chunks: Buffer[] = [];
    const io = makeIo({ env: ENV });
    const code = await run(['-r', repo, 'dump', 'latest', '/src'], {
      ...io,
      stdout: {
        write: (c) => {
          if (behind) early++;
          writes++;
          chunks.push(Buffer.from(c));
        },
        drain: () => {
          behind = true;
          return new Promise<void>((resolve) => setTimeout(() => {
            behind = false;
            resolve();
          }, 1));
        },
      },
    }, COMMANDS);
    expect(code, io.err()).toBe(0);
    expect(early).toBe(0);
    expect(writes).toBeGreaterThan(10);
    expect(Buffer.concat(chunks).equals((await dump('/src')).out)).toBe(true);
  });

  it('keeps an xattr as a PAX record SCHILY.xattr.NAME', async () => {
    const r = await dump('/src');
    const at = r.out.indexOf('SCHILY.xattr.user.cairn=');
    expect(at).toBeGreaterThan(0);
    expect(r.out.subarray(at, at + 29).equals(Buffer.from('SCHILY.xattr.user.cairn=v\0al\n'))).toBe(true);
  });

  it('refuses a terminal on stdout, --archive zip and an unknown format, writing nothing; a file still dumps to a terminal', async () => {
    const tty = await dump('/src', { stdoutIsTTY: true });
    expect(tty.code).toBe(1);
    expect(tty.err).toMatch(/terminal/);
    expect(tty.out.length).toBe(0);
    const file = await dump('/src/script.sh', { stdoutIsTTY: true });
    expect(file.code, file.err).toBe(0);
    expect(file.out.toString()).toBe('#!/bin/sh\n');
    const zip = await dump('/src', { args: ['--json', '--archive', 'zip'] });
    expect(zip.code).toBe(1);
    expect(zip.out.length).toBe(0);
    expect(JSON.parse(zip.err.trim())).toMatchObject({ code: 'ERR_UNSUPPORTED', message: expect.stringContaining('zip') });
    const rar = await dump('/src', { args: ['--json', '-a', 'rar'] });
    expect(rar.code).toBe(1);
    expect(JSON.parse(rar.err.trim())).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const missing = await dump('/src/nope', { args: ['--json'] });
    expect(JSON.parse(missing.err.trim())).toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
  });

  it('a blob that cannot be loaded fails the dump with its code, naming the file and saying the archive is incomplete', async () => {
    const { repo: broken } = await scratchRepository('cairn-dump-tar-broken-', ENV);
    const s = await cairn(['-r', broken, 'snapshot', '--json', 'src'], { env: ENV, cwd: root });
    expect(s.code, s.err).toBe(0);
    // The largest pack holds the data blobs.
    const packs: Array<{ path: string; size: number }> = [];
    for (const sub of await readdir(join(broken, 'data'))) {
      for (const name of await readdir(join(broken, 'data', sub))) packs.push({ path: join(broken, 'data', sub, name), size: (await stat(join(broken, 'data', sub, name))).size });
    }
    packs.sort((a, b) => b.size - a.size);
    await rm(packs[0]!.path);
    const r = await dump('/src', { args: ['--json'], repository: broken });
    expect(r.code).toBe(1);
    expect(r.out.length).toBeGreaterThan(0);
    const error = JSON.parse(r.err.trim().split('\n').pop()!) as { code: string; message: string; data: { path?: string } };
    expect(error.code).toMatch(/^ERR_/);
    expect(error.message).toMatch(/^\/src\/.*blob [0-9a-f]{64} cannot be loaded.*incomplete/);
    expect(error.data.path).toMatch(/^\/src\//);
  }, 60_000);
});
