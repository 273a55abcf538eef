/**
 * The oracle: real restic. A fresh repository (random polynomial) backs up files of assorted sizes
 * and shapes; for every file, the SHA-256 of each chunk cairn's Rabin chunker cuts must equal the
 * data blob IDs restic lists in the file's tree node, in order.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkStream } from '../../src/chunker/stream.js';
import { createRabinChunker, parsePolynomial, RABIN_MAX_SIZE } from '../../src/chunker/rabin/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { ResticRepo, resticVersion } from '../helpers/restic.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The files to back up: name → content. */
function makeFiles(): Map<string, Uint8Array> {
  let seed = 0;
  const rnd = (n: number): Uint8Array => pseudoRandomBytes(n, ++seed);
  return new Map<string, Uint8Array>([
    ['empty', new Uint8Array(0)],
    ['one-byte', rnd(1)],
    ['100k', rnd(100 * KiB)],
    ['600k', rnd(600 * KiB)],
    ['6m', rnd(6_000_000)],
    ['9m', rnd(9 * MiB + 4321)],
    ['zeros-then-random', concat(new Uint8Array(2 * MiB + 777), rnd(1_500_000))],
    // A constant run has a constant fingerprint, so (almost surely) only MaxSize cuts.
    ['constant-9m', new Uint8Array(9 * MiB).fill(0x61)],
  ]);
}

/** cairn's Rabin chunks of `data`: SHA-256 (the blob ID restic would give) and length. */
async function cairnChunks(pol: bigint, data: Uint8Array): Promise<Array<{ id: string; length: number }>> {
  const chunker = createRabinChunker(pol);
  // Feed it in uneven pieces, as a file reader would.
  const pieces: Uint8Array[] = [];
  for (let o = 0; o < data.length; o += 1_000_003) pieces.push(data.subarray(o, o + 1_000_003));
  const out: Array<{ id: string; length: number }> = [];
  for await (const c of chunkStream(chunker, pieces)) out.push({ id: createHash('sha256').update(c.data).digest('hex'), length: c.length });
  return out;
}

describe('Rabin chunker against restic', () => {
  let repo: ResticRepo;

  beforeAll(async () => {
    const version = resticVersion();
    if (version === undefined) throw new Error('restic is not installed: apt-get install restic (CI installs it in .ci/run)');
    repo = await ResticRepo.create();
  }, 120_000);

  afterAll(async () => {
    await repo?.cleanup();
  });

  it('cuts every file into the blobs restic stores', { timeout: 120_000 }, async () => {
    const files = makeFiles();
    const dir = join(repo.root, 'src');
    await mkdir(dir);
    for (const [name, data] of files) await writeFile(join(dir, name), data);

    // Every restic run spends ~0.7 s deriving the key: run the independent ones together, and back
    // up the relative path `src` (from repo.root) so the tree walk is short.
    const [config, summary] = await Promise.all([repo.config(), repo.backup(['src'])]);
    expect(config.chunker_polynomial).toMatch(/^[0-9a-f]{14}$/);
    const pol = parsePolynomial(config.chunker_polynomial);
    expect(summary.total_files_processed).toBe(files.size);
    const nodes = await repo.list(summary.snapshot_id, 'src');

    let multiChunk = 0;
    let contentDefined = 0;
    for (const [name, data] of files) {
      const node = nodes.find((n) => n.name === name);
      expect(node, name).toBeDefined();
      expect(node!.size ?? 0, name).toBe(data.length);
      const expected = node!.content ?? [];
      const got = await cairnChunks(pol, data);
      expect(got.map((c) => c.id), `${name} (polynomial ${config.chunker_polynomial})`).toEqual(expected);
      if (expected.length > 1) multiChunk++;
      // A cut that is neither at the end nor at MaxSize is content-defined (zeros cut at MinSize).
      const lengths = got.slice(0, -1).map((c) => c.length);
      if (name !== 'zeros-then-random') contentDefined += lengths.filter((l) => l !== RABIN_MAX_SIZE).length;
    }
    // The comparison covered MinSize (zeros), MaxSize (constant, 9m) and content-defined cuts.
    // restic draws the polynomial at random: a random 6 MB and 9 MB file both without a
    // content-defined cut has a probability of about 2e-6.
    expect(multiChunk).toBeGreaterThanOrEqual(3);
    expect(contentDefined).toBeGreaterThanOrEqual(1);
  });
});
