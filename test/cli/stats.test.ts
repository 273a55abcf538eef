/**
 * `cairn stats` on real snapshots (test/cli/inspect-fixture.ts), each mode checked twice: against
 * numbers the test computes itself (restore-size from the files on disk, raw-data from the index
 * files) and against restic 0.14's `stats --json` on the same repository (all four modes, for
 * all snapshots, `latest`, and one snapshot by ID).
 */
import { lstat, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRestic } from '../helpers/restic.js';
import { fixtureDir, makeFixture, PASSWORD, type Fixture } from './inspect-fixture.js';

interface StatsJson {
  total_size: number;
  total_file_count: number;
  total_blob_count?: number;
  total_uncompressed_size?: number;
  compression_ratio?: number;
  compression_progress?: number;
  compression_space_saving?: number;
  snapshots_count: number;
}

interface IndexJson {
  packs: { id: string; blobs: { id: string; type: string; offset: number; length: number; uncompressed_length?: number }[] }[];
}

describe('cairn stats', () => {
  const root = fixtureDir('cairn-stats-');
  let f: Fixture;

  beforeAll(async () => {
    f = await makeFixture(root);
  });

  async function stats(...args: string[]): Promise<StatsJson> {
    const r = await f.run(['stats', '--json', ...args]);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as StatsJson;
  }

  async function resticStats(...args: string[]): Promise<StatsJson> {
    return JSON.parse((await runRestic(['-r', f.repo, '--no-cache', 'stats', '--json', ...args], PASSWORD)).text()) as StatsJson;
  }

  it('restore-size of the latest snapshot: every entry, and the bytes of its files (a hard link once), as on disk', async () => {
    // The source directory is now as the latest snapshot saw it.
    let entries = 0;
    let bytes = 0;
    const inodes = new Set<number>();
    const walk = async (p: string): Promise<void> => {
      const st = await lstat(p);
      entries++;
      if (st.isFile() && !inodes.has(st.ino)) {
        inodes.add(st.ino);
        bytes += st.size;
      }
      if (st.isDirectory()) for (const name of await readdir(p)) await walk(join(p, name));
    };
    await walk(f.src);
    expect(await stats('latest')).toEqual({ total_size: bytes, total_file_count: entries, snapshots_count: 1 });
  });

  it('raw-data over all snapshots: the distinct blobs of the index, as stored, with the compression figures', async () => {
    const blobs = new Map<string, { length: number; plain: number; compressed: boolean }>();
    for (const name of await readdir(join(f.repo, 'index'))) {
      const r = await f.run(['cat', 'index', name]);
      for (const p of (JSON.parse(r.out) as IndexJson).packs) {
        for (const b of p.blobs) {
          const key = `${b.type}:${b.id}`;
          if (blobs.has(key)) continue;
          const compressed = (b.uncompressed_length ?? 0) > 0;
          blobs.set(key, { length: b.length, plain: compressed ? b.uncompressed_length! : b.length - 32, compressed });
        }
      }
    }
    const all = [...blobs.values()];
    const sum = (l: typeof all, g: (b: (typeof all)[number]) => number) => l.reduce((s, b) => s + g(b), 0);
    const stored = sum(all, (b) => b.length);
    const uncompressed = sum(all, (b) => b.plain + 32);
    const comp = all.filter((b) => b.compressed);
    const s = await stats('--mode', 'raw-data');
    expect(s).toMatchObject({ total_size: stored, total_uncompressed_size: uncompressed, total_file_count: 0, total_blob_count: all.length, snapshots_count: 3 });
    expect(comp.length).toBeGreaterThan(0); // the tree blobs at least compress
    expect(s.compression_ratio).toBeCloseTo(sum(comp, (b) => b.plain + 32) / sum(comp, (b) => b.length), 10);
    expect(s.compression_progress).toBeCloseTo((sum(comp, (b) => b.plain + 32) / uncompressed) * 100, 10);
    expect(s.compression_space_saving).toBeCloseTo((1 - stored / uncompressed) * 100, 10);
  });

  it('every mode agrees with restic 0.14\'s stats --json (all snapshots, latest, one by ID, a filter)', async () => {
    for (const mode of ['restore-size', 'files-by-contents', 'blobs-per-file', 'raw-data']) {
      for (const sel of [[], ['latest'], [f.a.slice(0, 8)], ['--host', 'other']]) {
        const ours = await stats('--mode', mode, ...sel);
        const theirs = await resticStats('--mode', mode, ...sel);
        // restic 0.14 has no compression figures (0.15 added them with these names).
        const { total_uncompressed_size: _u, compression_ratio: _r, compression_progress: _p, compression_space_saving: _s, ...common } = ours;
        expect(common, `${mode} ${sel.join(' ')}`).toEqual(theirs);
      }
    }
  });

  it('text: restic\'s layout', async () => {
    const r = await f.run(['stats', '--mode', 'raw-data']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual(['scanning...', 'Stats in raw-data mode:', '     Snapshots processed:  3']);
    expect(lines[3]).toMatch(/^ {8}Total Blob Count: {2}\d+$/);
    expect(lines[4]).toMatch(/^ Total Uncompressed Size: {2}\d+\.\d{3} KiB$/);
    expect(lines[5]).toMatch(/^ {14}Total Size: {2}\d+\.\d{3} KiB$/);
    expect(lines.slice(6).map((l) => l.split(':')[0]!.trim())).toEqual(['Compression Progress', 'Compression Ratio', 'Compression Space Saving']);
    const q = await f.run(['stats', '-q', 'latest']);
    expect(q.out).toMatch(/^Stats in restore-size mode:\n {5}Snapshots processed: {2}1\n {8}Total File Count: {2}\d+\n {14}Total Size: {2}\d+ B\n$/);
  });

  it('a snapshot file that does not load: a warning, the others counted, then ERR_INCOMPLETE (find alike)', async () => {
    const bad = join(f.repo, 'snapshots', 'ab'.repeat(32));
    await writeFile(bad, 'not a snapshot');
    try {
      const r = await f.run(['stats', '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out)).toMatchObject({ snapshots_count: 3 });
      const [warning, error] = r.err.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(warning).toMatchObject({ message_type: 'error', during: 'stats', item: `snapshots/${'ab'.repeat(32)}`, error: { code: 'SNAPSHOT_UNREADABLE' } });
      expect(error).toMatchObject({ message_type: 'error', code: 'ERR_INCOMPLETE' });
      const found = await f.run(['find', '--json', 'keep.txt']);
      expect(found.code).toBe(1);
      expect(JSON.parse(found.out)).toHaveLength(3);
      expect(found.err).toContain('ERR_INCOMPLETE');
      // A snapshot named explicitly does not need the others.
      expect((await f.run(['stats', '--json', f.b])).code).toBe(0);
    } finally {
      await rm(bad);
    }
  });

  it('an unknown mode or snapshot: exit 1 with the code, nothing on stdout', async () => {
    const bad = await f.run(['stats', '--json', '--mode', 'bogus']);
    expect(bad.code).toBe(1);
    expect(bad.out).toBe('');
    expect(JSON.parse(bad.err)).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const missing = await f.run(['stats', '--json', 'ffffffff']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.err)).toMatchObject({ code: 'ERR_SNAPSHOT_NOT_FOUND' });
  });
});
