/**
 * Locks as a user meets them: a conflict names the holder (PID, host, user, age) and exits 11; a
 * refresh that fails is reported, never dropped, and a lock removed behind our back makes
 * `check()` fail; `cairn unlock` removes exactly the stale locks (restic's rule), `--remove-all`
 * every one, and both say what they removed.
 */
import { spawnSync } from 'node:child_process';
import { readdir, rm, unlink } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLock, formatAge, formatTime, isStale, lockRepository, openRepository, type LockInfo, type LockWarning, type Repository } from '../../src/index.js';
import { cairn, scratchRepository } from '../cli/helpers.js';

const ENV = { CAIRN_PASSWORD: 'lock-test', CAIRN_KDF: '1024:8:1' };
const HOST = hostname();

/** A PID that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function timeAgo(ms: number): string {
  const sec = Math.floor((Date.now() - ms) / 1000);
  return formatTime({ sec, nsec: 0, offset: 0 });
}

describe('locks', () => {
  let root: string;
  let dir: string;
  let repo: Repository;

  beforeAll(async () => {
    ({ root, repo: dir } = await scratchRepository('cairn-lock-', ENV));
    repo = await openRepository(dir, { password: ENV.CAIRN_PASSWORD });
  });

  afterAll(async () => {
    await repo.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Writes a lock file as another process would. */
  async function plant(l: Partial<LockInfo>): Promise<string> {
    return repo.saveUnpacked('lock', encodeLock({ time: timeAgo(0), exclusive: false, hostname: HOST, username: 'someone', pid: process.pid, ...l }));
  }

  async function clear(): Promise<void> {
    for (const f of await readdir(join(dir, 'locks'))) await unlink(join(dir, 'locks', f));
  }

  it('a conflict names each holder with PID, host, user and age, and prune exits 11', async () => {
    await clear();
    const held = await plant({ exclusive: false, hostname: 'backup-host', username: 'ann', pid: 4242, time: timeAgo(192_000) });
    const r = await cairn(['-r', dir, 'prune'], { env: ENV });
    expect(r.code).toBe(11);
    // Planted 3m12s ago; a slow machine may take a few seconds more to get here.
    expect(r.err).toMatch(/PID 4242 on host backup-host by ann, since 3m1[2-9]s/);
    expect(r.err).toContain(`shared lock ${held.slice(0, 8)}`);
    expect(r.err).toContain('wait for that operation to finish');
    const j = await cairn(['-r', dir, '--json', 'prune'], { env: ENV });
    expect(j.code).toBe(11);
    const err = JSON.parse(j.err.trim()) as { code: string; data: { locks: unknown[] } };
    expect(err.code).toBe('ERR_REPO_LOCKED');
    expect(err.data.locks).toEqual([{ id: held, exclusive: false, hostname: 'backup-host', username: 'ann', pid: 4242, time: expect.any(String), age_seconds: 192, stale: false }]);
    // Our own lock attempt was withdrawn.
    expect(await readdir(join(dir, 'locks'))).toEqual([held]);
    await clear();
  });

  it('a stale lock still blocks (as in restic 0.14), and the message says how to remove it', async () => {
    await clear();
    await plant({ exclusive: true, pid: deadPid() });
    const r = await cairn(['-r', dir, 'prune'], { env: ENV });
    expect(r.code).toBe(11);
    expect(r.err).toContain('[stale]');
    expect(r.err).toContain('cairn unlock');
    await clear();
  });

  it('a second exclusive lock (a second prune) fails while one is held, and works once it is released', async () => {
    await clear();
    const first = await lockRepository(repo, { exclusive: true });
    try {
      await expect(lockRepository(repo, { exclusive: true })).rejects.toMatchObject({ code: 'ERR_REPO_LOCKED', message: expect.stringMatching(new RegExp(`PID ${process.pid} on host ${HOST} by ${userInfo().username}, since [0-9]s \\(exclusive lock`)) });
      await expect(lockRepository(repo, { exclusive: false })).rejects.toMatchObject({ code: 'ERR_REPO_LOCKED' });
      expect((await cairn(['-r', dir, 'prune'], { env: ENV })).code).toBe(11);
      // A snapshot meanwhile fails to lock as well (exit 11), writing nothing.
      const snap = await cairn(['-r', dir, 'snapshot', '--stdin'], { env: ENV });
      expect(snap.code).toBe(11);
      expect(await readdir(join(dir, 'snapshots'))).toEqual([]);
    } finally {
      await first.release();
    }
    const second = await lockRepository(repo, { exclusive: true });
    await second.release();
    expect(await readdir(join(dir, 'locks'))).toEqual([]);
  });

  it('refreshes: writes a new lock file and removes the old one; a failed refresh is reported, not dropped', async () => {
    await clear();
    const warnings: LockWarning[] = [];
    let failing = false;
    const store = {
      list: (t: 'lock') => repo.list(t),
      loadUnpacked: (t: 'lock', id: Parameters<Repository['loadUnpacked']>[1]) => repo.loadUnpacked(t, id),
      saveUnpacked: async (t: 'lock', json: Uint8Array) => {
        if (failing) throw new Error('disk full (simulated)');
        return repo.saveUnpacked(t, json);
      },
      backend: repo.backend,
    };
    const lock = await lockRepository(store, { exclusive: false, refreshMs: 60, onWarning: (w) => warnings.push(w) });
    try {
      const first = lock.id;
      await new Promise((r) => setTimeout(r, 150));
      expect(lock.id).not.toBe(first);
      expect(await readdir(join(dir, 'locks'))).toEqual([lock.id]);
      expect(warnings).toEqual([]);
      failing = true;
      await new Promise((r) => setTimeout(r, 150));
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings[0]).toMatchObject({ code: 'LOCK_REFRESH_FAILED', message: expect.stringContaining('disk full (simulated)') });
      // The lock file is still there and recent: the lock still holds.
      await lock.check();
    } finally {
      failing = false;
      await lock.release();
    }
    expect(await readdir(join(dir, 'locks'))).toEqual([]);
  });

  it('a lock removed behind our back (unlock --remove-all) is reported at the next refresh and fails check()', async () => {
    await clear();
    const warnings: LockWarning[] = [];
    const lock = await lockRepository(repo, { exclusive: true, refreshMs: 100, onWarning: (w) => warnings.push(w) });
    try {
      await lock.check();
      expect((await cairn(['-r', dir, '--json', 'unlock', '--remove-all'], { env: ENV })).code).toBe(0);
      await expect(lock.check()).rejects.toMatchObject({ code: 'ERR_LOCK_LOST' });
      await new Promise((r) => setTimeout(r, 250));
      expect(warnings.map((w) => w.code)).toContain('LOCK_REMOVED');
      await expect(lock.check()).rejects.toMatchObject({ code: 'ERR_LOCK_LOST', message: expect.stringContaining('removed by another process') });
    } finally {
      await lock.release();
    }
  });

  it('without a warning callback a failed refresh becomes a process warning (stderr)', async () => {
    await clear();
    const seen: Error[] = [];
    const listener = (w: Error): void => void seen.push(w);
    process.on('warning', listener);
    let failing = false;
    const store = { list: (t: 'lock') => repo.list(t), loadUnpacked: repo.loadUnpacked.bind(repo), backend: repo.backend, saveUnpacked: async (t: 'lock', j: Uint8Array) => {
      if (failing) throw new Error('EIO (simulated)');
      return repo.saveUnpacked(t, j);
    } };
    const lock = await lockRepository(store, { exclusive: false, refreshMs: 50 });
    try {
      failing = true;
      await new Promise((r) => setTimeout(r, 150));
    } finally {
      failing = false;
      await lock.release();
      process.off('warning', listener);
    }
    expect(seen.some((w) => w.message.includes('EIO (simulated)') && (w as Error & { code?: string }).code === 'CAIRN_LOCK_REFRESH_FAILED')).toBe(true);
  });

  it('stale is restic\'s rule: older than 30 minutes, or this host and a dead PID', () => {
    const base = { exclusive: false, username: 'u' };
    expect(isStale({ ...base, time: timeAgo(31 * 60_000), hostname: 'elsewhere', pid: 1 }, HOST)).toBe(true);
    expect(isStale({ ...base, time: timeAgo(29 * 60_000), hostname: 'elsewhere', pid: 999_999_999 }, HOST)).toBe(false);
    expect(isStale({ ...base, time: timeAgo(0), hostname: HOST, pid: deadPid() }, HOST)).toBe(true);
    expect(isStale({ ...base, time: timeAgo(0), hostname: HOST, pid: process.pid }, HOST)).toBe(false);
    expect(formatAge(45_000)).toBe('45s');
    expect(formatAge(192_000)).toBe('3m12s');
    expect(formatAge(7_205_000)).toBe('2h0m5s');
  });

  it('cairn unlock removes stale locks only and says which; --remove-all removes every lock', async () => {
    await clear();
    const live = await plant({ pid: process.pid, username: 'me' });
    const dead = await plant({ pid: deadPid(), username: 'crashed', exclusive: true });
    const old = await plant({ hostname: 'far-away', pid: 7, time: timeAgo(45 * 60_000), username: 'old' });
    const remote = await plant({ hostname: 'far-away', pid: 8, time: timeAgo(60_000), username: 'remote' });

    const text = await cairn(['-r', dir, 'unlock'], { env: ENV });
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain(`removed stale lock: PID`);
    expect(text.out).toContain(`by crashed`);
    // Planted 45 minutes ago; a loaded machine may take a few seconds more to get here.
    expect(text.out).toMatch(/PID 7 on host far-away by old, since 45m[0-9]s/);
    expect(text.out).toContain('2 locks removed, 2 kept');
    expect((await readdir(join(dir, 'locks'))).sort()).toEqual([live, remote].sort());
    void dead;
    void old;

    const all = await cairn(['-r', dir, '--json', 'unlock', '--remove-all'], { env: ENV });
    expect(all.code, all.err).toBe(0);
    const j = JSON.parse(all.out.trim()) as { message_type: string; remove_all: boolean; removed: { id: string; stale: boolean; pid: number }[]; kept: unknown[] };
    expect(j).toMatchObject({ message_type: 'summary', remove_all: true, kept: [] });
    expect(j.removed.map((l) => l.id).sort()).toEqual([live, remote].sort());
    expect(j.removed.every((l) => l.stale === false)).toBe(true);
    expect(await readdir(join(dir, 'locks'))).toEqual([]);

    const none = await cairn(['-r', dir, '--json', 'unlock'], { env: ENV });
    expect(JSON.parse(none.out.trim())).toEqual({ message_type: 'summary', remove_all: false, removed: [], kept: [] });
  });
});
