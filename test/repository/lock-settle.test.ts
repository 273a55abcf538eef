/**
 * The lock protocol's wait before its second look (Backend.lockSettleMs): none on a local file
 * system, restic's 200 ms elsewhere. Without the wait the second look still runs: a prune's
 * exclusive lock that appears right after ours is written still stops us, and nothing is left.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend, MemoryBackend, type Backend } from '../../src/backend/index.js';
import { recordingBackend } from '../../src/cli/audit.js';
import { encodeLock, formatTime, isCairnError, lockRepository, nowTime, openRepository, type Repository } from '../../src/index.js';
import { scratchRepository } from '../cli/helpers.js';

const ENV = { CAIRN_PASSWORD: 'settle-test', CAIRN_KDF: '1024:8:1' };

describe('lock settle wait', () => {
  let root: string;
  let dir: string;
  let repo: Repository;

  beforeAll(async () => {
    ({ root, repo: dir } = await scratchRepository('cairn-lock-settle-', ENV));
    repo = await openRepository(dir, { password: ENV.CAIRN_PASSWORD });
  });

  afterAll(async () => {
    await repo.close();
    await rm(root, { recursive: true, force: true });
  });

  it('is 0 for a repository on a local file system, also behind the audit recorder; storage without the capability gets 200 ms', async () => {
    // The test machines' temporary directories are on ext4, tmpfs or overlayfs.
    const local = new LocalBackend(dir);
    expect(await local.lockSettleMs()).toBe(0);
    const recorded = recordingBackend(local, { saved: () => undefined, removed: () => undefined });
    expect(await recorded.lockSettleMs?.()).toBe(0);
    expect((new MemoryBackend() as Backend).lockSettleMs).toBeUndefined();
  });

  it('a repository directory that cannot be asked (gone) gets restic\'s 200 ms', async () => {
    expect(await new LocalBackend(join(dir, 'no-such-dir')).lockSettleMs()).toBe(200);
  });

  it('without the wait, an exclusive lock written right after ours is still found: ERR_REPO_LOCKED, ours withdrawn', async () => {
    let planted: string | undefined;
    const store = {
      saveUnpacked: async (t: 'lock', json: Uint8Array) => {
        const id = await repo.saveUnpacked(t, json);
        planted ??= await repo.saveUnpacked('lock', encodeLock({ time: formatTime(nowTime()), exclusive: true, hostname: 'other-host', username: 'pruner', pid: 4242 }));
        return id;
      },
      loadUnpacked: (t: 'lock', id: Parameters<Repository['loadUnpacked']>[1]) => repo.loadUnpacked(t, id),
      backend: repo.backend,
    };
    let error: unknown;
    try {
      await lockRepository(store, { exclusive: false });
    } catch (e) {
      error = e;
    }
    expect(isCairnError(error, 'ERR_REPO_LOCKED'), String(error)).toBe(true);
    expect((error as Error).message).toContain('pruner');
    expect(await readdir(join(dir, 'locks'))).toEqual([planted]);
  });
});
