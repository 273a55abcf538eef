/**
 * `--metrics-file PATH`: after snapshot, restore, check, prune or forget — success or failure —
 * write Prometheus metrics in the text exposition format for node_exporter's textfile collector
 * (spec/monitoring.md). The file is cairn's own: it holds one set of series per (command,
 * repository), so several jobs may share it; a run replaces its own series and keeps the others.
 *
 * Invariants:
 * - written atomically: a temporary file in the same directory (not ending in `.prom`, so the
 *   collector never reads it half-written), flushed, then renamed over PATH;
 * - `cairn_last_success_timestamp_seconds` moves only on success; a failed run keeps the previous
 *   value read back from the old file; `cairn_errors_total` is a counter carried over the same way;
 * - labels hold the command and the repository location without credentials (no user, password,
 *   query or fragment of a URL) — never the password;
 * - a failure to write is a warning on stderr, never a lost run: the exit code stays the run's.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CommandContext, RunFigures } from './context.js';
import { printWarning } from './output.js';
import { resolveRepository } from './password.js';

/** The commands that write the metrics file. */
export const METRICS_COMMANDS: readonly string[] = ['snapshot', 'restore', 'check', 'prune', 'forget'];

interface MetricDef {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
}

/** Every metric cairn writes, in file order. */
export const METRICS: readonly MetricDef[] = [
  { name: 'cairn_last_run_timestamp_seconds', type: 'gauge', help: 'When the last run of this command on this repository ended (Unix time).' },
  { name: 'cairn_last_success_timestamp_seconds', type: 'gauge', help: 'When the last successful run ended (Unix time); kept through failed runs.' },
  { name: 'cairn_run_duration_seconds', type: 'gauge', help: 'Wall time of the last run.' },
  { name: 'cairn_run_success', type: 'gauge', help: '1 if the last run succeeded (exit 0, or 3: snapshot saved with unreadable files), else 0.' },
  { name: 'cairn_run_exit_code', type: 'gauge', help: 'Exit code of the last run (0 ok, 1 error, 3 partial snapshot, 10 no repository, 11 locked, 12 wrong password, 130 interrupted).' },
  { name: 'cairn_bytes_processed', type: 'gauge', help: 'Bytes the last run read or wrote: files backed up (snapshot), restored (restore), pack data read (check).' },
  { name: 'cairn_bytes_added', type: 'gauge', help: 'Bytes of new data the last snapshot added to the repository (before compression).' },
  { name: 'cairn_bytes_stored', type: 'gauge', help: 'Bytes the last snapshot stored in the repository (after compression and encryption).' },
  { name: 'cairn_files_processed', type: 'gauge', help: 'Files the last run backed up or restored.' },
  { name: 'cairn_run_errors', type: 'gauge', help: 'Errors and warnings of the last run (unreadable files, files not restored, problems check found).' },
  { name: 'cairn_errors_total', type: 'counter', help: 'Errors and warnings over all runs this file has recorded.' },
  { name: 'cairn_repository_size_bytes', type: 'gauge', help: 'Pack data in the repository, where the command knows it cheaply (prune: after pruning).' },
];

const KNOWN = new Set(METRICS.map((m) => m.name));

/** A series: metric name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A repository location fit for a label: a URL's user, password, query and fragment removed. */
export function repositoryLabel(location: string): string {
  const scheme = /^([a-z0-9]+):(.*)$/s.exec(location);
  const url = scheme !== null && /^[a-z][a-z0-9+.-]*:\/\//i.test(scheme[2]!) ? scheme[2]! : /^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? location : undefined;
  if (url === undefined) return location;
  const prefix = url === location ? '' : `${scheme![1]!}:`;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return prefix + u.href;
  } catch {
    return prefix + url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1').replace(/[?#].*$/s, '');
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}

/** Parses `name{a="b",c="d"} value` lines; other lines (comments, foreign formats) are skipped. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) {
      const body = m[2].slice(1, -1);
      const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
      let ok = true;
      let at = 0;
      while (at < body.length) {
        re.lastIndex = at;
        const l = re.exec(body);
        if (l === null) {
          ok = false;
          break;
        }
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
        at = re.lastIndex;
      }
      if (!ok) continue;
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') continue;
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** The whole file: HELP and TYPE once per metric, its series sorted by labels. */
export function formatMetrics(samples: readonly Sample[]): string {
  const lines: string[] = [];
  for (const def of METRICS) {
    const mine = samples.filter((s) => s.name === def.name).map((s) => ({ key: formatLabels(s.labels), s })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (mine.length === 0) continue;
    lines.push(`# HELP ${def.name} ${def.help}`, `# TYPE ${def.name} ${def.type}`);
    for (const { key, s } of mine) lines.push(`${def.name}${key} ${formatValue(s.value)}`);
  }
  return lines.join('\n') + '\n';
}

/** What one run contributes. */
export interface RunRecord {
  readonly command: string;
  readonly repository: string;
  readonly startedMs: number;
  readonly endedMs: number;
  readonly exitCode: number;
  readonly figures: RunFigures;
}

/**
 * The new file's series: the old file's series of other (command, repository) pairs, plus this
 * run's; the last success time and the error counter carry over from the old file.
 */
export function mergeRun(old: readonly Sample[], run: RunRecord): Sample[] {
  const labels = { command: run.command, repository: run.repository };
  const same = (s: Sample): boolean => s.labels['command'] === run.command && s.labels['repository'] === run.repository && Object.keys(s.labels).length === 2;
  const kept = old.filter((s) => KNOWN.has(s.name) && !same(s));
  const previous = (name: string): number | undefined => old.find((s) => s.name === name && same(s))?.value;
  const success = run.exitCode === 0 || (run.exitCode === 3 && run.command === 'snapshot');
  const ended = run.endedMs / 1000;
  const f = run.figures;
  const errors = f.errors ?? 0;
  const add = (name: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) kept.push({ name, labels, value });
  };
  add('cairn_last_run_timestamp_seconds', ended);
  add('cairn_last_success_timestamp_seconds', success ? ended : previous('cairn_last_success_timestamp_seconds'));
  add('cairn_run_duration_seconds', Math.max(0, (run.endedMs - run.startedMs) / 1000));
  add('cairn_run_success', success ? 1 : 0);
  add('cairn_run_exit_code', run.exitCode);
  add('cairn_bytes_processed', f.bytesProcessed);
  add('cairn_bytes_added', f.bytesAdded);
  add('cairn_bytes_stored', f.bytesStored);
  add('cairn_files_processed', f.filesProcessed);
  add('cairn_run_errors', f.errors);
  add('cairn_errors_total', (previous('cairn_errors_total') ?? 0) + errors);
  add('cairn_repository_size_bytes', f.repositorySize);
  return kept;
}

/** Reads the old file (absent or unreadable: nothing), merges the run, writes atomically. */
export async function writeMetricsFile(path: string, run: RunRecord): Promise<void> {
  let old: Sample[] = [];
  try {
    old = parseMetrics(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const text = formatMetrics(mergeRun(old, run));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Called by run() once a command's action has run (or thrown): writes the metrics file when
 * `--metrics-file` was given to a metrics command; warns (stderr, `during: "metrics"`) when it
 * was given to another command or the file cannot be written. Never throws.
 */
export async function recordRun(ctx: CommandContext, run: Omit<RunRecord, 'repository'>): Promise<void> {
  let path: string | undefined;
  try {
    const g = ctx.globals();
    if (g.metricsFile === undefined) return;
    path = resolve(ctx.io.cwd, g.metricsFile);
    if (!METRICS_COMMANDS.includes(run.command)) {
      printWarning(ctx, { message: `--metrics-file is written after ${METRICS_COMMANDS.join(', ')}; not after ${run.command}`, during: 'metrics', item: path });
      return;
    }
    let repository = '';
    try {
      const location = resolveRepository(g, ctx.io);
      // A local path is made absolute, so jobs run from different directories share a label.
      repository = /^[a-z0-9]+:/i.test(location) ? repositoryLabel(location) : resolve(ctx.io.cwd, location);
    } catch {
      // No repository given: the run failed for it; the label stays empty.
    }
    await writeMetricsFile(path, { ...run, repository });
  } catch (e) {
    try {
      printWarning(ctx, { message: `cannot write the metrics file: ${(e as Error).message} (the run itself is not affected)`, code: 'ERR_FILE_WRITE', during: 'metrics', ...(path !== undefined ? { item: path } : {}) });
    } catch {
      // stderr itself failed: nothing left to tell.
    }
  }
}
