/**
 * Large files through the worker-thread paths: a snapshot of two large files that share most of
 * their chunks (a model checkpoint and its next version), restored by cairn (blobs fetched several
 * at once, written at their offsets, shared blobs loaded once) and by restic (the oracle reads
 * what cairn wrote). A damaged pack must never leave a wrong file behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn, scratchRepository } from '../cli/helpers.js';
import { runRestic } from '../helpers/restic.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };
let root: string;
let repo: string;
let src: string;
let a: Buffer;
let b: Buffer;

beforeAll(async () => {
  ({ root, repo } = await scratchRepository('cairn-large-restore-', ENV));
  src = join(root, 'src');
  a = randomBytes(24 << 20);
  b = Buffer.from(a);
  // Rewrite 3% of the 64 KiB regions, as a training step would.
  for (let r = 0; r < b.length / 65536; r++) if (r % 33 === 7) randomBytes(65536).copy(b, r * 65536);
  await rm(src, { recursive: true, force: true });
  await mkdir(src);
  await writeFile(join(src, 'a.ckpt'), a);
  await writeFile(join(src, 'b.ckpt'), b);
  await writeFile(join(src, 'small.txt'), 'hello');
  const snap = await cairn(['-r', repo, 'snapshot', '--json', src], { env: ENV });
  expect(snap.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('large files', () => {
  it('cairn and restic restore both files byte for byte; restic checks every pack', async () => {
    const mine = join(root, 'mine');
    const r = await cairn(['-r', repo, 'restore', 'latest', '--target', mine, '--verify'], { env: ENV });
    expect(r.code).toBe(0);
    expect((await readFile(join(mine, src, 'a.ckpt'))).equals(a)).toBe(true);
    expect((await readFile(join(mine, src, 'b.ckpt'))).equals(b)).toBe(true);
    const theirs = join(root, 'theirs');
    await runRestic(['-r', repo, 'restore', 'latest', '--target', theirs], 'pw');
    expect((await readFile(join(theirs, src, 'a.ckpt'))).equals(a)).toBe(true);
    expect((await readFile(join(theirs, src, 'b.ckpt'))).equals(b)).toBe(true);
    await runRestic(['-r', repo, 'check', '--read-data'], 'pw');
  }, 60_000);

  it('an unchanged second snapshot stores nothing new', async () => {
    const r = await cairn(['-r', repo, 'snapshot', '--json', src], { env: ENV });
    expect(r.code).toBe(0);
    const summary = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((j) => j['message_type'] === 'summary' || 'data_added' in j);
    expect(summary?.['data_blobs']).toBe(0); // trees above may change (the test adds directories next to src)
  }, 60_000);

  it('a damaged data pack leaves no wrong file behind', async () => {
    const packs: string[] = [];
    for (const d of await readdir(join(repo, 'data'))) for (const f of await readdir(join(repo, 'data', d))) packs.push(join(repo, 'data', d, f));
    // The largest pack holds data blobs of the big files: flip a byte in its first blob.
    const sizes = await Promise.all(packs.map(async (p) => (await stat(p)).size));
    const victim = packs[sizes.indexOf(Math.max(...sizes))]!;
    const bytes = await readFile(victim);
    bytes[1000] = bytes[1000]! ^ 0xff;
    await writeFile(victim, bytes);
    const target = join(root, 'damaged');
    const r = await cairn(['-r', repo, 'restore', 'latest', '--target', target], { env: ENV });
    expect(r.code).not.toBe(0);
    let failed = 0;
    for (const [name, want] of [['a.ckpt', a], ['b.ckpt', b]] as const) {
      const got = await readFile(join(target, src, name)).catch(() => undefined);
      if (got === undefined) failed++;
      else expect(got.equals(want)).toBe(true);
    }
    expect(failed).toBeGreaterThan(0);
    expect(await readFile(join(target, src, 'small.txt'), 'utf8')).toBe('hello');
  }, 60_000);
});
