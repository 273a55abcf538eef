/**
 * An input file that cannot be read becomes a warning: the snapshot is still saved, without it,
 * and the command exits 3. Runs the CLI as `nobody` when the tests run as root (root reads
 * anything), otherwise in-process.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from './helpers.js';

const BIN = fileURLToPath(new URL('../../dist/cli/cairn.js', import.meta.url));
const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };
const root = process.getuid?.() === 0;
const NOBODY = 65534;

/** Runs the CLI as nobody (as root) or in-process; resolves to exit code and stderr. */
async function run(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  if (!root) {
    const r = await cairn(args, { env: { ...ENV, HOME: cwd }, cwd });
    return { code: r.code, out: r.out, err: r.err };
  }
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, uid: NOBODY, gid: NOBODY, env: { PATH: process.env['PATH'] ?? '', HOME: cwd, ...ENV } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), out: stdout, err: stderr });
    });
  });
}

describe('unreadable input', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-unreadable-'));
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'ok.txt'), 'readable');
    await writeFile(join(dir, 'src', 'secret.txt'), 'not for you');
    await chmod(join(dir, 'src', 'secret.txt'), 0o000);
    if (root) {
      for (const p of [dir, join(dir, 'src'), join(dir, 'src', 'ok.txt')]) await chown(p, NOBODY, NOBODY);
      await chown(join(dir, 'src', 'secret.txt'), 0, 0);
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('warns, saves the snapshot without the file, and exits 3', async () => {
    expect((await run(['-r', 'repo', 'repo', 'init'], dir)).code).toBe(0);
    const r = await run(['-r', 'repo', 'snapshot', 'src', '--json'], dir);
    expect(r.code, r.err).toBe(3);
    const errors = r.err.trim().split('\n').map((l) => JSON.parse(l) as { message_type: string; item?: string; error?: { message: string; code: string } });
    const warning = errors.find((e) => e.item !== undefined);
    expect(warning?.item).toBe(join(dir, 'src', 'secret.txt'));
    expect(warning?.error?.message).toMatch(/EACCES|permission denied/i);
    expect(warning?.error?.code).toBe('ERR_FILE_READ');
    const summary = JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(summary).toMatchObject({ message_type: 'summary', files_new: 1 });
    const ls = await run(['-r', 'repo', 'ls', 'latest'], dir);
    expect(ls.out).toContain('/src/ok.txt');
    expect(ls.out).not.toContain('secret.txt');
  });

  it('warns again on the next snapshot: a directory with a warning is never taken from the directory cache', async () => {
    const r = await run(['-r', 'repo', 'snapshot', 'src', '--json'], dir);
    expect(r.code, r.err).toBe(3);
    expect(r.err).toContain(join(dir, 'src', 'secret.txt'));
    // The cache is there ($HOME/.cache/cairn/<repository>/dirs) and was used for what it could.
    const cache = join(dir, '.cache', 'cairn');
    const [repoDir] = await readdir(cache);
    expect(await readdir(join(cache, repoDir!))).toContain('dirs');
  });
});
