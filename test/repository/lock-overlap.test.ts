/**
 * A snapshot starts reading while the lock protocol's 200 ms wait runs (withLock's `overlap`),
 * but writes nothing until the second look for conflicting locks has passed. When that look finds
 * an exclusive lock taken in the meantime (a prune that started at the same moment), the snapshot
 * fails with ERR_REPO_LOCKED, withdraws its lock and leaves no pack, index or snapshot behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { isCairnError } from '../../src/errors.js';
import { encodeLock, formatTime, nowTime, Repository, snapshot } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const KDF = { N: 1024, r: 8, p: 1 };

function source(): string {
  const src = tempDir('cairn-overlap-');
  mkdirSync(join(src, 'd'));
  for (let i = 0; i < 50; i++) writeFileSync(join(src, 'd', `f${i}`), pseudoRandomBytes(20_000, i));
  writeFileSync(join(src, 'big'), pseudoRandomBytes(6 << 20, 99));
  return src;
}

describe('snapshot with the overlapped lock check', () => {
  it('an exclusive lock appearing during the wait: ERR_REPO_LOCKED, nothing written, our lock withdrawn', async () => {
    const src = source();
    const backend = new MemoryBackend();
    const repo = await Repository.init(backend, 'pw', { kdf: KDF });
    const before = new Set(backend.files().map((f) => `${f.handle.type}/${f.handle.name}`));
    // Right after our lock file is written, another process (a prune) writes an exclusive lock.
    let injected = false;
    const save = backend.save.bind(backend);
    backend.save = async (h, data) => {
      await save(h, data);
      if (h.type === 'lock' && !injected) {
        injected = true;
        await repo.saveUnpacked('lock', encodeLock({ time: formatTime(nowTime()), exclusive: true, hostname: 'other-host', username: 'pruner', pid: 4242 }));
      }
    };
    let error: unknown;
    try {
      await snapshot(repo, [src]);
    } catch (e) {
      error = e;
    } finally {
      await repo.close();
    }
    expect(injected).toBe(true);
    expect(isCairnError(error, 'ERR_REPO_LOCKED'), String(error)).toBe(true);
    expect(String((error as Error).message)).toContain('pruner');
    const added = backend.files().map((f) => `${f.handle.type}/${f.handle.name}`).filter((k) => !before.has(k));
    // Only the other process's lock remains: no pack, index or snapshot, and our lock is gone.
    expect(added.filter((k) => !k.startsWith('lock/'))).toEqual([]);
    expect(added.filter((k) => k.startsWith('lock/'))).toHaveLength(1);
  });

  it('without a conflict the snapshot is saved as usual and its lock removed', async () => {
    const src = source();
    const backend = new MemoryBackend();
    const repo = await Repository.init(backend, 'pw', { kdf: KDF });
    try {
      const s = await snapshot(repo, [src]);
      expect(s.files_new).toBe(51);
    } finally {
      await repo.close();
    }
    const types = backend.files().map((f) => f.handle.type);
    expect(types).toContain('snapshot');
    expect(types).not.toContain('lock');
  });
});
