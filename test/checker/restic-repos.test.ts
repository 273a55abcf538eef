/**
 * cairn check on repositories restic made: restic's own test fixtures (format v1, mixed and
 * duplicate packs, old JSON) and a fresh compressed v2 repository from restic 0.14. cairn and
 * restic agree on each: clean stays clean (with --read-data), and a damaged copy fails for both.
 * The repairs leave restic-made repositories in a state restic accepts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { ResticRepo } from '../helpers/restic.js';
import { cairnIn, copyRepository, filesOf, FIXTURE_PASSWORD, flipByte, packFiles, removeFile, resticCheck, unpackFixture } from './helpers.js';
import { jsonLines } from '../helpers/json.js';

const FIXTURES = ['small-repo', 'repo-restore-permissions-test', 'repo-same-timestamps', 'repo-mixed', 'repo-duplicates', 'copy-unstable-json'];

describe('restic fixtures', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-check-fixtures-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(FIXTURES)('%s: cairn check --read-data finds no errors, as restic', async (name) => {
    const repo = unpackFixture(name, join(root, name));
    const r = await cairnIn(repo, FIXTURE_PASSWORD)(['--json', 'check', '--read-data']);
    expect(r.code, r.err).toBe(0);
    const summary = jsonLines(r.out).at(-1)!;
    expect(summary).toMatchObject({ message_type: 'summary', num_errors: 0 });
    expect(summary['read_packs']).toBe(summary['packs']);
    expect((await resticCheck(repo, ['--read-data'], FIXTURE_PASSWORD)).code).toBe(0);
  }, 30_000);

  it('small-repo: mixed packs are a hint, as restic says', async () => {
    const repo = unpackFixture('small-repo', join(root, 'hint'));
    const r = await cairnIn(repo, FIXTURE_PASSWORD)(['check']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pack [0-9a-f]{64} holds both tree and data blobs/);
    expect(r.out).toContain('no errors were found');
  });

  it('small-repo, damaged: a flipped byte in a pack fails both checkers, naming the pack', async () => {
    const repo = unpackFixture('small-repo', join(root, 'damaged'));
    const packs = await packFiles(repo);
    await flipByte(packs[0]!.path, 100);
    const r = await cairnIn(repo, FIXTURE_PASSWORD)(['check', '--read-data']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: pack ${packs[0]!.id}: `);
    expect((await resticCheck(repo, ['--read-data'], FIXTURE_PASSWORD)).code).not.toBe(0);
  }, 30_000);

  it('small-repo: repair index from scratch, repair snapshots changes nothing; restic check still passes', async () => {
    const repo = unpackFixture('small-repo', join(root, 'repair'));
    for (const f of await filesOf(repo, 'index')) await removeFile(join(repo, 'index', f));
    const c = cairnIn(repo, FIXTURE_PASSWORD);
    const ri = await c(['repair', 'index']);
    expect(ri.code, ri.err).toBe(0);
    const rs = await c(['repair', 'snapshots']);
    expect(rs.code, rs.err).toBe(0);
    expect(rs.out).toContain('no snapshots were modified');
    expect((await c(['check', '--read-data'])).code).toBe(0);
    expect((await resticCheck(repo, ['--read-data'], FIXTURE_PASSWORD)).code).toBe(0);
  }, 30_000);
});

describe('a compressed v2 repository made by restic 0.14', () => {
  let restic: ResticRepo;

  beforeAll(async () => {
    restic = await ResticRepo.create({ password: 'pw' });
    const src = join(restic.root, 'src');
    const { mkdir } = await import('node:fs/promises');
    for (let d = 0; d < 3; d++) {
      await mkdir(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 4; f++) await writeFile(join(src, `d${d}`, `f${f}`), pseudoRandomBytes(30_000 + f * 1000, d * 10 + f));
      await writeFile(join(src, `d${d}`, 'text'), 'compressible '.repeat(5000));
    }
    await restic.backup(['src']);
  }, 60_000);

  afterAll(async () => {
    await restic?.cleanup();
  });

  it('clean for both; a flipped byte in a pack fails both with --read-data', async () => {
    const r = await cairnIn(restic.dir, 'pw')(['check', '--read-data']);
    expect(r.code, r.err).toBe(0);
    const copy = await copyRepository(restic.dir, join(restic.root, 'copy'));
    const pack = (await packFiles(copy))[0]!;
    await flipByte(pack.path, Math.floor(pack.size / 2));
    const bad = await cairnIn(copy, 'pw')(['check', '--read-data']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`pack ${pack.id}`);
    expect((await resticCheck(copy, ['--read-data'], 'pw')).code).not.toBe(0);
  }, 30_000);

  it('a deleted data pack: cairn repair index + repair snapshots --forget leave a repository restic checks clean', async () => {
    const copy = await copyRepository(restic.dir, join(restic.root, 'copy2'));
    const c = cairnIn(copy, 'pw');
    const packs = await packFiles(copy);
    // the largest pack holds data (restic keeps trees in their own, small packs)
    const victim = [...packs].sort((a, b) => b.size - a.size)[0]!;
    await removeFile(victim.path);
    expect((await c(['check'])).code).toBe(1);
    expect((await resticCheck(copy, [], 'pw')).code).not.toBe(0);
    expect((await c(['repair', 'index'])).code).toBe(0);
    const rs = await c(['repair', 'snapshots', '--forget']);
    expect(rs.code, rs.err).toBe(0);
    expect(rs.out).toMatch(/modified 1 snapshot/);
    expect((await c(['check', '--read-data'])).code).toBe(0);
    expect((await resticCheck(copy, ['--read-data'], 'pw')).code).toBe(0);
  }, 60_000);
});
