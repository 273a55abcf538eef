/**
 * `cairn repo info` against what is on disk: the files in keys/, snapshots/, index/ and data/, the
 * index files' blobs (distinct, by type, stored and uncompressed sizes), the config's chunker and
 * polynomial; on a cairn repository (FastCDC) and on one restic 0.14 made (Rabin), where the blob
 * numbers must equal restic's `stats --mode raw-data`.
 */
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cheapenResticKey } from '../helpers/cheap-key.js';
import { ResticRepo } from '../helpers/restic.js';
import { cairn } from './helpers.js';
import { fixtureDir, makeFixture, type Fixture } from './inspect-fixture.js';

interface InfoJson {
  message_type: string;
  repository: string;
  id: string;
  version: number;
  chunker: { algorithm: string; [k: string]: unknown };
  chunker_polynomial: string;
  keys: number;
  snapshots: number;
  index_files: number;
  packs: number;
  pack_bytes: number;
  indexed_packs: number;
  data_blobs: number;
  tree_blobs: number;
  total_blob_count: number;
  total_size: number;
  total_uncompressed_size: number;
  compression_ratio?: number;
  compression_progress?: number;
  compression_space_saving?: number;
}

interface IndexJson {
  packs: { id: string; blobs: { id: string; type: string; length: number; uncompressed_length?: number }[] }[];
}

/** What the repository directory holds, counted by the test. */
async function onDisk(repo: string, catIndex: (id: string) => Promise<string>) {
  const count = async (d: string) => (await readdir(join(repo, d))).length;
  let packs = 0;
  let packBytes = 0;
  for (const sub of await readdir(join(repo, 'data'))) {
    for (const name of await readdir(join(repo, 'data', sub))) {
      packs++;
      packBytes += (await stat(join(repo, 'data', sub, name))).size;
    }
  }
  const blobs = new Map<string, { type: string; length: number; plain: number }>();
  const indexedPacks = new Set<string>();
  for (const name of await readdir(join(repo, 'index'))) {
    for (const p of (JSON.parse(await catIndex(name)) as IndexJson).packs) {
      indexedPacks.add(p.id);
      for (const b of p.blobs) {
        if (!blobs.has(`${b.type}:${b.id}`)) blobs.set(`${b.type}:${b.id}`, { type: b.type, length: b.length, plain: b.uncompressed_length ?? b.length - 32 });
      }
    }
  }
  const all = [...blobs.values()];
  return {
    keys: await count('keys'),
    snapshots: await count('snapshots'),
    index_files: await count('index'),
    packs,
    pack_bytes: packBytes,
    indexed_packs: indexedPacks.size,
    data_blobs: all.filter((b) => b.type === 'data').length,
    tree_blobs: all.filter((b) => b.type === 'tree').length,
    total_blob_count: all.length,
    total_size: all.reduce((s, b) => s + b.length, 0),
    total_uncompressed_size: all.reduce((s, b) => s + b.plain + 32, 0),
  };
}

describe('cairn repo info', () => {
  const root = fixtureDir('cairn-info-');
  let f: Fixture;

  beforeAll(async () => {
    f = await makeFixture(root);
  });

  it('cairn repository: counts and sizes as on disk and in the index; chunker and polynomial from the config', async () => {
    const r = await f.run(['repo', 'info', '--json']);
    expect(r.code, r.err).toBe(0);
    const info = JSON.parse(r.out) as InfoJson;
    const config = JSON.parse((await f.run(['cat', 'config'])).out) as { id: string; version: number; chunker_polynomial: string };
    expect(info).toMatchObject({
      message_type: 'repository_info',
      repository: f.repo,
      id: config.id,
      version: 2,
      chunker: { algorithm: 'fastcdc', min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024, normalization: 2 },
      chunker_polynomial: config.chunker_polynomial,
      ...(await onDisk(f.repo, async (id) => (await f.run(['cat', 'index', id])).out)),
    });
    expect(info.snapshots).toBe(3);
    expect(info.keys).toBe(1);
    // Nothing unreferenced: the same numbers as stats --mode raw-data over every snapshot.
    const raw = JSON.parse((await f.run(['stats', '--json', '--mode', 'raw-data'])).out) as Record<string, number>;
    for (const k of ['total_size', 'total_uncompressed_size', 'total_blob_count', 'compression_ratio', 'compression_progress', 'compression_space_saving']) {
      expect(info[k as keyof InfoJson], k).toBe(raw[k]);
    }
  });

  it('text: the same figures for people', async () => {
    const r = await f.run(['repo', 'info']);
    expect(r.code, r.err).toBe(0);
    const info = JSON.parse((await f.run(['repo', 'info', '--json'])).out) as InfoJson;
    expect(r.out).toContain(`repository ${info.id.slice(0, 10)} at ${f.repo}\n`);
    expect(r.out).toMatch(/ {2}format version: {4}2 \(compression\)\n/);
    expect(r.out).toMatch(/ {2}chunker: {11}fastcdc \(keyed\), min 512 KiB, avg 1 MiB, max 8 MiB, normalization 2\n/);
    expect(r.out).toContain(`  snapshots:         3\n`);
    expect(r.out).toContain(`  blobs:             ${info.data_blobs} data, ${info.tree_blobs} tree\n`);
    expect(r.out).toMatch(/ {2}compression: {7}ratio \d+\.\d\dx, \d+\.\d\d% compressed, space saving \d+\.\d\d%\n/);
  });

  describe('on a repository restic 0.14 made', () => {
    let restic: ResticRepo;
    beforeAll(async () => {
      restic = await ResticRepo.create();
      await cheapenResticKey(restic.dir, restic.password);
      await writeFile(join(restic.root, 'a.txt'), 'some text '.repeat(500));
      await writeFile(join(restic.root, 'b.bin'), Buffer.alloc(3000, 7));
      await restic.backup(['a.txt', 'b.bin']);
    });
    afterAll(async () => {
      await rm(restic.root, { recursive: true, force: true });
    });

    it('rabin chunker with restic\'s polynomial; blob numbers equal restic\'s stats --mode raw-data', async () => {
      const env = { CAIRN_PASSWORD: restic.password };
      const r = await cairn(['-r', restic.dir, 'repo', 'info', '--json'], { env });
      expect(r.code, r.err).toBe(0);
      const info = JSON.parse(r.out) as InfoJson;
      const config = await restic.config();
      expect(info).toMatchObject({ id: config.id, version: 2, chunker: { algorithm: 'rabin' }, chunker_polynomial: config.chunker_polynomial, snapshots: 1, keys: 1 });
      const raw = await restic.json<{ total_size: number; total_blob_count: number }>(['stats', '--json', '--mode', 'raw-data']);
      expect(info.total_size).toBe(raw.total_size);
      expect(info.total_blob_count).toBe(raw.total_blob_count);
      expect(info).toMatchObject(await onDisk(restic.dir, async (id) => (await cairn(['-r', restic.dir, 'cat', 'index', id], { env })).out));
      const text = await cairn(['-r', restic.dir, 'repo', 'info'], { env });
      expect(text.out).toContain(`  chunker:           rabin (restic's), polynomial 0x${config.chunker_polynomial}\n`);
    });
  });
});
