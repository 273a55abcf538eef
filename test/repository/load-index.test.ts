/**
 * Repository.loadIndex reads each index file pack by pack (a large file is never parsed into
 * objects whole). A file that turns out damaged after some of its packs were read fails the load
 * with ERR_CORRUPT, and none of its packs stay in the index; the other files' packs are there.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { isCairnError } from '../../src/errors.js';
import { encodeIndex } from '../../src/index/index.js';
import { hashId, type BlobId, type PackId } from '../../src/model/index.js';
import { Repository } from '../../src/index.js';

const KDF = { N: 1024, r: 8, p: 1 };
const id = (n: number): string => hashId(new Uint8Array([n, n >> 8]));
const pack = (n: number, blobs: number[]): { id: PackId; blobs: Array<{ id: BlobId; type: 'data'; offset: number; length: number; uncompressedLength: number }> } => ({
  id: id(n) as PackId,
  blobs: blobs.map((b, i) => ({ id: id(b) as BlobId, type: 'data' as const, offset: i * 100, length: 100, uncompressedLength: 0 })),
});

describe('Repository.loadIndex', () => {
  it('loads every pack of good files; a file damaged after its first pack fails with ERR_CORRUPT and adds nothing', async () => {
    const backend = new MemoryBackend();
    const writer = await Repository.init(backend, 'pw', { kdf: KDF });
    await writer.saveUnpacked('index', encodeIndex({ supersedes: [], packs: [pack(1, [10, 11]), pack(2, [12])] }));
    const good = await Repository.open(backend, 'pw');
    await good.loadIndex();
    for (const b of [10, 11, 12]) expect(good.index.has(id(b) as BlobId, 'data')).toBe(true);
    await good.close();

    // A second file: its first pack is fine, the second is not an index entry.
    const text = new TextDecoder().decode(encodeIndex({ supersedes: [], packs: [pack(3, [20, 21]), pack(4, [22])] }));
    const damaged = text.replace(`"id":"${id(22)}"`, '"id":"not hex"');
    expect(damaged).not.toBe(text);
    await writer.saveUnpacked('index', new TextEncoder().encode(damaged));
    await writer.close();

    const repo = await Repository.open(backend, 'pw');
    let failure: unknown;
    await repo.loadIndex().catch((e: unknown) => (failure = e));
    expect(isCairnError(failure, 'ERR_CORRUPT')).toBe(true);
    expect((failure as Error).message).toMatch(/^index\/[0-9a-f]{64}/);
    for (const b of [20, 21, 22]) expect(repo.index.has(id(b) as BlobId, 'data')).toBe(false);
    await repo.close();
  });
});
