/**
 * `npm run bench`: runs the benchmarks, prints a table and writes machine-readable results to
 * bench/results/. Never part of `npm test`. Options: --quick (smaller inputs, fewer repeats).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chunkerBench } from './chunker.js';
import { cryptoBench } from './crypto.js';
import { incrementalBench } from './incremental.js';

const quick = process.argv.includes('--quick');
// `--only incremental` (or chunker, crypto): one part, e.g. to re-measure it on a quiet machine.
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const runs = (part: string): boolean => only === undefined || only === part;
const log = (s: string): void => void process.stderr.write(s + '\n');

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString(),
};
log(`cairn bench on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}${quick ? ' (quick)' : ''}`);
let chunker: Awaited<ReturnType<typeof chunkerBench>> | undefined;
let crypto: Awaited<ReturnType<typeof cryptoBench>> | undefined;
let incremental: Awaited<ReturnType<typeof incrementalBench>> | undefined;
if (runs('chunker')) {
  log('chunker:');
  chunker = await chunkerBench({
    singleBytes: quick ? 64 << 20 : 256 << 20,
    parallelBytes: quick ? 256 << 20 : 1 << 30,
    repeats: quick ? 3 : 7,
    log,
  });

  const rows = chunker.results.map((r) => [r.implementation, r.input, r.mbPerSecond.toFixed(0), r.ratioToSha256.toFixed(2), String(r.chunks)]);
  const head = ['implementation', 'input', 'MB/s (median)', '× SHA-256', 'chunks'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));

  console.log('');
  for (const s of chunker.speedups) console.log(`2 workers / 1 thread, ${s.input}: ${s.medianRatio.toFixed(2)}× (median of alternating pairs: ${s.ratios.join(', ')})`);
}

if (runs('crypto')) {
  log('crypto and compression:');
  crypto = await cryptoBench(log);
  console.log('');
  console.log('| operation | MB/s |');
  console.log('| --- | --- |');
  for (const c of crypto) console.log(`| ${c.name} | ${c.mbPerSecond.toFixed(0)} |`);
}

if (runs('incremental')) {
  log('incremental snapshots:');
  incremental = await incrementalBench({ files: quick ? 10_000 : 50_000, rounds: quick ? 1 : 3, log });
  {
    const { cairn, restic, versusRestic } = incremental;
    console.log(`\n### Incremental snapshots (${incremental.files} small files, median of rounds)\n`);
    console.log('| tool | first | second (unchanged) | second / first |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| cairn | ${cairn.firstSeconds.toFixed(2)} s | ${cairn.secondSeconds.toFixed(2)} s | ${(cairn.ratio * 100).toFixed(1)}% (goal ≤ 20%) |`);
    if (restic !== undefined && versusRestic !== undefined) {
      console.log(`| ${restic.version} | ${restic.firstSeconds.toFixed(2)} s | ${restic.secondSeconds.toFixed(2)} s | ${(restic.ratio * 100).toFixed(1)}% |`);
      console.log(`\ncairn / restic time: first ${versusRestic.first.toFixed(2)}×, second ${versusRestic.second.toFixed(2)}× (median of per-round ratios; < 1 = cairn faster)`);
    }
  }
}

const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const out = { machine, quick, chunker, crypto, incremental };
// A quick run is a smoke test: it must not replace the recorded full results.
const file = quick || only !== undefined ? `${only ?? 'all'}${quick ? '.quick' : ''}.tmp.json` : 'chunker.json';
writeFileSync(dir + file, JSON.stringify(out, null, 2) + '\n');
log(`results written to bench/results/${file}`);
