/**
 * `cairn plan`'s arithmetic: strict units, the worked example of issue 9 (1 TiB at 100 MB/s is
 * about 3.05 h, not days), bit rates, the bandwidth cap, and the choice of measured rates from the
 * benchmark results file (large-file rate, per-file time, this machine first).
 */
import { describe, expect, it } from 'vitest';
import {
  approxDuration, benchRates, formatSeconds, groupDigits, parsePlanRate, parsePlanSize, predict, type BenchResultsEntry,
} from '../../src/index.js';
import { isCairnError, type CairnError } from '../../src/errors.js';

function expectCairnError(f: () => unknown, code: string): CairnError {
  try {
    f();
  } catch (e) {
    if (isCairnError(e) && e.code === code) return e;
    throw e;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const MACHINE = { cpu: 'Test CPU 9000', cores: 2 };

/** A results entry as `cairn bench` stores it: cairn's first snapshot and restore times. */
function entry(name: string, files: number, bytes: number, snapshotSeconds: number, restoreSeconds: number, machine = MACHINE, date = '2026-01-02T03:04:05.000Z'): BenchResultsEntry {
  const phase = (p: string, s: number) => ({ phase: p, seconds: s, runs: [s], mb_per_second: bytes / 1e6 / s, files_per_second: files / s, peak_rss_bytes: null });
  return {
    name, source: name, files, bytes, date, ratios: [],
    machine: { ...machine, memory_bytes: 1, os: 'linux', node: 'v20' },
    tools: [{ tool: 'cairn', version: 'cairn 0.1.0', repo_bytes_first: 1, repo_bytes_second: 1, verified: true, phases: [phase('snapshot_first', snapshotSeconds), phase('restore', restoreSeconds)] }],
  } as unknown as BenchResultsEntry;
}

describe('units', () => {
  it('sizes: decimal and binary prefixes, case-sensitive', () => {
    expect(parsePlanSize('1TiB').value).toBe(1_099_511_627_776);
    expect(parsePlanSize('1 TB').value).toBe(1e12);
    expect(parsePlanSize('500GB').value).toBe(500e9);
    expect(parsePlanSize('1.5 KiB').value).toBe(1536);
    expect(parsePlanSize('2kB').value).toBe(2000);
    expect(parsePlanSize('1234').value).toBe(1234);
    expect(parsePlanSize('1234 B').value).toBe(1234);
    expect(parsePlanSize('1TiB').text).toBe('1 TiB');
  });

  it('rates: bytes per second and bits (1 Gbit = 125,000,000 B/s)', () => {
    expect(parsePlanRate('100MB/s').value).toBe(100_000_000);
    expect(parsePlanRate('1GiB/s').value).toBe(2 ** 30);
    expect(parsePlanRate('1Gbit').value).toBe(125_000_000);
    expect(parsePlanRate('1Gbit/s').value).toBe(125_000_000);
    expect(parsePlanRate('100Mbit').value).toBe(12_500_000);
    expect(parsePlanRate('100 Mbit/s').value).toBe(12_500_000);
    expect(parsePlanRate('100Mbps').value).toBe(12_500_000);
    expect(parsePlanRate('10kbit').value).toBe(1250);
    expect(parsePlanRate('1Gbit').text).toBe('1 Gbit/s');
    expect(parsePlanRate('100Mbps').text).toBe('100 Mbit/s');
  });

  it('refuses ambiguous or unknown units with a message that says what to write', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => parsePlanSize('1KB'), /KB is ambiguous: write kB \(1,000 B\) or KiB/],
      [() => parsePlanSize('1G'), /bare G is ambiguous: write GB .* or GiB/],
      [() => parsePlanSize('1tb'), /case-sensitive: did you mean TB\?/],
      [() => parsePlanSize('1 furlong'), /unknown unit furlong/],
      [() => parsePlanSize('1Gbit'), /Gbit is a rate, not a size/],
      [() => parsePlanSize('-1GB'), /not a size/],
      [() => parsePlanSize('1e3'), /not a size|unknown unit/],
      [() => parsePlanSize('99999999 PiB'), /too large/],
      [() => parsePlanRate('100MB'), /MB is a size; a rate needs \/s \(100MB\/s\)/],
      [() => parsePlanRate('100'), /a rate needs a unit/],
      [() => parsePlanRate('100Mb/s'), /Mb is ambiguous: write Mbit\/s \(bits\) or MB\/s \(bytes\)/],
      [() => parsePlanRate('0MB/s'), /above 0/],
      [() => parsePlanRate('fast'), /not a rate/],
    ];
    for (const [f, message] of cases) {
      const e = expectCairnError(f, 'ERR_INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
    }
  });
});

describe('formatting', () => {
  it('groups digits and rounds durations sensibly', () => {
    expect(groupDigits(1_099_511_627_776)).toBe('1,099,511,627,776');
    expect(groupDigits(10_995.11627776, 1)).toBe('10,995.1');
    expect(groupDigits(999)).toBe('999');
    expect(formatSeconds(10_995.11627776)).toBe('10,995.1 s');
    expect(formatSeconds(5.371)).toBe('5.37 s');
    expect(formatSeconds(0.0421)).toBe('0.042 s');
    expect(approxDuration(42)).toBe('42.0 s');
    expect(approxDuration(750)).toBe('12.5 min');
    expect(approxDuration(10_995.1)).toBe('3.05 h (3 h 3 min)');
    expect(approxDuration(3 * 86_400 + 7200)).toBe('3.08 d (3 d 2 h)');
  });
});

describe('predict', () => {
  it('1 TiB at 100 MB/s is 10,995.1 s ≈ 3.05 h, and says so', () => {
    const size = parsePlanSize('1TiB');
    const rate = parsePlanRate('100MB/s');
    const p = predict('transfer', { bytes: size.value, sizeText: size.text }, { bytesPerSecond: rate.value, text: rate.text, source: { kind: 'flag', flag: '--rate', text: rate.text } });
    expect(p.seconds).toBeCloseTo(10_995.116, 3);
    expect(p.seconds / 3600).toBeCloseTo(3.054, 3);
    expect(p.arithmetic).toEqual(['1 TiB = 1,099,511,627,776 B ÷ 100 MB/s (100,000,000 B/s) = 10,995.1 s ≈ 3.05 h (3 h 3 min)']);
    expect(p).toMatchObject({ bytes: 1_099_511_627_776, rate_bytes_per_second: 100_000_000, limited_by: 'rate', file_seconds: 0, per_file_seconds: null });
  });

  it('the bandwidth caps the rate: min(rate, bandwidth)', () => {
    const rate = { bytesPerSecond: 400e6, text: '400 MB/s', source: { kind: 'flag', flag: '--rate', text: '400 MB/s' } } as const;
    const capped = predict('snapshot', { bytes: 1e12 }, rate, parsePlanRate('1Gbit'));
    expect(capped.rate_bytes_per_second).toBe(125e6);
    expect(capped.limited_by).toBe('bandwidth');
    expect(capped.seconds).toBe(8000);
    expect(capped.arithmetic[0]).toBe('rate: min(400 MB/s (400,000,000 B/s), bandwidth 1 Gbit/s (125,000,000 B/s)) = 125,000,000 B/s');
    const free = predict('snapshot', { bytes: 1e12 }, rate, parsePlanRate('10Gbit'));
    expect(free.rate_bytes_per_second).toBe(400e6);
    expect(free.limited_by).toBe('rate');
    expect(free.seconds).toBe(2500);
  });
});

describe('benchRates', () => {
  // Large files: 1 GB in 2 files, snapshot 4 s (250 MB/s), restore 2 s (500 MB/s).
  // Many files: 100 MB in 10,000 files, snapshot 2 s, restore 1 s.
  const large = entry('checkpoints', 2, 1e9, 4, 2);
  const many = entry('usr-share', 10_000, 100e6, 2, 1);

  it('takes the large-file rate and derives the per-file time from the many-files dataset', () => {
    const r = benchRates({ checkpoints: large, 'usr-share': many }, MACHINE)!;
    expect(r.snapshot.bytesPerSecond).toBeCloseTo(250e6, 3);
    expect(r.restore.bytesPerSecond).toBeCloseTo(500e6, 3);
    // 1 ÷ 5,000 files/s − 10,000 B ÷ 250 MB/s = 0.2 ms − 0.04 ms = 0.16 ms.
    expect(r.snapshot.perFile!.seconds).toBeCloseTo(0.00016, 9);
    // Restore: 1 ÷ 10,000 − 10,000 ÷ 500e6 = 0.1 ms − 0.02 ms = 0.08 ms.
    expect(r.restore.perFile!.seconds).toBeCloseTo(0.00008, 9);
    expect(r.snapshot.source).toMatchObject({ kind: 'bench', dataset: 'checkpoints', phase: 'snapshot_first', this_machine: true });
    // The model reproduces the many-files dataset's own time.
    const p = predict('snapshot', { bytes: 100e6, files: 10_000 }, r.snapshot);
    expect(p.seconds).toBeCloseTo(2, 9);
    expect(p.arithmetic.join('\n')).toMatch(/10,000 files × 0\.160 ms = 1\.60 s/);
  });

  it('with one dataset: its rate, no per-file time, and a note saying so', () => {
    const r = benchRates({ checkpoints: large }, MACHINE)!;
    expect(r.snapshot.perFile).toBeUndefined();
    expect(r.notes.join('\n')).toMatch(/no many-files benchmark/);
  });

  it('prefers figures of this machine, and says when there are none', () => {
    const elsewhere = entry('usr-share', 10_000, 100e6, 0.5, 0.5, { cpu: 'Other', cores: 64 });
    const r = benchRates({ checkpoints: large, other: elsewhere }, MACHINE)!;
    expect(r.snapshot.perFile).toBeUndefined(); // the other machine's dataset is not mixed in
    const only = benchRates({ other: elsewhere }, MACHINE)!;
    expect(only.notes[0]).toMatch(/no benchmark of this machine/);
    expect(only.snapshot.source).toMatchObject({ this_machine: false });
  });

  it('is undefined when nothing usable is stored', () => {
    expect(benchRates({}, MACHINE)).toBeUndefined();
    expect(benchRates({ junk: { name: 'junk' } as unknown as BenchResultsEntry }, MACHINE)).toBeUndefined();
    expect(benchRates({ odd: { ...large, tools: [{ tool: 'cairn', phases: 7 }] } as unknown as BenchResultsEntry }, MACHINE)).toBeUndefined();
    expect(benchRates({ strings: { ...large, cairn: { ...large.cairn, snapshot_mb_per_second: '250', restore_mb_per_second: 1, snapshot_files_per_second: 1, restore_files_per_second: 1 } } as unknown as BenchResultsEntry }, MACHINE)).toBeUndefined();
  });
});
