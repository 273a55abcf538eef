/**
 * A repository seals its first INLINE_DATA_BYTES of data blobs on the calling thread (a snapshot
 * that stores little never starts the blob workers), and hands the rest to the workers. Blobs of
 * both kinds, stored in one run, must load back verified after a reopen, each stored once, and the
 * repository must pass cairn's and restic's checks with every pack read.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRepository, initRepository, openRepository, type BlobId } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { expectResticCheck } from '../helpers/repo-invariants.js';
import { tempDir } from '../helpers/tmp.js';

const KDF = { N: 1024, r: 8, p: 1 };

describe('data blobs sealed on this thread, then by the workers', () => {
  it('load back verified, once each, and pass both checks with every pack read', async () => {
    const location = join(tempDir('cairn-inline-seal-'), 'repo');
    const repo = await initRepository(location, { password: 'pw', kdf: KDF, packSize: 2 << 20 });
    // 20 blobs of 1 MiB, half of them compressible: the first 8 (8 MiB) sealed here, the rest by
    // the workers; each saved twice (the second time it is known, pending or stored).
    const blobs = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? pseudoRandomBytes(1 << 20, 500 + i) : Buffer.alloc(1 << 20, i)));
    const ids = blobs.map((b) => createHash('sha256').update(b).digest('hex') as BlobId);
    const first = await Promise.all(blobs.map((b, i) => repo.saveBlob('data', ids[i]!, b)));
    const again = await Promise.all(blobs.map((b, i) => repo.saveBlob('data', ids[i]!, b)));
    expect(first.every((r) => r.added)).toBe(true);
    expect(again.every((r) => !r.added)).toBe(true);
    await repo.flush();
    await repo.close();

    const reopened = await openRepository(location, { password: 'pw' });
    try {
      await reopened.loadIndex();
      for (const [i, id] of ids.entries()) expect(Buffer.from(await reopened.loadBlob('data', id)).equals(blobs[i]!)).toBe(true);
      const report = await checkRepository(reopened, { readData: { kind: 'all' } });
      expect(report.errors).toBe(0);
      expect(report.readPacks).toBe(report.packs);
    } finally {
      await reopened.close();
    }
    await expectResticCheck(location, 'pw', true);
  });
});
