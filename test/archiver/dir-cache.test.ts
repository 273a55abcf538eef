/**
 * The directory cache's file: what one snapshot records, the next one reads back; an entry
 * unused for DIR_CACHE_AGE snapshots is dropped; a cache whose index files are not all still in
 * the repository (prune, repair index) is dropped whole; a file that is damaged, cut short or of
 * another version is reported and started afresh, never trusted.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIR_CACHE_AGE, DirCache, type DirCacheEntry } from '../../src/archiver/index.js';
import type { TreeId } from '../../src/model/index.js';
import { tempDir } from '../helpers/tmp.js';

const id = (s: string): TreeId => createHash('sha256').update(s).digest('hex') as TreeId;
const key = (s: string): Buffer => createHash('sha256').update(`key ${s}`).digest();
const INDEX = [id('index 1'), id('index 2')];

function entry(s: string, subdirs = 2): DirCacheEntry {
  return { tree: id(s), files: 3, bytes: 2 ** 40 + 7, rows: Array.from({ length: subdirs }, (_, i) => i * 3 + 1), subtrees: Array.from({ length: subdirs }, (_, i) => id(`${s}/${i}`)) };
}

async function open(file: string, indexFiles = INDEX): Promise<{ cache: DirCache; problems: string[] }> {
  const problems: string[] = [];
  const cache = await DirCache.open(file, { indexFiles, onProblem: (m) => problems.push(m) });
  return { cache, problems };
}

describe('the directory cache file', () => {
  it('gives back what was set, after a save and an open, mode 0600', async () => {
    const file = join(tempDir('cairn-dircache-'), 'repo', 'dirs');
    const { cache, problems } = await open(file);
    expect(cache.size).toBe(0);
    cache.set(key('a'), entry('a'));
    cache.set(key('b'), entry('b', 0));
    await cache.save(INDEX);
    expect(problems).toEqual([]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await open(file, [...INDEX, id('index 3')]);
    expect(again.problems).toEqual([]);
    expect(again.cache.get(key('a'))).toMatchObject(entry('a'));
    expect(again.cache.get(key('b'))).toMatchObject(entry('b', 0));
    expect(again.cache.get(key('c'))).toBeUndefined();
  });

  it('finds what was set last for each key, before and after a save, across growth and replacement (model: a Map)', async () => {
    const dir = tempDir('cairn-dircache-');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat({ max: 150 }), fc.nat({ max: 3 }), fc.boolean()), { minLength: 100, maxLength: 600, size: 'max' }), async (ops) => {
        const file = join(dir, `dirs-${run++}`);
        const { cache } = await open(file);
        const model = new Map<number, DirCacheEntry>();
        let sets = 0;
        for (const [k, subdirs, isSet] of ops) {
          if (isSet) {
            const e = entry(`${k} ${subdirs} ${sets++}`, subdirs);
            cache.set(key(String(k)), e);
            model.set(k, e);
          } else {
            expect(cache.get(key(String(k)))).toEqual(model.get(k));
          }
        }
        expect(cache.size).toBe(model.size);
        await cache.save(INDEX);
        const again = await open(file);
        expect(again.cache.size).toBe(model.size);
        for (let k = 0; k <= 150; k++) expect(again.cache.get(key(String(k)))).toEqual(model.get(k));
      }),
      { seed: 20261125, numRuns: 60 },
    );
  });

  it(`drops an entry no snapshot used for ${DIR_CACHE_AGE} saves in a row, keeps one used meanwhile`, async () => {
    const file = join(tempDir('cairn-dircache-'), 'dirs');
    const first = await open(file);
    first.cache.set(key('old'), entry('old'));
    first.cache.set(key('used'), entry('used'));
    await first.cache.save(INDEX);
    for (let run = 1; run <= DIR_CACHE_AGE; run++) {
      const { cache } = await open(file);
      expect(cache.get(key('used'))?.tree).toBe(id('used'));
      await cache.save(INDEX);
    }
    const last = await open(file);
    expect(last.cache.get(key('used'))?.tree).toBe(id('used'));
    expect(last.cache.get(key('old'))).toBeUndefined();
  });

  it('removes temporary files a killed run left an hour ago or more, and no younger one', async () => {
    const dir = tempDir('cairn-dircache-');
    const file = join(dir, 'dirs');
    const old = join(dir, 'dirs.0123456789ab.tmp');
    const young = join(dir, 'dirs.ba9876543210.tmp');
    const other = join(dir, 'other.0123456789ab.tmp');
    for (const p of [old, young, other]) writeFileSync(p, 'partial');
    const hourAgo = new Date(Date.now() - 61 * 60 * 1000);
    for (const p of [old, other]) utimesSync(p, hourAgo, hourAgo);
    const { cache, problems } = await open(file);
    await cache.save(INDEX);
    expect(problems).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['dirs', 'dirs.ba9876543210.tmp', 'other.0123456789ab.tmp']);
  });

  it('is dropped whole when one of its index files is gone from the repository', async () => {
    const file = join(tempDir('cairn-dircache-'), 'dirs');
    const { cache } = await open(file);
    cache.set(key('a'), entry('a'));
    await cache.save(INDEX);
    const pruned = await open(file, [INDEX[0]!, id('index after prune')]);
    expect(pruned.problems).toEqual([]);
    expect(pruned.cache.size).toBe(0);
  });

  it('reports a damaged file (any byte changed, cut short, trailing bytes) and trusts none of it', async () => {
    const file = join(tempDir('cairn-dircache-'), 'dirs');
    const { cache } = await open(file);
    for (const s of ['a', 'b', 'c']) cache.set(key(s), entry(s));
    await cache.save(INDEX);
    const good = readFileSync(file);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ at: fc.nat({ max: good.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
            const b = Buffer.from(good);
            b[at] = (b[at] ?? 0) ^ xor;
            return b;
          }),
          fc.nat({ max: good.length - 1 }).map((n) => good.subarray(0, n)),
          fc.uint8Array({ minLength: 1, maxLength: 40 }).map((extra) => Buffer.concat([good, extra])),
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        ),
        async (bad) => {
          writeFileSync(file, bad);
          const r = await open(file);
          expect(r.cache.size).toBe(0);
          expect(r.problems).toHaveLength(1);
          expect(r.problems[0]).toMatch(/directory cache .* is damaged .*rebuilt/);
        },
      ),
      { seed: 20261125, numRuns: 300 },
    );
  });

  it('reports a file it cannot read (a directory in its place), and a save it cannot make', async () => {
    const dir = tempDir('cairn-dircache-');
    const { cache, problems } = await open(dir);
    expect(cache.size).toBe(0);
    expect(problems[0]).toMatch(/cannot read the directory cache .*EISDIR/);
    cache.set(key('a'), entry('a'));
    await cache.save(INDEX);
    expect(problems[1]).toMatch(/cannot write the directory cache .*EISDIR/);
  });
});
