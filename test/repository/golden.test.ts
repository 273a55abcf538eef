/**
 * Golden bytes from restic 0.14: a repository restic made (v2, compressed) is opened with cairn,
 * and each of its codecs — config, index files, pack headers, lock files — decodes restic's bytes
 * and re-encodes them to exactly the same bytes.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeIndex, encodeIndex } from '../../src/index/index.js';
import { decodePackHeader, encodePackHeader } from '../../src/pack/index.js';
import { openRepository, type Repository, type Id } from '../../src/index.js';
import { decodeConfig, decodeLock, encodeConfig, encodeLock } from '../../src/repository/index.js';
import { open } from '../../src/crypto/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { ResticRepo, RESTIC_BIN } from '../helpers/restic.js';
import { writeFile } from 'node:fs/promises';

describe('codecs against restic-made bytes', () => {
  let restic: ResticRepo;
  let repo: Repository;

  beforeAll(async () => {
    restic = await ResticRepo.create({ password: 'pw' });
    await writeFile(join(restic.root, 'a.bin'), pseudoRandomBytes(3_000_000, 5));
    await writeFile(join(restic.root, 'b.txt'), 'hello restic\n'.repeat(1000));
    await restic.backup(['a.bin', 'b.txt']);
    repo = await openRepository(restic.dir, { password: 'pw' });
  }, 60_000);

  afterAll(async () => {
    await repo?.close();
    await restic?.cleanup();
  });

  it('config: decode and re-encode give restic\'s plaintext', async () => {
    const plain = await repo.loadConfigJson();
    expect(new TextDecoder().decode(encodeConfig(decodeConfig(plain)))).toBe(new TextDecoder().decode(plain));
  });

  it('index files: decode and re-encode give restic\'s plaintext JSON', async () => {
    let n = 0;
    for await (const id of repo.list('index')) {
      const plain = await repo.loadUnpacked('index', id);
      const idx = decodeIndex(plain, id);
      expect(idx.packs.flatMap((p) => p.blobs).some((b) => b.uncompressedLength > 0)).toBe(true);
      expect(new TextDecoder().decode(encodeIndex(idx))).toBe(new TextDecoder().decode(plain));
      n++;
    }
    expect(n).toBeGreaterThan(0);
  });

  it('pack headers: decode and re-encode give restic\'s plaintext header', async () => {
    await repo.loadIndex();
    let n = 0;
    for (const pack of repo.index.packIds()) {
      const file = await repo.backend.load({ type: 'pack', name: pack });
      const hl = new DataView(file.buffer, file.byteOffset).getUint32(file.length - 4, true);
      const key = (repo as unknown as { key: Parameters<typeof open>[0] }).key;
      const plain = open(key, file.subarray(file.length - 4 - hl, file.length - 4));
      const blobs = decodePackHeader(plain, pack);
      expect(encodePackHeader(blobs)).toEqual(plain);
      expect(await repo.listPack(pack)).toEqual(blobs);
      n++;
    }
    expect(n).toBeGreaterThan(1);
  });

  it('lock files: a lock restic holds decodes, re-encodes to restic\'s bytes, and blocks an exclusive lock', async () => {
    // `restic backup --stdin` holds its lock until stdin closes.
    const child = spawn(RESTIC_BIN, ['--repo', restic.dir, '--no-cache', 'backup', '--stdin'], { env: { ...process.env, RESTIC_PASSWORD: 'pw' }, stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      let locks: string[] = [];
      for (let i = 0; i < 100 && locks.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        // restic writes its lock under a temporary name first: wait for the final one.
        locks = (await readdir(join(restic.dir, 'locks'))).filter((n) => /^[0-9a-f]{64}$/.test(n));
      }
      expect(locks.length).toBe(1);
      const plain = await repo.loadUnpacked('lock', locks[0] as Id);
      const lock = decodeLock(plain, locks[0]!);
      expect(lock).toMatchObject({ exclusive: false, pid: child.pid });
      expect(new TextDecoder().decode(encodeLock(lock))).toBe(new TextDecoder().decode(plain));
      const { lockRepository } = await import('../../src/repository/index.js');
      await expect(lockRepository(repo, { exclusive: true })).rejects.toMatchObject({ code: 'ERR_REPO_LOCKED' });
      const shared = await lockRepository(repo, { exclusive: false });
      await shared.release();
    } finally {
      child.stdin.end('data from stdin\n');
      await new Promise((r) => child.on('exit', r));
    }
  });
});
