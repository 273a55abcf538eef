/**
 * Loading index files for check and repair index (loadIndexFiles), which reads each file pack by
 * pack (visitIndex) instead of parsing it whole: for index files as cairn and restic write them,
 * spaced out, with keys in another order, unknown keys, the legacy array form, or damaged, the
 * master index ends up exactly as decoding each file whole would make it; a file that does not
 * decode (or lists compressed blobs in a version 1 repository) is reported with decodeIndex's
 * error and adds nothing, not even the packs read before the damage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadIndexFiles, type IndexFileRepository } from '../../src/checker/index-files.js';
import { messageOf } from '../../src/errors.js';
import { decodeIndex, encodeIndex, MasterIndex, type IndexFile } from '../../src/index/index.js';
import { hashId, idFromBytes, type BlobType, type Id } from '../../src/model/index.js';

const SEED = 20261124;
const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(idFromBytes);
/** A few pack and blob IDs, so that files share packs and blobs (duplicates). */
const sharedIdArb = fc.oneof(idArb, fc.constantFrom(...[1, 2, 3].map((n) => hashId(new Uint8Array([n])))));
const blobArb = fc.record({
  id: sharedIdArb,
  type: fc.constantFrom<BlobType>('data', 'tree'),
  offset: fc.integer({ min: 0, max: 0xffffffff }),
  length: fc.integer({ min: 0, max: 0xffffffff }),
  uncompressedLength: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
});
const indexArb: fc.Arbitrary<IndexFile> = fc.record({
  supersedes: fc.array(idArb, { maxLength: 2 }),
  packs: fc.array(fc.record({ id: sharedIdArb, blobs: fc.array(blobArb, { maxLength: 6 }) }), { maxLength: 5 }),
});

/** How a file is written: as cairn writes it, or in another shape the decoder must accept the same. */
const SHAPES = ['cairn', 'spaced', 'packs-first', 'unknown-key', 'pack-key', 'legacy', 'Packs'] as const;

function write(idx: IndexFile, shape: (typeof SHAPES)[number]): string {
  const text = new TextDecoder().decode(encodeIndex(idx));
  const doc = JSON.parse(text) as { supersedes?: unknown; packs: unknown };
  switch (shape) {
    case 'cairn':
      return text;
    case 'spaced':
      return ` \n${JSON.stringify(doc, null, '\t')}\r\n `;
    case 'packs-first':
      return JSON.stringify({ packs: doc.packs, ...(doc.supersedes !== undefined ? { supersedes: doc.supersedes } : {}) });
    case 'unknown-key':
      return JSON.stringify({ ...doc, note: { "a\"]}": [1, '{'] } });
    case 'pack-key': // strings with escaped quotes and brackets inside the pack objects
      return JSON.stringify({ ...doc, packs: (doc.packs as object[]).map((p) => ({ note: 'q"]}[{\\', ...p, 'x\\"': ['"'] })) });
    case 'legacy':
      return JSON.stringify(doc.packs);
    case 'Packs':
      return JSON.stringify({ Packs: doc.packs });
  }
}

const fileArb = fc.record({
  idx: indexArb,
  shape: fc.constantFrom(...SHAPES),
  // Damage: junk in place of one character (at a position as a fraction of the length), sometimes.
  damage: fc.option(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.string({ maxLength: 3 })), { freq: 3 }),
});

function entriesOf(index: MasterIndex): string[] {
  return [...index.entries()].map(({ id, entry }) => JSON.stringify([id, entry])).sort();
}

describe('loadIndexFiles', () => {
  it('builds the index decoding each file whole would build; a bad file is reported with its error and adds nothing', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fileArb, { minLength: 1, maxLength: 4 }), fc.constantFrom<1 | 2>(1, 2), async (files, version) => {
      const stored = new Map<Id, Uint8Array>();
      for (const f of files) {
        let text = write(f.idx, f.shape);
        if (f.damage !== null) {
          const at = Math.floor(f.damage[0] * text.length);
          text = text.slice(0, at) + f.damage[1] + text.slice(at + 1);
        }
        const bytes = new TextEncoder().encode(text);
        stored.set(hashId(bytes), bytes);
      }
      const repo: IndexFileRepository = {
        version,
        list: async function* () {
          yield* stored.keys();
        },
        loadUnpacked: async (_type, id) => stored.get(id)!,
      } as IndexFileRepository;

      // The model: each file decoded whole, in name order, added only when it is good.
      const model = new MasterIndex();
      const bad: Array<{ id: Id; message: string }> = [];
      const named = new Map<string, Id[]>();
      for (const id of [...stored.keys()].sort()) {
        let file: IndexFile;
        try {
          file = decodeIndex(stored.get(id)!, `index/${id}`);
        } catch (e) {
          bad.push({ id, message: messageOf(e) });
          continue;
        }
        if (version === 1 && file.packs.some((p) => p.blobs.some((b) => b.uncompressedLength > 0))) {
          bad.push({ id, message: `index/${id}: lists compressed blobs, which a version 1 repository cannot hold` });
          continue;
        }
        for (const p of file.packs) {
          model.addPack(p.id, p.blobs);
          const list = named.get(p.id) ?? [];
          if (!list.includes(id)) list.push(id);
          named.set(p.id, list);
        }
      }

      const index = new MasterIndex();
      const loaded = await loadIndexFiles(repo, index, 8);
      expect(loaded.bad.map((b) => ({ id: b.id, message: b.message }))).toEqual(bad);
      expect(loaded.bad.every((b) => b.code === 'ERR_CORRUPT')).toBe(true);
      expect(entriesOf(index)).toEqual(entriesOf(model));
      expect([...index.packIds()].sort()).toEqual([...model.packIds()].sort());
      expect(new Map([...loaded.packFiles].map(([p, ids]) => [p, [...ids].sort()]))).toEqual(new Map([...named].map(([p, ids]) => [p, [...ids].sort()])));
    }), { seed: SEED, numRuns: 300 });
  });
});
