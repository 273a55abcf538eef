/**
 * `cairn check` against restic's `check` as the oracle, on a cairn-made repository: clean, both
 * say so; after each kind of damage (a byte flipped inside a pack, a pack deleted or truncated,
 * an index file deleted, a snapshot file corrupted), both fail, and cairn names the damaged file
 * (and the snapshot paths that lose data), reporting every problem, not only the first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepository, cairnIn, filesByPack, filesOf, flipByte, makeRepository, packFiles, removeFile, resticCheck, truncateFile } from './helpers.js';
import { jsonLines } from '../helpers/json.js';

describe('cairn check and restic check agree', () => {
  let root: string;
  let clean: string;
  let n = 0;
  let dataPacks: string[];
  let byPack: Map<string, Set<string>>;

  const damaged = async (): Promise<string> => copyRepository(clean, join(root, `copy-${n++}`));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-check-'));
    clean = (await makeRepository(root)).repo;
    const info = await filesByPack(clean);
    byPack = info.packs;
    dataPacks = [...info.types].filter(([, t]) => t === 'data').map(([p]) => p).sort();
    expect(dataPacks.length).toBeGreaterThan(3);
  }, 60_000);

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a sound repository: no errors, with and without --read-data, for both', async () => {
    const c = cairnIn(clean);
    const plain = await c(['check']);
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).toContain('no errors were found');
    expect(plain.err).toBe('');
    const full = await c(['check', '--read-data']);
    expect(full.code, full.err).toBe(0);
    expect(full.out).toMatch(/read all data \(\d+ packs/);
    const json = await c(['--json', 'check', '--read-data']);
    expect(json.code).toBe(0);
    const summary = jsonLines(json.out).at(-1)!;
    expect(summary).toMatchObject({ message_type: 'summary', num_errors: 0, broken_packs: [], suggest_repair_index: false, suggest_prune: false, snapshots: 2 });
    expect(summary['read_packs']).toBe(summary['packs']);
    expect((await resticCheck(clean, ['--read-data'])).code).toBe(0);
    // check leaves no lock behind
    expect(await filesOf(clean, 'index')).not.toHaveLength(0);
  }, 30_000);

  it('a flipped byte inside a pack: --read-data names the pack and the blob; restic --read-data fails too', async () => {
    const repo = await damaged();
    const pack = (await packFiles(repo)).find((p) => p.id === dataPacks[0])!;
    await flipByte(pack.path, 40); // inside the first blob's ciphertext
    const c = cairnIn(repo);
    expect((await c(['check'])).code).toBe(0); // the structure is intact
    const r = await c(['check', '--read-data']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`pack ${pack.id}: data blob`);
    expect(r.err).toContain('ciphertext verification failed');
    expect(r.err).toMatch(/cairn: 1 error found/);
    const json = await c(['--json', 'check', '--read-data']);
    expect(json.code).toBe(1);
    const errors = jsonLines(json.err).filter((l) => l['kind'] !== undefined);
    expect(errors).toEqual([expect.objectContaining({ message_type: 'error', kind: 'blob-damaged', code: 'ERR_AUTH_FAILED', pack: pack.id })]);
    expect(jsonLines(json.out).at(-1)).toMatchObject({ message_type: 'summary', num_errors: 1, broken_packs: [pack.id] });
    const restic = await resticCheck(repo, ['--read-data']);
    expect(restic.code).not.toBe(0);
    expect(restic.output).toContain(pack.id);
  }, 30_000);

  it('a flipped byte in a pack header is found, and the pack subset n/t that holds it finds it', async () => {
    const repo = await damaged();
    const pack = (await packFiles(repo)).find((p) => p.id === dataPacks[1])!;
    await flipByte(pack.path, pack.size - 10); // inside the sealed header
    const c = cairnIn(repo);
    const group = (parseInt(pack.id.slice(0, 2), 16) % 4) + 1;
    const hit = await c(['check', '--read-data-subset', `${group}/4`]);
    expect(hit.code).toBe(1);
    expect(hit.err).toContain(`pack ${pack.id}: its header cannot be read`);
    const miss = await c(['check', '--read-data-subset', `${(group % 4) + 1}/4`]);
    expect(miss.code, miss.err).toBe(0);
    expect((await resticCheck(repo, ['--read-data'])).code).not.toBe(0);
  }, 30_000);

  it('a deleted pack: the pack and every file path that loses data are named; restic fails too', async () => {
    const repo = await damaged();
    const lost = dataPacks[2]!;
    await removeFile((await packFiles(repo)).find((p) => p.id === lost)!.path);
    const r = await cairnIn(repo)(['--json', 'check']);
    expect(r.code).toBe(1);
    const errors = jsonLines(r.err).filter((l) => l['kind'] !== undefined);
    expect(errors[0]).toMatchObject({ kind: 'pack-missing', pack: lost, code: 'ERR_NOT_FOUND' });
    const paths = errors.filter((e) => e['kind'] === 'blob-missing').map((e) => e['path'] as string);
    const expected = [...byPack.get(lost)!].sort();
    // each file that loses data is named (by its path in the snapshot that first reached it)
    expect(new Set(paths.map((p) => p.replace(/^.*\/src/, '')))).toEqual(new Set(expected.map((p) => p.replace(/^.*\/src/, ''))));
    for (const e of errors.filter((x) => x['kind'] === 'blob-missing')) {
      expect(e['message']).toMatch(/^snapshot [0-9a-f]{8} \/.*: data blob [0-9a-f]{64} is stored only in missing pack/);
      expect((e['snapshots'] as string[]).length).toBeGreaterThan(0);
    }
    expect(jsonLines(r.out).at(-1)).toMatchObject({ num_errors: errors.length, broken_packs: [lost], suggest_repair_index: true });
    const restic = await resticCheck(repo);
    expect(restic.code).not.toBe(0);
    expect(restic.output).toContain(lost);
  }, 30_000);

  it('a truncated pack: wrong size, named; restic fails too', async () => {
    const repo = await damaged();
    const pack = (await packFiles(repo)).find((p) => p.id === dataPacks[3])!;
    await truncateFile(pack.path, pack.size - 100);
    const r = await cairnIn(repo)(['check']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: pack ${pack.id}: unexpected file size: ${pack.size - 100} bytes, the index implies ${pack.size}`);
    const full = await cairnIn(repo)(['check', '--read-data']);
    expect(full.code).toBe(1);
    expect(full.err).toContain(`pack ${pack.id}: its header cannot be read`);
    expect((await resticCheck(repo)).code).not.toBe(0);
  }, 30_000);

  it('a deleted index file: its packs are unreferenced (a hint) and the blobs they hold are missing (errors); restic fails too', async () => {
    const repo = await damaged();
    const [first] = await filesOf(repo, 'index');
    await removeFile(join(repo, 'index', first!));
    const r = await cairnIn(repo)(['-v', 'check']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/not referenced in any index/);
    expect(r.out).toMatch(/packs? (was|were) found that no index names/);
    expect(r.err).toMatch(/is not in the index/);
    expect((await resticCheck(repo)).code).not.toBe(0);
  }, 30_000);

  it('a damaged index file is named, and the rest of the check still runs', async () => {
    const repo = await damaged();
    const [first] = await filesOf(repo, 'index');
    await flipByte(join(repo, 'index', first!), 50);
    const r = await cairnIn(repo)(['check']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: index/${first}: cannot be loaded: `);
    expect(r.out).toContain('check snapshots, trees and blobs');
    expect((await resticCheck(repo)).code).not.toBe(0);
  }, 30_000);

  it('a corrupted snapshot file is named; the other snapshot is still checked; restic fails too', async () => {
    const repo = await damaged();
    const [first] = await filesOf(repo, 'snapshots');
    await flipByte(join(repo, 'snapshots', first!), 20);
    const r = await cairnIn(repo)(['--json', 'check']);
    expect(r.code).toBe(1);
    const errors = jsonLines(r.err).filter((l) => l['kind'] !== undefined);
    expect(errors).toEqual([expect.objectContaining({ kind: 'snapshot', snapshot: first, code: 'ERR_CORRUPT' })]);
    expect(errors[0]!['message']).toMatch(new RegExp(`^snapshots/${first}: cannot be loaded: its content hashes to [0-9a-f]{64}, not to its name`));
    expect(jsonLines(r.out).at(-1)).toMatchObject({ num_errors: 1, snapshots: 2 });
    expect((await resticCheck(repo)).code).not.toBe(0);
  }, 30_000);

  it('usage: --read-data with --read-data-subset, and bad subsets, are refused before the repository is opened', async () => {
    const c = cairnIn(join(root, 'nowhere'));
    expect((await c(['check', '--read-data', '--read-data-subset', '1/2'])).code).toBe(1);
    for (const bad of ['0/3', '4/3', '1/257', '0%', '101%', 'x', '1/2/3', '-5']) {
      const r = await c(['--json', 'check', '--read-data-subset', bad]);
      expect(r.code, bad).toBe(1);
      expect(JSON.parse(r.err.trim().split('\n').at(-1)!)).toMatchObject({ code: bad === '-5' ? expect.stringMatching(/ERR_USAGE|ERR_INVALID_ARGUMENT/) : 'ERR_INVALID_ARGUMENT' });
    }
  });
});
