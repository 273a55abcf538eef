/**
 * A lock file that cannot be read (damaged: its hash or MAC check fails; or not a lock: bad JSON)
 * blocks every lock, shared or exclusive, as in restic >= 0.15: nobody can tell whether the process
 * that wrote it is still working (it could be a prune). The error, ERR_LOCK_UNREADABLE, names the
 * file, says why, and says that `cairn unlock --remove-all` removes it once nothing else runs;
 * plain `unlock` keeps it and says so. The second look after the 200 ms wait applies the same rule
 * (also when the caller overlaps its work with it). A lock file that vanishes between the listing
 * and its loading was released (no error), and an empty one is ignored (restic 0.15.1's rule).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { CairnError, isCairnError } from '../../src/errors.js';
import { encodeLock, formatTime, lockRepository, nowTime, openRepository, Repository, snapshot, type Repository as Repo } from '../../src/index.js';
import { flipByte } from '../checker/helpers.js';
import { cairn, scratchRepository } from '../cli/helpers.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const ENV = { CAIRN_PASSWORD: 'lock-unreadable', CAIRN_KDF: '1024:8:1' };

function liveLock(over: { exclusive?: boolean; username?: string; pid?: number } = {}): Uint8Array {
  return encodeLock({ time: formatTime(nowTime()), exclusive: false, hostname: 'other-host', username: 'ann', pid: 4242, ...over });
}

describe('unreadable lock files', () => {
  let root: string;
  let dir: string;
  let repo: Repo;

  beforeAll(async () => {
    ({ root, repo: dir } = await scratchRepository('cairn-lock-unreadable-', ENV));
    repo = await openRepository(dir, { password: ENV.CAIRN_PASSWORD });
  });

  afterAll(async () => {
    await repo.close();
    await rm(root, { recursive: true, force: true });
  });

  const locks = (): Promise<string[]> => readdir(join(dir, 'locks'));

  async function clear(): Promise<void> {
    for (const f of await locks()) await unlink(join(dir, 'locks', f));
  }

  /** Another host's live shared lock with one byte flipped: it no longer hashes to its name. */
  async function plantDamaged(): Promise<string> {
    const id = await repo.saveUnpacked('lock', liveLock());
    await flipByte(join(dir, 'locks', id), 40);
    return id;
  }

  it('a shared lock is refused: ERR_LOCK_UNREADABLE names the file, says why and what to do; nothing is written', async () => {
    await clear();
    const bad = await plantDamaged();
    const e = await lockRepository(repo, { exclusive: false }).catch((x: unknown) => x);
    expect(isCairnError(e, 'ERR_LOCK_UNREADABLE'), String(e)).toBe(true);
    const m = (e as CairnError).message;
    expect(m).toContain(`damaged lock file locks/${bad}`);
    expect(m).toContain('not to its name; the file is damaged');
    expect(m).toContain('cairn unlock --remove-all');
    expect(m).toContain('if no cairn or restic process is using this repository');
    expect((e as CairnError).data).toEqual({ locks: [{ id: bad, problem: 'damaged', error: expect.stringContaining('damaged'), stale: false }] });
    expect(await locks()).toEqual([bad]); // no lock of ours was written, none left behind

    // A backup (shared lock) through the CLI: exit 1 with the code, and no snapshot.
    const r = await cairn(['-r', dir, '--json', 'snapshot', '--stdin'], { env: ENV, stdin: Readable.from([Buffer.from('data')]) });
    expect(r.code, r.err).toBe(1);
    expect(JSON.parse(r.err.trim().split('\n').at(-1)!)).toMatchObject({ code: 'ERR_LOCK_UNREADABLE', message: expect.stringContaining(`locks/${bad}`) });
    expect(await readdir(join(dir, 'snapshots'))).toEqual([]);
    expect(await locks()).toEqual([bad]);
  });

  it('an exclusive lock is refused too (prune does not run), also for a lock file that decrypts but is not a lock', async () => {
    await clear();
    const notALock = await repo.saveUnpacked('lock', new TextEncoder().encode('{"time": 12}'));
    await expect(lockRepository(repo, { exclusive: true })).rejects.toMatchObject({
      code: 'ERR_LOCK_UNREADABLE',
      message: expect.stringContaining(`lock file that is not a lock locks/${notALock} (not a lock (time and exclusive are required))`),
    });
    const bad = await plantDamaged();
    const r = await cairn(['-r', dir, 'prune'], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`locks/${bad}`);
    expect(r.err).toContain(`locks/${notALock}`);
    expect(r.err).toContain('remove them with `cairn unlock --remove-all`');
    expect(r.out).not.toMatch(/removed|deleted/i);
    expect((await locks()).sort()).toEqual([bad, notALock].sort());
  });

  it('next to a live conflicting lock: ERR_REPO_LOCKED (exit 11, wait) naming the holder and the unreadable file', async () => {
    await clear();
    const bad = await plantDamaged();
    const live = await repo.saveUnpacked('lock', liveLock({ exclusive: true, username: 'pruner' }));
    const e = await lockRepository(repo, { exclusive: false }).catch((x: unknown) => x);
    expect(isCairnError(e, 'ERR_REPO_LOCKED'), String(e)).toBe(true);
    expect((e as CairnError).message).toMatch(/by pruner, since \d+s \(exclusive lock/);
    expect((e as CairnError).message).toContain(`damaged lock file locks/${bad}`);
    expect(((e as CairnError).data['locks'] as { id: string }[]).map((l) => l.id)).toEqual([live, bad]);
  });

  it('plain unlock keeps an unreadable lock and says how to remove it; unlock --remove-all clears the way', async () => {
    await clear();
    const bad = await plantDamaged();
    const keep = await cairn(['-r', dir, 'unlock'], { env: ENV });
    expect(keep.code, keep.err).toBe(0);
    expect(keep.out).toContain(`kept damaged lock file locks/${bad}`);
    expect(keep.out).toContain('no command can lock the repository while it is there');
    expect(keep.out).toContain('remove it with `cairn unlock --remove-all`');
    const kj = await cairn(['-r', dir, '--json', 'unlock'], { env: ENV });
    expect(JSON.parse(kj.out.trim())).toMatchObject({ removed: [], kept: [{ id: bad, problem: 'damaged', stale: false }] });
    expect(await locks()).toEqual([bad]);

    const all = await cairn(['-r', dir, 'unlock', '--remove-all'], { env: ENV });
    expect(all.code, all.err).toBe(0);
    expect(all.out).toContain(`removed lock: damaged lock file locks/${bad}`);
    expect(await locks()).toEqual([]);
    const l = await lockRepository(repo, { exclusive: true });
    await l.release();
    const prune = await cairn(['-r', dir, 'prune'], { env: ENV });
    expect(prune.code, prune.err).toBe(0);
  });

  it('an empty (0-byte) lock file is ignored, as restic 0.15.1 does; plain unlock keeps it, --remove-all removes it', async () => {
    await clear();
    const empty = randomBytes(32).toString('hex');
    await writeFile(join(dir, 'locks', empty), '');
    const l = await lockRepository(repo, { exclusive: true });
    await l.release();
    expect((await cairn(['-r', dir, 'prune'], { env: ENV })).code).toBe(0);
    const keep = await cairn(['-r', dir, 'unlock'], { env: ENV });
    expect(keep.out).toContain(`kept empty lock file locks/${empty}`);
    expect(await locks()).toEqual([empty]);
    expect((await cairn(['-r', dir, 'unlock', '--remove-all'], { env: ENV })).code).toBe(0);
    expect(await locks()).toEqual([]);
  });

  it('a lock file that vanishes between the listing and its loading was released: not an error', async () => {
    await clear();
    const gone = await repo.saveUnpacked('lock', liveLock({ exclusive: true }));
    let vanished = 0;
    const store = {
      saveUnpacked: (t: 'lock', json: Uint8Array) => repo.saveUnpacked(t, json),
      loadUnpacked: async (t: 'lock', id: Parameters<Repo['loadUnpacked']>[1]) => {
        if (id === gone) {
          vanished++;
          await unlink(join(dir, 'locks', gone)).catch(() => undefined); // its owner released it just now
        }
        return repo.loadUnpacked(t, id);
      },
      backend: repo.backend,
    };
    const l = await lockRepository(store, { exclusive: true });
    expect(vanished).toBe(1);
    expect(await locks()).toEqual([l.id]);
    await l.release();
    expect(await locks()).toEqual([]);
  });

  it('a lock file the storage fails to read blocks too, with the storage error naming it', async () => {
    await clear();
    const unreadable = await repo.saveUnpacked('lock', liveLock());
    const store = {
      saveUnpacked: (t: 'lock', json: Uint8Array) => repo.saveUnpacked(t, json),
      loadUnpacked: async (t: 'lock', id: Parameters<Repo['loadUnpacked']>[1]) => {
        if (id === unreadable) throw new CairnError('ERR_BACKEND', `cannot read locks/${id}: EACCES (simulated)`, { retryable: false });
        return repo.loadUnpacked(t, id);
      },
      backend: repo.backend,
    };
    await expect(lockRepository(store, { exclusive: false })).rejects.toMatchObject({
      code: 'ERR_BACKEND',
      retryable: false,
      message: expect.stringMatching(new RegExp(`the lock file locks/${unreadable} cannot be read \\(.*EACCES \\(simulated\\)\\)`)),
    });
    expect(await locks()).toEqual([unreadable]);
  });

  it('the second look (after the 200 ms wait) applies the same rule: a damaged lock appearing meanwhile is refused, ours withdrawn', async () => {
    await clear();
    let planted: string | undefined;
    const store = {
      saveUnpacked: async (t: 'lock', json: Uint8Array) => {
        const id = await repo.saveUnpacked(t, json);
        planted ??= await plantDamaged();
        return id;
      },
      loadUnpacked: (t: 'lock', id: Parameters<Repo['loadUnpacked']>[1]) => repo.loadUnpacked(t, id),
      backend: repo.backend,
    };
    await expect(lockRepository(store, { exclusive: false })).rejects.toMatchObject({ code: 'ERR_LOCK_UNREADABLE', message: expect.stringContaining(`locks/${planted ?? ''}`) });
    expect(planted).toBeDefined();
    expect(await locks()).toEqual([planted]);
  });
});

describe('unreadable lock files and the overlapped lock check', () => {
  it('a snapshot whose second look finds a damaged lock fails with ERR_LOCK_UNREADABLE and writes nothing', async () => {
    const src = tempDir('cairn-lock-unreadable-src-');
    mkdirSync(join(src, 'd'));
    for (let i = 0; i < 20; i++) writeFileSync(join(src, 'd', `f${i}`), pseudoRandomBytes(20_000, i));
    const backend = new MemoryBackend();
    const repo = await Repository.init(backend, 'pw', { kdf: { N: 1024, r: 8, p: 1 } });
    const before = new Set(backend.files().map((f) => `${f.handle.type}/${f.handle.name}`));
    const damaged = 'ab'.repeat(32);
    let injected = false;
    const save = backend.save.bind(backend);
    backend.save = async (h, data) => {
      await save(h, data);
      if (h.type === 'lock' && !injected) {
        injected = true; // right after our lock file: another process's lock, garbled in storage
        await save({ type: 'lock', name: damaged }, pseudoRandomBytes(200, 7));
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
    expect(isCairnError(error, 'ERR_LOCK_UNREADABLE'), String(error)).toBe(true);
    expect((error as Error).message).toContain(`locks/${damaged}`);
    const added = backend.files().map((f) => `${f.handle.type}/${f.handle.name}`).filter((k) => !before.has(k));
    expect(added).toEqual([`lock/${damaged}`]); // no pack, index or snapshot; our lock withdrawn
  });
});
