/** The generated checkpoint pair: deterministic by seed, bf16-like, the second ~3% rewritten. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildManifest, compareManifests, generateCheckpoints, REGION_SIZE } from '../../src/benchmark/index.js';

const root = await mkdtemp(join(tmpdir(), 'cairn-bench-data-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const SIZE = 8 * 1024 * 1024; // 128 regions

describe('generateCheckpoints', () => {
  it('writes the same bytes for the same seed, and other bytes for another seed', async () => {
    const a = await generateCheckpoints(join(root, 'a'), { size: SIZE, seed: 7 });
    const b = await generateCheckpoints(join(root, 'b'), { size: SIZE, seed: 7 });
    const c = await generateCheckpoints(join(root, 'c'), { size: SIZE, seed: 8 });
    for (const i of [0, 1]) {
      const bytes = await readFile(a.files[i]!);
      expect(bytes.length).toBe(SIZE);
      expect(sha(bytes)).toBe(sha(await readFile(b.files[i]!)));
      expect(sha(bytes)).not.toBe(sha(await readFile(c.files[i]!)));
    }
    expect(a.changedRegions).toEqual(b.changedRegions);
  });

  it('rewrites about 3% of the 64 KiB regions of the second file, and nothing else', async () => {
    const set = await generateCheckpoints(join(root, 'd'), { size: SIZE, seed: 3 });
    const [first, second] = await Promise.all(set.files.map((f) => readFile(f)));
    const differing: number[] = [];
    for (let r = 0; r < SIZE / REGION_SIZE; r++) {
      const at = r * REGION_SIZE;
      if (Buffer.compare(first!.subarray(at, at + REGION_SIZE), second!.subarray(at, at + REGION_SIZE)) !== 0) differing.push(r);
    }
    expect(differing).toEqual(set.changedRegions);
    const share = differing.length / (SIZE / REGION_SIZE);
    expect(share).toBeGreaterThan(0.02);
    expect(share).toBeLessThan(0.04);
  });

  it('holds bf16 values distributed like weights (mean ~0, sd ~0.02)', async () => {
    const set = await generateCheckpoints(join(root, 'e'), { size: 1024 * 1024, seed: 1 });
    const bytes = await readFile(set.files[0]!);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let sum = 0;
    let sq = 0;
    const n = bytes.length / 2;
    for (let i = 0; i < n; i++) {
      u[0] = bytes.readUInt16LE(i * 2) << 16;
      sum += f[0]!;
      sq += f[0]! * f[0]!;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(sd).toBeGreaterThan(0.018);
    expect(sd).toBeLessThan(0.022);
  });

  it('refuses a size that is not a multiple of 64 KiB', async () => {
    await expect(generateCheckpoints(join(root, 'f'), { size: 100_000 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('manifests', () => {
  it('notice a restore that differs in bytes, size or presence', async () => {
    const set = await generateCheckpoints(join(root, 'g'), { size: REGION_SIZE, seed: 2 });
    const m = await buildManifest(set.dir);
    expect(m.files).toBe(2);
    expect(compareManifests(m, m)).toEqual([]);
    const other = await buildManifest((await generateCheckpoints(join(root, 'h'), { size: REGION_SIZE, seed: 9 })).dir);
    expect(compareManifests(m, other)).toEqual(['step-1000.bf16: different bytes (SHA-256)', 'step-2000.bf16: different bytes (SHA-256)']);
    const shorter = await buildManifest((await generateCheckpoints(join(root, 'i'), { size: 2 * REGION_SIZE, seed: 2 })).dir);
    expect(compareManifests(m, shorter)[0]).toMatch(/step-1000.bf16: 131072 bytes instead of 65536/);
    const empty = { ...m, entries: new Map() };
    expect(compareManifests(m, empty)).toEqual(['step-1000.bf16: missing', 'step-2000.bf16: missing']);
  });
});
