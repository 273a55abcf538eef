/**
 * Presenting a benchmark summary: a Markdown-style text table, a hand-written SVG bar chart of
 * the phase times (one `<rect>` per bar, nothing else drawn with rects), and the local results
 * file a later `cairn plan` reads measured throughput from.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CairnError } from '../errors.js';
import { cacheDirectory, formatSize } from '../util/index.js';
import type { BenchSummary, DatasetResult } from './run.js';
import { PHASES } from './tools.js';

const fixed = (x: number | null, digits: number): string => (x === null ? '–' : x.toFixed(digits));
/** A rate with about three significant digits (0.38, 41.2, 1425). */
const rate = (x: number | null): string => (x === null ? '–' : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2));
const size = (x: number | null): string => (x === null ? '–' : formatSize(x));

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)];
}

function datasetText(d: DatasetResult): string[] {
  const lines = [`### ${d.name}: ${d.files} files, ${formatSize(d.bytes)} (${d.source})`, ''];
  const rows: string[][] = [];
  for (const t of d.tools) {
    for (const p of t.phases) {
      const repo = p.phase === 'snapshot_first' ? formatSize(t.repo_bytes_first) : p.phase === 'snapshot_second' ? formatSize(t.repo_bytes_second) : '';
      rows.push([t.tool, p.phase, `${p.seconds.toFixed(2)} s`, rate(p.mb_per_second), rate(p.files_per_second), size(p.peak_rss_bytes), repo]);
    }
  }
  lines.push(...table(['tool', 'phase', 'time', 'MB/s', 'files/s', 'peak RSS', 'repo size'], rows));
  if (d.ratios.length > 0) {
    lines.push('', `cairn ÷ other (time < 1: cairn faster; RSS and size < 1: cairn smaller)`, '');
    const head = ['phase', ...d.ratios.flatMap((r) => [`time ÷ ${r.other}`, `RSS ÷ ${r.other}`])];
    const ratioRows = PHASES.map((phase) => [phase, ...d.ratios.flatMap((r) => [fixed(r.time[phase], 2), fixed(r.peak_rss[phase], 2)])]);
    ratioRows.push(['repo size (1st / 2nd)', ...d.ratios.flatMap((r) => [`${r.repo_bytes_first.toFixed(2)} / ${r.repo_bytes_second.toFixed(2)}`, ''])]);
    lines.push(...table(head, ratioRows));
  }
  return lines;
}

/** The summary as text: one table per dataset, then the ratios. */
export function formatBenchText(s: BenchSummary): string {
  const lines = [`cairn bench, ${s.date.slice(0, 10)}: ${s.machine.cpu}, ${s.machine.cores} cores, ${formatSize(s.machine.memory_bytes)} RAM, ${s.machine.os}, node ${s.machine.node}; median of ${s.repeat} round${s.repeat === 1 ? '' : 's'}`];
  for (const k of s.skipped) lines.push(`${k.tool}: ${k.reason}, not compared`);
  for (const d of s.datasets) lines.push('', ...datasetText(d));
  return lines.join('\n');
}

const COLORS: Record<string, string> = { cairn: '#2b8a3e', restic: '#1971c2', borg: '#e8590c' };
const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A grouped bar chart: one panel per dataset, a group per phase, a bar per tool (height = median
 * seconds, label above). The legend uses circles so that the rects are exactly the bars.
 */
export function formatBenchSvg(s: BenchSummary): string {
  const barW = 22;
  const gap = 18;
  const panelH = 220;
  const plotH = 150;
  const left = 50;
  const tools = s.datasets[0]?.tools.map((t) => t.tool) ?? [];
  const groupW = tools.length * barW + gap;
  const width = Math.max(420, left + PHASES.length * groupW + 20);
  const height = 50 + s.datasets.length * panelH;
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>cairn bench ${escapeXml(s.date.slice(0, 10))}: phase times (seconds, lower is better)</title>`,
  ];
  tools.forEach((t, i) => {
    const x = left + i * 90;
    out.push(`<circle cx="${x}" cy="20" r="6" fill="${COLORS[t] ?? '#868e96'}"/>`, `<text x="${x + 10}" y="24">${escapeXml(t)}</text>`);
  });
  s.datasets.forEach((d, di) => {
    const top = 50 + di * panelH;
    const base = top + 20 + plotH;
    const max = Math.max(...d.tools.flatMap((t) => t.phases.map((p) => p.seconds)), 1e-9);
    out.push(`<text x="${left}" y="${top + 10}" font-weight="bold">${escapeXml(`${d.name}: ${d.files} files, ${formatSize(d.bytes)}`)}</text>`);
    out.push(`<line x1="${left - 5}" y1="${base}" x2="${width - 10}" y2="${base}" stroke="#495057"/>`);
    PHASES.forEach((phase, pi) => {
      const gx = left + pi * groupW;
      d.tools.forEach((t, ti) => {
        const p = t.phases.find((q) => q.phase === phase)!;
        const h = Math.max(1, (p.seconds / max) * plotH);
        const x = gx + ti * barW;
        out.push(`<rect class="bar" data-tool="${escapeXml(t.tool)}" data-phase="${phase}" x="${x}" y="${(base - h).toFixed(1)}" width="${barW - 3}" height="${h.toFixed(1)}" fill="${COLORS[t.tool] ?? '#868e96'}"><title>${escapeXml(`${t.tool} ${phase}: ${p.seconds.toFixed(2)} s`)}</title></rect>`);
        out.push(`<text x="${x + (barW - 3) / 2}" y="${(base - h - 3).toFixed(1)}" text-anchor="middle" font-size="8">${p.seconds < 10 ? p.seconds.toFixed(1) : p.seconds.toFixed(0)}</text>`);
      });
      out.push(`<text x="${gx + (tools.length * barW) / 2}" y="${base + 14}" text-anchor="middle">${phase.replace('snapshot_', 'snap ')}</text>`);
    });
  });
  out.push('</svg>', '');
  return out.join('\n');
}

/**
 * Where measured results are kept: `$CAIRN_CACHE_DIR/bench.json` when set (relative to `cwd`),
 * else `$XDG_CACHE_HOME/cairn/bench.json` (when absolute), else `$HOME/.cache/cairn/bench.json`.
 */
export function benchResultsPath(env: Readonly<Record<string, string | undefined>>, cwd = '/'): string {
  const dir = cacheDirectory(env, cwd);
  if (dir === undefined) throw new CairnError('ERR_INVALID_ARGUMENT', 'none of CAIRN_CACHE_DIR, XDG_CACHE_HOME and HOME is set: nowhere to keep the benchmark results; set one of them', {});
  return join(dir, 'bench.json');
}

/** cairn's own throughput on a dataset, as `cairn plan` reads it. */
export interface BenchThroughput {
  /** The cairn version measured. */
  readonly version: string;
  /** First snapshot (everything new): dataset MB (10^6 B) per second, files per second, seconds. */
  readonly snapshot_mb_per_second: number;
  readonly snapshot_files_per_second: number;
  readonly snapshot_seconds: number;
  /** Restore of that snapshot. */
  readonly restore_mb_per_second: number;
  readonly restore_files_per_second: number;
  readonly restore_seconds: number;
}

/** One dataset's entry in the results file. */
export type BenchResultsEntry = BenchSummary['datasets'][number] & {
  readonly date: string;
  readonly machine: BenchSummary['machine'];
  /** cairn's figures, taken from `tools` (absent in files written before it existed). */
  readonly cairn?: BenchThroughput;
};

/** The results file: the latest summary per dataset name (and source). */
export interface BenchResultsFile {
  readonly schema: 1;
  readonly updated: string;
  readonly datasets: Readonly<Record<string, BenchResultsEntry>>;
}

/** cairn's snapshot and restore throughput in a dataset result (undefined when not measured). */
export function cairnThroughput(d: Pick<DatasetResult, 'tools'>): BenchThroughput | undefined {
  const t = d.tools.find((x) => x.tool === 'cairn');
  const snap = t?.phases.find((p) => p.phase === 'snapshot_first');
  const rest = t?.phases.find((p) => p.phase === 'restore');
  if (t === undefined || snap === undefined || rest === undefined) return undefined;
  if (snap.mb_per_second === null || snap.files_per_second === null || rest.mb_per_second === null || rest.files_per_second === null) return undefined;
  return {
    version: t.version,
    snapshot_mb_per_second: snap.mb_per_second, snapshot_files_per_second: snap.files_per_second, snapshot_seconds: snap.seconds,
    restore_mb_per_second: rest.mb_per_second, restore_files_per_second: rest.files_per_second, restore_seconds: rest.seconds,
  };
}

/** The key of a dataset in the results file: its name, or `source:<dir>` for --source. */
export function benchResultsKey(d: Pick<DatasetResult, 'name' | 'source'>): string {
  return d.name === 'source' ? `source:${d.source}` : d.name;
}

/** The results file at `path` (undefined when absent), or what is wrong with it; throws when unreadable. */
async function readResultsFile(path: string): Promise<{ readonly file?: BenchResultsFile; readonly problem?: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CairnError('ERR_FILE_READ', `cannot read the benchmark results ${path}: ${(e as Error).message}`, { cause: e, data: { path } });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { problem: `${path} does not parse (${(e as Error).message})` };
  }
  const f = parsed as Partial<BenchResultsFile> | null;
  if (f === null || typeof f !== 'object' || f.schema !== 1 || typeof f.datasets !== 'object' || f.datasets === null || Array.isArray(f.datasets)) {
    return { problem: `${path} is not a benchmark results file of this version` };
  }
  return { file: f as BenchResultsFile };
}

/**
 * Reads the results file: undefined when there is none; ERR_FILE_READ when it cannot be read or
 * is not a results file of this version (the message says to run `cairn bench` again).
 */
export async function loadBenchResults(path: string): Promise<BenchResultsFile | undefined> {
  const { file, problem } = await readResultsFile(path);
  if (problem !== undefined) throw new CairnError('ERR_FILE_READ', `${problem}; run \`cairn bench\` again to replace it`, { data: { path } });
  return file;
}

/**
 * Merges `summary` into the results file at `path` (each dataset replaces its previous entry) and
 * writes it atomically (a temporary file in the same directory, mode 0600, then rename). A file
 * that does not parse is replaced; `warn` says so.
 */
export async function saveBenchResults(path: string, summary: BenchSummary, warn: (message: string) => void): Promise<void> {
  const { file: old, problem } = await readResultsFile(path);
  if (problem !== undefined) warn(`${problem}; replacing it`);
  const datasets = old?.datasets ?? {};
  const next: Record<string, BenchResultsEntry> = { ...datasets };
  for (const d of summary.datasets) {
    const cairn = cairnThroughput(d);
    next[benchResultsKey(d)] = { ...d, date: summary.date, machine: summary.machine, ...(cairn !== undefined ? { cairn } : {}) };
  }
  const file: BenchResultsFile = { schema: 1, updated: summary.date, datasets: next };
  const tmp = join(dirname(path), `.bench.json.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new CairnError('ERR_FILE_WRITE', `cannot write the benchmark results to ${path}: ${(e as Error).message}; set CAIRN_CACHE_DIR or XDG_CACHE_HOME to a writable directory`, { cause: e, data: { path } });
  }
}
