/**
 * Hostile stored blobs (spec/hostile-input.md). openBlob — MAC, decompression to the length the
 * index gives, ID check — meets random bytes, damaged sealed blobs, well-sealed garbage and
 * uncompressed lengths of 4 GiB with ERR_AUTH_FAILED or ERR_CORRUPT, quickly, allocating nothing
 * near the claimed length. A repository whose index places blobs outside their pack (a blob longer
 * than the pack, an offset past its end, lengths of 0xFFFFFFF0) fails each load with a typed
 * error, without reading or allocating what the index claims.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { compress } from '../../src/compress/index.js';
import { newMasterKey, seal, verifyMac } from '../../src/crypto/index.js';
import { encodeIndex, type IndexPack } from '../../src/index/index.js';
import { hashId, type BlobId, type PackId } from '../../src/model/index.js';
import { openBlob } from '../../src/repository/blob-codec.js';
import { Repository } from '../../src/repository/index.js';
import { bytesArb, byteEditsArb, editBytes, hostileU32Arb, SEED, typedOnly, typedOnlyAsync } from './fuzz-helpers.js';

const key = newMasterKey();
const plainArb = fc.uint8Array({ maxLength: 3000 });

describe('stored blobs (openBlob)', () => {
  const open = (bytes: Uint8Array, id: BlobId, ulen: number, input: unknown = bytes): Uint8Array | undefined =>
    typedOnly(() => openBlob(key, bytes, id, ulen, 'data blob b'), ['ERR_AUTH_FAILED', 'ERR_CORRUPT'], { input, what: 'data blob b' });

  it('random bytes, with any uncompressed length: ERR_AUTH_FAILED or ERR_CORRUPT; verifyMac says no', () => {
    fc.assert(
      fc.property(bytesArb, hostileU32Arb, (bytes, ulen) => {
        expect(open(bytes, hashId(bytes), ulen)).toBeUndefined();
        const ok = typedOnly(() => verifyMac(key, bytes, 'data blob b'), ['ERR_CORRUPT'], { input: bytes });
        expect(ok !== true).toBe(true);
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('damaged sealed blobs (plain and compressed) never open', () => {
    fc.assert(
      fc.property(plainArb, fc.boolean(), byteEditsArb, (plain, compressed, edits) => {
        const stored = seal(key, compressed ? compress(plain) : plain);
        const bad = editBytes(stored, edits);
        if (Buffer.from(bad).equals(Buffer.from(stored))) return;
        expect(open(bad, hashId(plain), compressed ? plain.length : 0)).toBeUndefined();
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('well-sealed garbage (the key holder wrote it): ERR_CORRUPT for bad frames, wrong lengths and wrong IDs', () => {
    fc.assert(
      fc.property(plainArb, fc.oneof(fc.constant('frame'), fc.constant('length'), fc.constant('id')), hostileU32Arb, byteEditsArb, (plain, kind, ulen, edits) => {
        let stored: Uint8Array;
        let length = plain.length;
        let id = hashId(plain);
        if (kind === 'frame') stored = seal(key, editBytes(compress(plain), edits));
        else stored = seal(key, compress(plain));
        if (kind === 'length') length = ulen;
        if (kind === 'id') id = hashId(editBytes(plain, edits));
        const out = open(stored, id, Math.max(length, 1));
        if (out !== undefined) expect(hashId(out)).toBe(id);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('an uncompressed length of 4 GiB for a well-sealed 300 KiB blob is refused without allocating gigabytes', () => {
    const junk = new Uint8Array(300 << 10);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
    junk.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88]); // a frame header: no content size, 128 MiB window
    const stored = seal(key, junk);
    for (const ulen of [0xffffffff, 0xfffffff0, 2 ** 31]) {
      typedOnly(() => openBlob(key, stored, hashId(junk), ulen, 'data blob b'), ['ERR_CORRUPT'], { ms: 500, bytes: 48 << 20 });
    }
  });
});

describe('blobs the index places outside their pack (Repository.loadBlob)', () => {
  let backend: MemoryBackend;
  let pack: PackId;
  let packSize: number;
  let blob: { id: BlobId; offset: number; length: number; uncompressedLength: number };

  beforeAll(async () => {
    backend = new MemoryBackend();
    const repo = await Repository.init(backend, 'pw', { kdf: { N: 1024, r: 8, p: 1 } });
    const plain = new TextEncoder().encode('{"nodes":[]}\n');
    await repo.saveBlob('tree', hashId(plain) as BlobId, plain);
    await repo.flush();
    for await (const id of repo.list('index')) await backend.remove({ type: 'index', name: id });
    for await (const f of backend.list('pack')) {
      pack = f.name as PackId;
      packSize = f.size;
    }
    const listed = await repo.listPack(pack);
    blob = listed[0]!;
    await repo.close();
  });

  /** A repository whose only index file lists `entries` for the tree blob in its pack. */
  async function withIndex(entries: readonly { offset: number; length: number; uncompressedLength: number }[]): Promise<Repository> {
    const repo = await Repository.open(backend, 'pw');
    for await (const id of repo.list('index')) await backend.remove({ type: 'index', name: id });
    const packs: IndexPack[] = [{ id: pack, blobs: entries.map((e) => ({ id: blob.id, type: 'tree' as const, ...e })) }];
    await repo.saveUnpacked('index', encodeIndex({ supersedes: [], packs }));
    await repo.loadIndex();
    return repo;
  }

  it('lengths and offsets outside the pack, and 4 GiB uncompressed lengths: typed errors, quickly, nothing large allocated', async () => {
    const hostile = [
      { offset: 0, length: 0xfffffff0, uncompressedLength: 0 },
      { offset: 0, length: packSize + 1, uncompressedLength: 0 },
      { offset: 0xfffffff0, length: 100, uncompressedLength: 0 },
      { offset: packSize, length: 32, uncompressedLength: 0 },
      { offset: packSize - 10, length: 32, uncompressedLength: 0 },
      { offset: blob.offset, length: blob.length, uncompressedLength: 0xffffffff },
      { offset: blob.offset, length: 0xffffffff, uncompressedLength: 0xffffffff },
      { offset: blob.offset + 1, length: blob.length - 1, uncompressedLength: 0 },
      { offset: 0, length: 0, uncompressedLength: 0 },
    ];
    for (const e of hostile) {
      const repo = await withIndex([e]);
      // A range past the end of the pack (the backend refuses it) is the index's fault: ERR_CORRUPT.
      const out = await typedOnlyAsync(() => repo.loadBlob('tree', blob.id), ['ERR_CORRUPT', 'ERR_AUTH_FAILED'], { input: JSON.stringify(e), ms: 500, bytes: 32 << 20 });
      expect(out).toBeUndefined();
      await repo.close();
    }
    // The same repository with the true entry loads the blob.
    const repo = await withIndex([{ offset: blob.offset, length: blob.length, uncompressedLength: blob.uncompressedLength }]);
    expect(new TextDecoder().decode(await repo.loadBlob('tree', blob.id))).toBe('{"nodes":[]}\n');
    await repo.close();
  });
});
