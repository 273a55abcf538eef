/**
 * Locks with real restic 0.14 as the other party. restic's `backup --stdin` holds its (shared)
 * lock while its stdin is open; cairn's `snapshot --stdin` (the built CLI, a real process) does
 * the same. Each blocks the other's prune; a lock left by a SIGKILLed process is stale for both
 * tools' `unlock`; `--remove-all` removes a live lock.
 *
 * Needs the built CLI: `npm run build` (npm test builds first).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockRepository, openRepository, type Repository } from '../../src/index.js';
import { cairn, scratchRepository } from '../cli/helpers.js';
import { RESTIC_BIN, runRestic } from '../helpers/restic.js';

const PASSWORD = 'lock-restic';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
const BIN = fileURLToPath(new URL('../../dist/cli/cairn.js', import.meta.url));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

describe('locks shared with restic', () => {
  let root: string;
  let dir: string;

  // Lock files only: a save in progress (or one a SIGKILL interrupted) is a `.tmp-…` file in
  // locks/, which neither tool reads as a lock.
  const locks = async (): Promise<string[]> => (await readdir(join(dir, 'locks'))).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
  const restic = (args: string[]) => runRestic(['--repo', dir, '--no-cache', ...args], PASSWORD, { allowFailure: true });

  /** `restic backup --stdin`, holding its shared lock until stdin is closed. */
  async function resticHolding(): Promise<ChildProcessWithoutNullStreams> {
    const before = await locks();
    const child = spawn(RESTIC_BIN, ['--repo', dir, '--no-cache', 'backup', '--stdin', '--stdin-filename', 'r.txt'], { env: { ...process.env, RESTIC_PASSWORD: PASSWORD } });
    child.stdout.resume();
    child.stderr.resume();
    await waitFor('restic to lock', async () => ((await locks()).length > before.length ? true : undefined));
    return child;
  }

  /** The built cairn CLI taking a snapshot of its stdin, holding its shared lock meanwhile. */
  async function cairnHolding(): Promise<ChildProcessWithoutNullStreams> {
    const before = await locks();
    const child = spawn(process.execPath, [BIN, '-r', dir, 'snapshot', '--stdin', '--stdin-filename', 'c.txt'], { env: { ...process.env, ...ENV } });
    child.stdout.resume();
    child.stderr.resume();
    await waitFor('cairn to lock', async () => ((await locks()).length > before.length ? true : undefined));
    return child;
  }

  beforeAll(async () => {
    if (!existsSync(BIN) || !existsSync(join(BIN, '..', 'commands', 'unlock.js'))) throw new Error(`${BIN} is missing or outdated: run \`npm run build\` first`);
    ({ root, repo: dir } = await scratchRepository('cairn-lock-restic-', ENV));
    await writeFile(join(root, 'note.txt'), 'a file to back up\n');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("a running restic backup blocks cairn's prune (exit 11, naming restic's PID, host, user and age); cairn snapshots still run beside it", async () => {
    const child = await resticHolding();
    try {
      const r = await cairn(['-r', dir, 'prune'], { env: ENV });
      expect(r.code).toBe(11);
      expect(r.err).toMatch(new RegExp(`PID ${child.pid} on host ${hostname()} by ${userInfo().username}, since \\d+s \\(shared lock [0-9a-f]{8}\\)`));
      // A shared lock beside restic's shared lock is fine.
      const stdin = new PassThrough();
      stdin.end('beside restic\n');
      const snap = await cairn(['-r', dir, 'snapshot', '--stdin'], { env: ENV, stdin });
      expect(snap.code, snap.err).toBe(0);
    } finally {
      child.stdin.end('restic data\n');
      expect(await exited(child)).toBe(0);
    }
    expect(await locks()).toEqual([]);
    expect((await cairn(['-r', dir, 'prune'], { env: ENV })).code).toBe(0);
  });

  it("cairn's locks block restic: an exclusive one (a prune) stops restic backup and prune; a running cairn snapshot stops restic prune", async () => {
    const repo: Repository = await openRepository(dir, { password: PASSWORD });
    try {
      const lock = await lockRepository(repo, { exclusive: true });
      try {
        const backup = await restic(['backup', join(root, 'note.txt')]);
        expect(backup.code).not.toBe(0);
        expect(backup.stderr).toContain('repository is already locked exclusively');
        expect(backup.stderr).toContain(`PID ${process.pid}`);
        const prune = await restic(['prune']);
        expect(prune.code).not.toBe(0);
        expect(prune.stderr).toContain('repository is already locked');
      } finally {
        await lock.release();
      }
    } finally {
      await repo.close();
    }

    const child = await cairnHolding();
    try {
      const prune = await restic(['prune']);
      expect(prune.code).not.toBe(0);
      expect(prune.stderr).toContain('repository is already locked');
      expect(prune.stderr).toContain(`PID ${child.pid}`);
    } finally {
      child.stdin.end('cairn data\n');
      expect(await exited(child)).toBe(0);
    }
    expect(await locks()).toEqual([]);
    const prune = await restic(['prune']);
    expect(prune.code, prune.stderr).toBe(0);
  });

  it('a lock left by a SIGKILLed process is stale for both: cairn unlock removes restic\'s, restic unlock removes cairn\'s', async () => {
    const r = await resticHolding();
    r.kill('SIGKILL');
    await exited(r);
    const blocked = await cairn(['-r', dir, 'prune'], { env: ENV });
    expect(blocked.code).toBe(11);
    expect(blocked.err).toContain('[stale]');
    const un = await cairn(['-r', dir, '--json', 'unlock'], { env: ENV });
    expect(un.code, un.err).toBe(0);
    expect(JSON.parse(un.out.trim())).toMatchObject({ removed: [{ pid: r.pid, stale: true }], kept: [] });
    expect(await locks()).toEqual([]);

    const c = await cairnHolding();
    c.kill('SIGKILL');
    await exited(c);
    expect((await restic(['prune'])).code).not.toBe(0);
    expect((await restic(['unlock'])).code).toBe(0);
    expect(await locks()).toEqual([]);
    expect((await cairn(['-r', dir, 'prune'], { env: ENV })).code).toBe(0);
  });

  it('cairn unlock keeps a live restic lock; --remove-all removes it', async () => {
    const child = await resticHolding();
    try {
      const keep = await cairn(['-r', dir, 'unlock'], { env: ENV });
      expect(keep.code, keep.err).toBe(0);
      expect(keep.out).toContain(`kept live lock: PID ${child.pid}`);
      expect(keep.out).toContain('0 locks removed, 1 kept');
      expect((await locks()).length).toBe(1);
      const all = await cairn(['-r', dir, 'unlock', '--remove-all'], { env: ENV });
      expect(all.code, all.err).toBe(0);
      expect(all.out).toContain(`removed lock: PID ${child.pid}`);
      expect(await locks()).toEqual([]);
    } finally {
      // restic would retry removing its vanished lock for minutes: stop it.
      child.kill('SIGKILL');
      await exited(child);
    }
  });
});
