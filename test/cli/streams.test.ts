/**
 * Streams as a user sees them: `snapshot --stdin [--stdin-filename NAME]` stores standard input as
 * the one file `/NAME`; `--stdin-from-command -- CMD ARGS…` stores CMD's output, and a command that
 * cannot start, exits non-zero or is killed fails the snapshot: exit 1, a message naming the
 * command and its status, no snapshot, no lock left. `dump SNAPSHOT PATH` writes one file to
 * stdout, byte for byte (a directory as a tar archive), and refuses missing paths with nothing on stdout. And
 * restic reads what cairn's --stdin stored in a repository restic made.
 *
 * The CLI's in-process test IO decodes stdout as text, so binary output is captured here with an
 * IO of our own; one dump also runs through the real executable (dist/cli/cairn.js).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { run } from '../../src/cli/main.js';
import { cheapenResticKey } from '../helpers/cheap-key.js';
import { pseudoRandomBytes, splitAt } from '../helpers/fixtures.js';
import { ResticRepo } from '../helpers/restic.js';
import { cairn, makeIo, scratchRepository } from './helpers.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };
const BIN = fileURLToPath(new URL('../../dist/cli/cairn.js', import.meta.url));

let root: string;
let repo: string;

interface Summary {
  message_type: string;
  files_new: number;
  total_files_processed: number;
  total_bytes_processed: number;
  snapshot_id: string;
}

/** Runs the CLI in-process with stdout kept as bytes. */
async function cairnBytes(argv: string[], stdin?: Readable): Promise<{ code: number; out: Buffer; err: string }> {
  const chunks: Buffer[] = [];
  const io = makeIo({ env: ENV, cwd: root, ...(stdin !== undefined ? { stdin } : {}) });
  const code = await run(argv, { ...io, stdout: { write: (c) => void chunks.push(Buffer.from(c)) } }, COMMANDS);
  return { code, out: Buffer.concat(chunks), err: io.err() };
}

/** `snapshot --json ARGS` with `stdin`; expects success and returns the summary. */
async function snapStream(args: string[], stdin?: Readable): Promise<Summary> {
  const r = await cairn(['-r', repo, 'snapshot', '--json', ...args], { env: ENV, cwd: root, ...(stdin !== undefined ? { stdin } : {}) });
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out.trim().split('\n').pop()!) as Summary;
}

async function snapshotIds(): Promise<string[]> {
  const r = await cairn(['-r', repo, 'snapshots', '--json'], { env: ENV });
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as Array<{ id: string }>).map((s) => s.id);
}

async function ls(id: string): Promise<string[]> {
  const r = await cairn(['-r', repo, 'ls', id], { env: ENV });
  expect(r.code, r.err).toBe(0);
  // The first line names the snapshot; then one path per line.
  return r.out.trim().split('\n').slice(1);
}

async function dump(id: string, path: string): Promise<Buffer> {
  const r = await cairnBytes(['-r', repo, 'dump', id, path]);
  expect(r.code, r.err).toBe(0);
  return r.out;
}

beforeAll(async () => {
  ({ root, repo } = await scratchRepository('cairn-streams-', ENV));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('snapshot --stdin', () => {
  it('stores standard input as the one file /NAME; dump gives back exactly those bytes', async () => {
    const data = pseudoRandomBytes(6_000_000, 1);
    // Arrives in uneven pieces, as from a pipe.
    const s = await snapStream(['--stdin', '--stdin-filename', 'db.sql'], Readable.from(splitAt(data, [0.1, 0.11, 0.5, 0.93]).map((p) => Buffer.from(p))));
    expect(s).toMatchObject({ files_new: 1, total_files_processed: 1, total_bytes_processed: data.length });
    expect(await ls(s.snapshot_id)).toEqual(['/db.sql']);
    const cat = await cairn(['-r', repo, 'cat', 'snapshot', s.snapshot_id], { env: ENV });
    expect((JSON.parse(cat.out) as { paths: string[] }).paths).toEqual(['/db.sql']);
    const out = await dump(s.snapshot_id, '/db.sql');
    expect(out.length).toBe(data.length);
    expect(out.equals(data)).toBe(true);
  });

  it('names the file "stdin" by default; empty input is an empty file', async () => {
    const s = await snapStream(['--stdin'], Readable.from([Buffer.from('hello from a pipe\n')]));
    expect(await ls(s.snapshot_id)).toEqual(['/stdin']);
    expect((await dump(s.snapshot_id, '/stdin')).toString()).toBe('hello from a pipe\n');
    const empty = await snapStream(['--stdin', '--stdin-filename', 'empty'], Readable.from([]));
    expect(await ls(empty.snapshot_id)).toEqual(['/empty']);
    expect((await dump(empty.snapshot_id, '/empty')).length).toBe(0);
  });

  it('refuses paths with --stdin and a file name with a slash, saving nothing', async () => {
    const before = await snapshotIds();
    const withPath = await cairn(['-r', repo, 'snapshot', '--stdin', 'somefile'], { env: ENV, cwd: root, stdin: Readable.from([Buffer.from('x')]) });
    expect(withPath.code).toBe(1);
    expect(withPath.err).toMatch(/--stdin/);
    const slash = await cairn(['-r', repo, 'snapshot', '--stdin', '--stdin-filename', 'a/b', '--json'], { env: ENV, cwd: root, stdin: Readable.from([Buffer.from('x')]) });
    expect(slash.code).toBe(1);
    expect(JSON.parse(slash.err.trim())).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await snapshotIds()).toEqual(before);
  });
});

describe('snapshot --stdin-from-command', () => {
  it('stores the command\'s output; the arguments after -- reach it verbatim', async () => {
    const data = pseudoRandomBytes(3_000_000, 2);
    await writeFile(join(root, 'payload.bin'), data);
    const s = await snapStream(['--stdin-from-command', '--stdin-filename', 'payload', '--', 'cat', 'payload.bin']);
    expect(s).toMatchObject({ files_new: 1, total_bytes_processed: data.length });
    expect((await dump(s.snapshot_id, '/payload')).equals(data)).toBe(true);
    // Arguments that look like options (even another --) are the command's, not cairn's.
    const args = ['-x', '--json', '--', 'two words', '--stdin-filename=no', ''];
    const echo = await snapStream(['--stdin-from-command', '--stdin-filename', 'args.txt', '--', 'sh', '-c', 'for a in "$@"; do printf "<%s>\\n" "$a"; done', 'sh', ...args]);
    expect(await ls(echo.snapshot_id)).toEqual(['/args.txt']);
    expect((await dump(echo.snapshot_id, '/args.txt')).toString()).toBe(args.map((a) => `<${a}>\n`).join(''));
  });

  /** Runs a failing command; checks exit 1, the message, no new snapshot, no lock left. */
  async function expectFailure(command: string[], message: RegExp): Promise<void> {
    const before = await snapshotIds();
    const r = await cairn(['-r', repo, 'snapshot', '--stdin-from-command', '--', ...command], { env: ENV, cwd: root });
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/no snapshot/);
    expect(r.out).not.toMatch(/saved/);
    const json = await cairn(['-r', repo, 'snapshot', '--json', '--stdin-from-command', '--', ...command], { env: ENV, cwd: root });
    expect(json.code).toBe(1);
    expect(json.out).toBe('');
    const error = JSON.parse(json.err.trim().split('\n').pop()!) as { code: string; message: string; data: { command?: string } };
    expect(error.code).toBe('ERR_FILE_READ');
    expect(error.message).toMatch(message);
    expect(error.data.command).toBe(command[0]);
    expect(await snapshotIds()).toEqual(before);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
  }

  it('a command that exits non-zero fails the snapshot (exit 1), naming it and its status', async () => {
    await expectFailure(['sh', '-c', 'echo partial output; exit 1'], /\bsh\b.*exited with status 1/);
  });

  it('a command killed by a signal fails the snapshot', async () => {
    await expectFailure(['sh', '-c', 'echo some; kill -KILL $$'], /\bsh\b.*killed by SIGKILL/);
  });

  it('a command that cannot start fails the snapshot', async () => {
    await expectFailure(['cairn-no-such-command-4711', '--opt'], /cairn-no-such-command-4711.*ENOENT/);
  });

  it('a command that closes its output and fails later still saves nothing', async () => {
    await expectFailure(['sh', '-c', 'exec >&-; sleep 0.3; exit 2'], /exited with status 2/);
  });

  it('a command that fails after 20 MB of output saves nothing; the next snapshot works at once', async () => {
    const before = await snapshotIds();
    const r = await cairn(['-r', repo, 'snapshot', '--stdin-from-command', '--', 'sh', '-c', 'head -c 20000000 /dev/urandom; exit 3'], { env: ENV, cwd: root });
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/exited with status 3/);
    expect(await snapshotIds()).toEqual(before);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
    const started = Date.now();
    const next = await snapStream(['--stdin-from-command', '--stdin-filename', 'ok', '--', 'printf', 'fine']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await dump(next.snapshot_id, '/ok')).toString()).toBe('fine');
    expect(await snapshotIds()).toEqual([...before, next.snapshot_id]);
  });
});

describe('dump', () => {
  let id: string;
  const big = pseudoRandomBytes(7_000_000, 3);

  beforeAll(async () => {
    const src = join(root, 'tree');
    await mkdir(join(src, 'dir'), { recursive: true });
    await writeFile(join(src, 'big.bin'), big);
    await writeFile(join(src, 'dir', 'small.txt'), 'small\n');
    const r = await cairn(['-r', repo, 'snapshot', '--json', 'tree'], { env: ENV, cwd: root });
    expect(r.code, r.err).toBe(0);
    id = (JSON.parse(r.out.trim().split('\n').pop()!) as Summary).snapshot_id;
  });

  it('writes a multi-chunk file byte for byte, by full ID and by prefix (in-process)', async () => {
    const full = await dump(id, '/tree/big.bin');
    expect(full.equals(big)).toBe(true);
    expect((await dump(id.slice(0, 8), '/tree/big.bin')).equals(big)).toBe(true);
    expect((await dump(id.slice(0, 8), 'tree/dir/small.txt')).toString()).toBe('small\n');
  });

  it('the real executable writes the same bytes to its stdout', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, '-r', repo, 'dump', id.slice(0, 10), '/tree/big.bin'], { env: { PATH: process.env['PATH'] ?? '', HOME: root, ...ENV }, encoding: 'buffer', maxBuffer: 64 << 20 }, (error, out, err) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout: out, stderr: err.toString() });
      });
    });
    expect(code, stderr).toBe(0);
    expect(stdout.length).toBe(big.length);
    expect(stdout.equals(big)).toBe(true);
  });

  it('a directory is a tar archive (test/cli/dump-tar.test.ts has the details); a missing path or an unknown snapshot is an error with nothing on stdout', async () => {
    const dir = await cairnBytes(['-r', repo, 'dump', id, '/tree/dir']);
    expect(dir.code, dir.err).toBe(0);
    expect(dir.out.subarray(0, 18).toString()).toBe('tree/dir/small.txt');
    expect(dir.out.length % 512).toBe(0);
    const missing = await cairnBytes(['-r', repo, '--json', 'dump', id, '/tree/nope.txt']);
    expect(missing.code).toBe(1);
    expect(missing.out.length).toBe(0);
    expect(JSON.parse(missing.err.trim())).toMatchObject({ code: 'ERR_PATH_NOT_FOUND', message: expect.stringContaining('nope.txt') });
    const noSnapshot = await cairnBytes(['-r', repo, '--json', 'dump', 'ffffffffff', '/tree/big.bin']);
    expect(noSnapshot.code).toBe(1);
    expect(noSnapshot.out.length).toBe(0);
    expect(JSON.parse(noSnapshot.err.trim())).toMatchObject({ code: 'ERR_SNAPSHOT_NOT_FOUND' });
  });
});

describe('restic interop', () => {
  it('restic dumps, byte for byte, what cairn --stdin stored in a repository restic made', async () => {
    const restic = await ResticRepo.create();
    try {
      await cheapenResticKey(restic.dir, restic.password);
      const data = pseudoRandomBytes(5_000_000, 4);
      const r = await cairn(['-r', restic.dir, 'snapshot', '--json', '--stdin', '--stdin-filename', 'db.sql'], {
        env: { CAIRN_PASSWORD: restic.password },
        stdin: Readable.from([Buffer.from(data)]),
      });
      expect(r.code, r.err).toBe(0);
      const id = (JSON.parse(r.out.trim().split('\n').pop()!) as Summary).snapshot_id;
      const snapshots = await restic.snapshots();
      expect(snapshots.map((s) => s.id)).toEqual([id]);
      expect(snapshots[0]!.paths).toEqual(['/db.sql']);
      const dumped = await restic.run(['dump', id.slice(0, 8), '/db.sql']);
      expect(Buffer.from(dumped.stdout).equals(data)).toBe(true);
      await restic.run(['check', '--read-data']);
    } finally {
      await restic.cleanup();
    }
  });
});
