/** Test helper: benchmark summaries as `cairn bench` returns them, without running a benchmark. */
import type { BenchSummary } from '../../src/index.js';

/** A summary as `cairn bench` returns it, for one dataset measured with cairn only. */
export function fakeSummary(name: string, source: string, files: number, bytes: number, seconds: { snapshot: number; restore: number }, date = '2026-02-03T04:05:06.000Z'): BenchSummary {
  const phase = (p: string, s: number | null) => ({ phase: p, seconds: s ?? 0.1, runs: [s ?? 0.1], mb_per_second: s === null ? null : bytes / 1e6 / s, files_per_second: s === null ? null : files / s, peak_rss_bytes: 1 });
  return {
    message_type: 'bench', schema: 1, date, repeat: 1, skipped: [],
    machine: { cpu: 'Test CPU', cores: 2, memory_bytes: 1 << 30, os: 'linux', node: 'v20' },
    datasets: [{
      name, source, files, bytes, ratios: [],
      tools: [{
        tool: 'cairn', version: 'cairn 0.1.0', repo_bytes_first: 1, repo_bytes_second: 1, verified: true,
        phases: [phase('init', null), phase('snapshot_first', seconds.snapshot), phase('snapshot_second', 0.2), phase('restore', seconds.restore), phase('check', 0.3)],
      }],
    }],
  } as unknown as BenchSummary;
}
