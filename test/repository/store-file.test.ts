/**
 * `Repository.storeFile`: a large file chunked, hashed, compressed and sealed on worker threads.
 * Its blobs must be exactly those of the serial chunker (same boundaries, same IDs), each stored
 * once, loadable and verified, durable after `flush`; a file that shrinks while read is an error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkFile } from '../../src/chunker/index.js';
import { CairnError } from '../../src/errors.js';
import { initRepository, openRepository, type Repository } from '../../src/index.js';

const KDF = { N: 1024, r: 8, p: 1 };
// Chunks of at most 1 MiB: the repeated 12 MiB stretch surely holds whole duplicate chunks (with
// the default 8 MiB maximum that is only likely).
const CHUNKER = { algorithm: 'fastcdc', min: 256 * 1024, avg: 512 * 1024, max: 1024 * 1024, normalization: 2 } as const;
let root: string;
let file: string;
let data: Buffer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-store-file-'));
  // 48 MiB: more than one parallel-chunker region; a repeated 12 MiB stretch gives duplicates.
  const part = randomBytes(12 << 20);
  data = Buffer.concat([randomBytes(12 << 20), part, randomBytes(6 << 20), part, randomBytes(6 << 20)]);
  file = join(root, 'big.bin');
  await writeFile(file, data);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('storeFile', () => {
  it('stores the serial chunker blobs once each, loadable, and durable after flush', async () => {
    const location = join(root, 'repo1');
    const repo: Repository = await initRepository(location, { password: 'pw', kdf: KDF, chunker: CHUNKER });
    const fh = await open(file, 'r');
    try {
      const expected: string[] = [];
      for await (const c of chunkFile(repo.createChunker(), fh.fd, { size: data.length, name: file })) expected.push(sha(c.data));
      const stored = await repo.storeFile(fh.fd, data.length, file);
      expect(stored).toBeDefined();
      expect(stored!.ids).toEqual(expected);
      expect(stored!.size).toBe(data.length);
      expect(stored!.added).toBe(new Set(expected).size);
      expect(stored!.addedBytes).toBeLessThan(data.length); // the repeated stretch is stored once
      // Again: everything is known, nothing added.
      const again = await repo.storeFile(fh.fd, data.length, file);
      expect(again!.ids).toEqual(expected);
      expect(again!.added).toBe(0);
      await repo.flush();
      let pos = 0;
      for (const id of stored!.ids) {
        const blob = await repo.loadBlob('data', id);
        expect(Buffer.from(blob).equals(data.subarray(pos, pos + blob.length))).toBe(true);
        pos += blob.length;
      }
      expect(pos).toBe(data.length);
    } finally {
      await fh.close();
      await repo.close();
    }
    // A fresh open sees every blob through the index files written by flush.
    const reopened = await openRepository(location, { password: 'pw' });
    try {
      await reopened.loadIndex();
      const fh2 = await open(file, 'r');
      try {
        const ids = (await reopened.storeFile(fh2.fd, data.length, file))!;
        expect(ids.added).toBe(0);
        for (const id of ids.ids) expect(reopened.hasBlob('data', id)).toBe(true);
      } finally {
        await fh2.close();
      }
    } finally {
      await reopened.close();
    }
  });

  it('fails with ERR_FILE_READ when the file is shorter than the size it was given', async () => {
    const repo = await initRepository(join(root, 'repo2'), { password: 'pw', kdf: KDF, chunker: CHUNKER });
    const small = join(root, 'short.bin');
    await writeFile(small, data.subarray(0, 6 << 20));
    const fh = await open(small, 'r');
    try {
      const err = await repo.storeFile(fh.fd, 9 << 20, small).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(CairnError);
      expect((err as CairnError).code).toBe('ERR_FILE_READ');
    } finally {
      await fh.close();
      await repo.close();
    }
  });
});
