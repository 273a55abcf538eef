/**
 * `cairn plan` end to end through run(): --size/--rate arithmetic printed and in JSON, strict units
 * refused with exit 1, a SOURCE directory walked and planned from the throughput stored by
 * `cairn bench` (a results file in a temporary CAIRN_CACHE_DIR), advice when none is stored, and a
 * SNAPSHOT's size read from the repository.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveBenchResults } from '../../src/index.js';
import { fakeSummary } from '../benchmark/bench-summary.js';
import { tempDir } from '../helpers/tmp.js';
import { cairn, scratchRepository } from './helpers.js';

const THIS_MACHINE = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_bytes: 1, os: 'linux', node: 'v20' };

/** A cache directory holding results as `cairn bench` stores them: large files and many files, on this machine. */
async function cacheWithResults(): Promise<string> {
  const cache = tempDir('cairn-plan-cache-');
  const path = join(cache, 'bench.json');
  // Large files: 1 GB in 2 files, snapshot 4 s (250 MB/s), restore 2 s (500 MB/s).
  await saveBenchResults(path, { ...fakeSummary('checkpoints', 'generated', 2, 1e9, { snapshot: 4, restore: 2 }), machine: THIS_MACHINE }, () => undefined);
  // Many files: 100 MB in 10,000 files, snapshot 2 s (0.16 ms per file beyond the bytes), restore 1 s (0.08 ms).
  await saveBenchResults(path, { ...fakeSummary('usr-share', '/usr/share', 10_000, 100e6, { snapshot: 2, restore: 1 }), machine: THIS_MACHINE }, () => undefined);
  return cache;
}

describe('cairn plan', () => {
  it('--size 1TiB --rate 100MB/s: about 3.05 h, with the arithmetic', async () => {
    const r = await cairn(['plan', '--size', '1TiB', '--rate', '100MB/s'], { env: { CAIRN_CACHE_DIR: tempDir('cairn-plan-empty-') } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('1 TiB = 1,099,511,627,776 B ÷ 100 MB/s (100,000,000 B/s) = 10,995.1 s ≈ 3.05 h');
    expect(r.out).not.toMatch(/ d\b|days/);
  });

  it('--json gives the numbers, the inputs and where each rate came from', async () => {
    const r = await cairn(['plan', '--size', '1TiB', '--rate', '1Gbit', '--bandwidth', '100Mbit/s', '--json'], { env: { CAIRN_CACHE_DIR: tempDir('cairn-plan-empty-') } });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j).toMatchObject({
      message_type: 'plan',
      input: { kind: 'size', size: '1 TiB', bytes: 1_099_511_627_776, files: null },
      rate: { text: '1 Gbit/s', bytes_per_second: 125_000_000 },
      bandwidth: { text: '100 Mbit/s', bytes_per_second: 12_500_000 },
    });
    expect(j.predictions).toHaveLength(1);
    const p = j.predictions[0];
    expect(p).toMatchObject({ operation: 'transfer', bytes: 1_099_511_627_776, machine_rate_bytes_per_second: 125_000_000, rate_bytes_per_second: 12_500_000, limited_by: 'bandwidth', rate_source: { kind: 'flag', flag: '--rate' } });
    expect(p.seconds).toBeCloseTo(87_960.93, 2);
    expect(p.seconds * p.rate_bytes_per_second).toBeCloseTo(p.bytes, 0);
  });

  it('refuses bad units with exit 1 and a message that says what to write', async () => {
    const a = await cairn(['plan', '--size', '1TB', '--rate', '100MB'], { env: {} });
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/--rate "100MB": MB is a size; a rate needs \/s/);
    const b = await cairn(['plan', '--size', '1KB', '--rate', '1Gbit', '--json'], { env: {} });
    expect(b.code).toBe(1);
    expect(JSON.parse(b.err)).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/KB is ambiguous/) });
    const c = await cairn(['plan', '--size', '1TB', '--rate', '1 Gb/s'], { env: {} });
    expect(c.err).toMatch(/Gb is ambiguous: write Gbit\/s \(bits\) or GB\/s \(bytes\)/);
    const d = await cairn(['plan', '--rate', '1Gbit'], { env: {} });
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/give a directory, a snapshot or --size/);
  });

  it('plans a SOURCE directory from the stored bench results: bytes, files, rates and per-file time', async () => {
    const cache = await cacheWithResults();
    const src = tempDir('cairn-plan-src-');
    await mkdir(join(src, 'sub'));
    for (let i = 0; i < 100; i++) await writeFile(join(src, 'sub', `f${i}`), Buffer.alloc(1000, i));
    await writeFile(join(src, 'big'), Buffer.alloc(2_000_000, 1));
    const bytes = 100 * 1000 + 2_000_000;
    const r = await cairn(['plan', src, '--json'], { env: { CAIRN_CACHE_DIR: cache } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.input).toMatchObject({ kind: 'source', path: src, bytes, files: 101 });
    expect(j.bench_results).toBe(join(cache, 'bench.json'));
    const [snap, restore] = j.predictions;
    expect(snap).toMatchObject({ operation: 'snapshot', bytes, files: 101, rate_source: { kind: 'bench', dataset: 'checkpoints', phase: 'snapshot_first', this_machine: true }, per_file_source: { dataset: 'usr-share' } });
    expect(snap.rate_bytes_per_second).toBeCloseTo(250e6, 3);
    expect(snap.per_file_seconds).toBeCloseTo(0.00016, 9);
    expect(snap.seconds).toBeCloseTo(bytes / 250e6 + 101 * 0.00016, 9);
    expect(restore).toMatchObject({ operation: 'restore' });
    expect(restore.seconds).toBeCloseTo(bytes / 500e6 + 101 * 0.00008, 9);

    const text = await cairn(['plan', src, '--bandwidth', '1MB/s'], { env: { CAIRN_CACHE_DIR: cache } });
    if (process.env['SHOW'] !== undefined) console.log(text.out);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`${src}: 101 files, 2,100,000 B`);
    expect(text.out).toMatch(/first snapshot: .* \(limited by the bandwidth\)/);
    expect(text.out).toContain('rate: min(250.0 MB/s (250,000,000 B/s), bandwidth 1 MB/s (1,000,000 B/s)) = 1,000,000 B/s');
    expect(text.out).toContain('2,100,000 B (2.00 MiB) ÷ 1,000,000 B/s = 2.10 s');
    expect(text.out).toContain('101 files × 0.160 ms = 0.016 s');
    expect(text.out).toMatch(/large-file rate from checkpoints .*\n.*per-file time from usr-share/);
  });

  it('without stored results: advice to run cairn bench (unless --rate is given)', async () => {
    const cache = tempDir('cairn-plan-empty-');
    const src = tempDir('cairn-plan-src-');
    const r = await cairn(['plan', src], { env: { CAIRN_CACHE_DIR: cache } });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no measured throughput is stored in .*bench\.json: run `cairn bench`.*or give --rate/);
    const ok = await cairn(['plan', src, '--rate', '10MB/s'], { env: { CAIRN_CACHE_DIR: cache } });
    expect(ok.code).toBe(0);
  });

  it('plans a SNAPSHOT of the repository from its trees', async () => {
    const env = { CAIRN_PASSWORD: 'plan pw', CAIRN_KDF: '1024:8:1' };
    const { root, repo } = await scratchRepository('cairn-plan-repo-', env);
    const src = join(root, 'data');
    await mkdir(join(src, 'a'), { recursive: true });
    await writeFile(join(src, 'a', 'x'), Buffer.alloc(300_000, 7));
    await writeFile(join(src, 'y'), 'hello\n');
    expect((await cairn(['-r', repo, 'snapshot', src], { env })).code).toBe(0);
    const r = await cairn(['-r', repo, 'plan', 'latest', '--rate', '1MB/s', '--json'], { env, cwd: root });
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.input).toMatchObject({ kind: 'snapshot', bytes: 300_006, files: 2, from: 'tree' });
    expect(j.predictions[0].seconds).toBeCloseTo(0.300006, 9);
    const none = await cairn(['plan', 'latest', '--rate', '1MB/s'], { env: {}, cwd: root });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no repository is given/);
  });
});
