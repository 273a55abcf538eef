/**
 * The benchmark results file `cairn plan` reads: where it is (CAIRN_CACHE_DIR, XDG_CACHE_HOME,
 * HOME), that saving merges per dataset, records cairn's throughput and the machine, writes
 * atomically with mode 0600, and that a damaged file is replaced on save but refused on load.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchResultsPath, loadBenchResults, saveBenchResults } from '../../src/index.js';
import { fakeSummary } from './bench-summary.js';
import { tempDir } from '../helpers/tmp.js';

describe('benchmark results file', () => {
  it('lives in CAIRN_CACHE_DIR, else XDG_CACHE_HOME/cairn, else ~/.cache/cairn', () => {
    expect(benchResultsPath({ CAIRN_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c/bench.json');
    expect(benchResultsPath({ CAIRN_CACHE_DIR: 'rel' }, '/work')).toBe('/work/rel/bench.json');
    expect(benchResultsPath({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/cairn/bench.json');
    expect(benchResultsPath({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toBe('/h/.cache/cairn/bench.json');
    expect(() => benchResultsPath({})).toThrow(/CAIRN_CACHE_DIR/);
  });

  it('stores per dataset cairn\'s snapshot and restore throughput, when and on what machine; mode 0600, atomically', async () => {
    const dir = tempDir('cairn-results-');
    const path = join(dir, 'cache', 'bench.json');
    const warnings: string[] = [];
    await saveBenchResults(path, fakeSummary('checkpoints', 'generated', 2, 1e9, { snapshot: 4, restore: 2 }), (m) => warnings.push(m));
    await saveBenchResults(path, fakeSummary('source', '/data', 1000, 1e8, { snapshot: 2, restore: 1 }, '2026-02-04T00:00:00.000Z'), (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'cache'))).toEqual(['bench.json']); // no temporary file left
    const file = (await loadBenchResults(path))!;
    expect(Object.keys(file.datasets).sort()).toEqual(['checkpoints', 'source:/data']);
    const c = file.datasets['checkpoints']!;
    expect(c.cairn).toMatchObject({ snapshot_mb_per_second: 250, snapshot_files_per_second: 0.5, restore_mb_per_second: 500, restore_files_per_second: 1, snapshot_seconds: 4, restore_seconds: 2 });
    expect(c.date).toBe('2026-02-03T04:05:06.000Z');
    expect(c.machine).toMatchObject({ cpu: 'Test CPU', cores: 2 });
    expect(file.datasets['source:/data']!.cairn!.snapshot_files_per_second).toBe(500);
    expect(file.updated).toBe('2026-02-04T00:00:00.000Z');
  });

  it('a damaged file is replaced on save (with a warning) and refused on load (run cairn bench again)', async () => {
    const dir = tempDir('cairn-results-');
    const path = join(dir, 'bench.json');
    await writeFile(path, '{ not json');
    await expect(loadBenchResults(path)).rejects.toMatchObject({ code: 'ERR_FILE_READ', message: expect.stringMatching(/does not parse.*run `cairn bench` again/) });
    const warnings: string[] = [];
    await saveBenchResults(path, fakeSummary('checkpoints', 'generated', 2, 1e9, { snapshot: 4, restore: 2 }), (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(/does not parse .*; replacing it/)]);
    expect(JSON.parse(await readFile(path, 'utf8')).schema).toBe(1);
    expect(await loadBenchResults(join(dir, 'absent.json'))).toBeUndefined();
  });
});
