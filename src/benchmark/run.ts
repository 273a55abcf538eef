/**
 * The benchmark run: for each dataset, build its manifest (which also puts it in the page cache,
 * so every tool reads it warm), then for each round and each tool: init, first snapshot,
 * unchanged second snapshot, restore (verified against the manifest), check — each phase one
 * measured child process in a fresh repository. Figures are medians over rounds; ratios are
 * cairn ÷ other, so a time ratio below 1 means cairn was faster.
 */
import { cpus, release, totalmem } from 'node:os';
import { lstat, mkdir, mkdtemp, readdir, rm, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CairnError } from '../errors.js';
import { buildManifest, compareManifests, generateCheckpoints, type Manifest } from './dataset.js';
import { flushWrites, runMeasured } from './measure.js';
import { cairnBinary, makeTool, PHASES, type Phase, type Step, type Tool, type ToolName } from './tools.js';

export interface BenchDatasetSpec {
  /** 'checkpoints' (generated), 'usr-share', or 'source' for any directory. */
  readonly name: string;
  /** The directory to back up; absent for the generated checkpoints. */
  readonly source?: string;
}

export interface BenchOptions {
  readonly datasets: readonly BenchDatasetSpec[];
  /** Tools to compare with cairn (run only when installed). @default [] */
  readonly compare?: readonly ('restic' | 'borg')[];
  /** Rounds per tool; figures are medians. @default 1 */
  readonly repeat?: number;
  /** Where the scratch directory (data, repositories, restores) is made; it is removed at the end. */
  readonly workdir: string;
  /** Bytes per generated checkpoint file. @default 512 MiB */
  readonly checkpointSize?: number;
  readonly seed?: number;
  /** PATH (to find restic and borg) and CAIRN_BENCH_BIN. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export interface PhaseResult {
  readonly phase: Phase;
  /** Median wall time in seconds. */
  readonly seconds: number;
  /** Every round's time. */
  readonly runs: readonly number[];
  /** Dataset bytes (10^6) per second; null for init. */
  readonly mb_per_second: number | null;
  readonly files_per_second: number | null;
  /** Median over rounds of the process's peak RSS; null when unmeasurable. */
  readonly peak_rss_bytes: number | null;
}

export interface ToolResult {
  readonly tool: ToolName;
  readonly version: string;
  readonly phases: readonly PhaseResult[];
  /** Repository size (sum of file sizes) after the first and the second snapshot. */
  readonly repo_bytes_first: number;
  readonly repo_bytes_second: number;
  /** Every restore matched the source (types, sizes, SHA-256, link targets). */
  readonly verified: true;
}

export interface RatioResult {
  readonly other: ToolName;
  /** cairn's time ÷ the other's, per phase (< 1: cairn faster). */
  readonly time: Readonly<Record<Phase, number>>;
  /** cairn's peak RSS ÷ the other's, per phase (null when either is unknown). */
  readonly peak_rss: Readonly<Record<Phase, number | null>>;
  readonly repo_bytes_first: number;
  readonly repo_bytes_second: number;
}

export interface DatasetResult {
  readonly name: string;
  readonly source: string;
  readonly files: number;
  readonly bytes: number;
  readonly tools: readonly ToolResult[];
  readonly ratios: readonly RatioResult[];
}

export interface BenchSummary {
  readonly message_type: 'bench';
  readonly schema: 1;
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memory_bytes: number; readonly os: string; readonly node: string };
  readonly repeat: number;
  readonly datasets: readonly DatasetResult[];
  /** Tools asked for with --compare that are not installed. */
  readonly skipped: readonly { readonly tool: ToolName; readonly reason: string }[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Sum of the sizes of the files under `dir`. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) total += await treeBytes(p);
    else total += (await lstat(p)).size;
  }
  return total;
}

/** Exit codes that still mean "done" per tool for a snapshot: some input unreadable. */
const WARNING_EXIT: Record<ToolName, number> = { cairn: 3, restic: 3, borg: 1 };

async function measureStep(tool: Tool, phase: Phase, step: Step, signal: AbortSignal | undefined): Promise<{ seconds: number; rss: number | null }> {
  await flushWrites(signal); // untimed: each phase pays for its own writes only
  const m = await runMeasured(step.command, step.args, { env: step.env, ...(step.cwd !== undefined ? { cwd: step.cwd } : {}), ...(signal !== undefined ? { signal } : {}) });
  const ok = m.code === 0 || (phase.startsWith('snapshot') && m.code === WARNING_EXIT[tool.name]);
  if (!ok) {
    const tail = m.stderr.trim().split('\n').slice(-5).join(' | ');
    throw new CairnError('ERR_BENCH_FAILED', `${tool.name} failed in phase ${phase} (${m.signal !== null ? `killed by ${m.signal}` : `exit ${m.code}`}): ${tail}`, {
      data: { tool: tool.name, phase, code: m.code, signal: m.signal, command: [step.command, ...step.args].join(' ') },
    });
  }
  return { seconds: m.seconds, rss: m.peakRssBytes };
}

interface RoundResult {
  readonly seconds: Record<Phase, number>;
  readonly rss: Record<Phase, number | null>;
  readonly repoFirst: number;
  readonly repoSecond: number;
}

/**
 * One round of one tool. `target` is a fresh directory name for the restore; with `keepRestore`
 * the restored tree stays until the caller removes it (see runBenchmark).
 */
async function runRound(tool: Tool, root: string, source: string, manifest: Manifest, options: BenchOptions, target: string, keepRestore: boolean): Promise<RoundResult> {
  const repo = join(root, `${tool.name}-repo`);
  const seconds = {} as Record<Phase, number>;
  const rss = {} as Record<Phase, number | null>;
  const record = (phase: Phase, r: { seconds: number; rss: number | null }): void => {
    seconds[phase] = r.seconds;
    rss[phase] = r.rss;
  };
  try {
    record('init', await measureStep(tool, 'init', tool.init(repo), options.signal));
    await tool.afterInit(repo);
    record('snapshot_first', await measureStep(tool, 'snapshot_first', tool.snapshot(repo, source, 1), options.signal));
    const repoFirst = await treeBytes(repo);
    record('snapshot_second', await measureStep(tool, 'snapshot_second', tool.snapshot(repo, source, 2), options.signal));
    const repoSecond = await treeBytes(repo);
    await mkdir(target, { recursive: true });
    record('restore', await measureStep(tool, 'restore', tool.restore(repo, target), options.signal));
    const restoredRoot = join(target, source.replace(/^\/+/, ''));
    const diffs = compareManifests(manifest, await buildManifest(restoredRoot, options.signal));
    if (diffs.length > 0) {
      throw new CairnError('ERR_BENCH_FAILED', `${tool.name}'s restore differs from the source in ${diffs.length} places: ${diffs.slice(0, 5).join('; ')}${diffs.length > 5 ? '; …' : ''}`, {
        data: { tool: tool.name, differences: diffs.slice(0, 100) },
      });
    }
    if (!keepRestore) await rm(target, { recursive: true, force: true });
    record('check', await measureStep(tool, 'check', tool.check(repo), options.signal));
    return { seconds, rss, repoFirst, repoSecond };
  } finally {
    await rm(repo, { recursive: true, force: true });
    if (!keepRestore) await rm(target, { recursive: true, force: true });
  }
}

function throughput(phase: Phase, seconds: number, amount: number): number | null {
  return phase === 'init' || seconds <= 0 ? null : amount / seconds;
}

function summarizeTool(tool: Tool, rounds: readonly RoundResult[], files: number, bytes: number): ToolResult {
  const phases = PHASES.map((phase): PhaseResult => {
    const runs = rounds.map((r) => r.seconds[phase]);
    const seconds = median(runs);
    const rss = rounds.map((r) => r.rss[phase]).filter((x): x is number => x !== null);
    return {
      phase, seconds, runs,
      mb_per_second: throughput(phase, seconds, bytes / 1e6),
      files_per_second: throughput(phase, seconds, files),
      peak_rss_bytes: rss.length === 0 ? null : median(rss),
    };
  });
  const last = rounds[rounds.length - 1]!;
  return { tool: tool.name, version: tool.version, phases, repo_bytes_first: last.repoFirst, repo_bytes_second: last.repoSecond, verified: true };
}

function ratios(cairn: ToolResult, other: ToolResult): RatioResult {
  const time = {} as Record<Phase, number>;
  const rss = {} as Record<Phase, number | null>;
  for (const [i, phase] of PHASES.entries()) {
    const c = cairn.phases[i]!;
    const o = other.phases[i]!;
    time[phase] = c.seconds / o.seconds;
    rss[phase] = c.peak_rss_bytes === null || o.peak_rss_bytes === null ? null : c.peak_rss_bytes / o.peak_rss_bytes;
  }
  return { other: other.tool, time, peak_rss: rss, repo_bytes_first: cairn.repo_bytes_first / other.repo_bytes_first, repo_bytes_second: cairn.repo_bytes_second / other.repo_bytes_second };
}

/** Free bytes for an unprivileged user on the file system holding `dir`. */
/**
 * Datasets of at least this many files keep their restored trees until the last round (see
 * `restorePolicy`).
 */
export const KEEP_RESTORES_MIN_FILES = 1000;

/**
 * Whether a dataset's restored trees stay until its last round, or each is removed once checked;
 * with why, for the progress output. Many files: kept (when the disk has room), because creating
 * files right after a large delete is slower on some file systems (ext4 here: ~3× per file), so a
 * restore that followed a removed restore would pay for it. Few files: removed, because every
 * restored byte kept in the page cache makes the next restores pay for fresh memory (this VM: a
 * 1 GiB restore kept after each of 3 rounds took restic 2.11, 2.89, 3.28 s and cairn 1.22, 1.79,
 * 2.30 s, the growth all kernel time; removed, 2.09, 1.94, 1.88 and 1.48, 1.09, 1.05 s), while
 * deleting a few large files costs the next restore nothing.
 */
export function restorePolicy(files: number, free: number, needed: number): { keep: boolean; why?: string } {
  if (files < KEEP_RESTORES_MIN_FILES) return { keep: false };
  if (free >= needed) return { keep: true };
  return { keep: false, why: `not enough free space to keep the restores (${(needed / 1e9).toFixed(1)} GB): each is removed after it is checked, so later restores follow a large delete` };
}

async function freeBytes(dir: string): Promise<number> {
  const st = await statfs(dir);
  return st.bavail * st.bsize;
}

/** Runs the benchmark and returns its summary; throws ERR_BENCH_FAILED if a tool fails or a restore differs. */
export async function runBenchmark(options: BenchOptions): Promise<BenchSummary> {
  const repeat = options.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new CairnError('ERR_INVALID_ARGUMENT', `--repeat ${repeat} is not a positive whole number`, { data: { repeat } });
  const log = options.log ?? ((): void => undefined);
  const cairnBin = cairnBinary(options.env);
  await mkdir(options.workdir, { recursive: true });
  const root = await mkdtemp(join(resolve(options.workdir), 'cairn-bench-'));
  try {
    const path = options.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
    const tools: Tool[] = [];
    const skipped: { tool: ToolName; reason: string }[] = [];
    for (const name of ['cairn', ...(options.compare ?? [])] as ToolName[]) {
      const home = join(root, `home-${name}`);
      await mkdir(home, { recursive: true });
      const tool = makeTool(name, home, path, cairnBin);
      if (tool === undefined) skipped.push({ tool: name, reason: 'not installed' });
      else tools.push(tool);
    }
    log(`tools: ${tools.map((t) => t.version).join(', ')}${skipped.length > 0 ? ` (skipped: ${skipped.map((s) => `${s.tool}, ${s.reason}`).join('; ')})` : ''}`);

    const datasets: DatasetResult[] = [];
    for (const spec of options.datasets) {
      let source: string;
      if (spec.source === undefined) {
        source = join(root, 'data', spec.name);
        log(`generating ${spec.name} in ${source}`);
        await generateCheckpoints(source, { ...(options.checkpointSize !== undefined ? { size: options.checkpointSize } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) }, options.signal);
      } else {
        source = resolve(spec.source);
        const st = await lstat(source).catch((e: unknown) => {
          throw new CairnError('ERR_INVALID_ARGUMENT', `--source ${spec.source}: ${(e as Error).message}; give an existing directory`, { cause: e, data: { source: spec.source } });
        });
        if (!st.isDirectory()) throw new CairnError('ERR_INVALID_ARGUMENT', `--source ${spec.source} is not a directory; give a directory to back up`, { data: { source: spec.source } });
      }
      const manifest = await buildManifest(source, options.signal);
      log(`dataset ${spec.name}: ${manifest.files} files, ${(manifest.bytes / 1e6).toFixed(1)} MB in ${source}`);
      const rounds = new Map<ToolName, RoundResult[]>();
      // Every restore goes into a directory no earlier step used; whether the restored trees stay
      // until the dataset's last round: restorePolicy.
      const restores = join(root, 'restores', spec.name);
      const needed = manifest.bytes * tools.length * repeat * 1.1 + (1 << 30);
      const { keep, why } = restorePolicy(manifest.files, await freeBytes(root), needed);
      if (why !== undefined) log(`  ${spec.name} in ${options.workdir}: ${why}`);
      for (let round = 1; round <= repeat; round++) {
        for (const tool of tools) {
          const r = await runRound(tool, root, source, manifest, options, join(restores, `${tool.name}-${round}`), keep);
          (rounds.get(tool.name) ?? rounds.set(tool.name, []).get(tool.name)!).push(r);
          log(`  ${spec.name} round ${round} ${tool.name}: ${PHASES.map((p) => `${p} ${r.seconds[p].toFixed(2)} s`).join(', ')}`);
        }
      }
      const results = tools.map((t) => summarizeTool(t, rounds.get(t.name)!, manifest.files, manifest.bytes));
      const cairn = results[0]!;
      datasets.push({ name: spec.name, source: spec.source ?? `generated (${source})`, files: manifest.files, bytes: manifest.bytes, tools: results, ratios: results.slice(1).map((o) => ratios(cairn, o)) });
      await rm(restores, { recursive: true, force: true });
      if (spec.source === undefined) await rm(source, { recursive: true, force: true });
    }
    return {
      message_type: 'bench', schema: 1, date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_bytes: totalmem(), os: `${process.platform} ${release()}`, node: process.version },
      repeat, datasets, skipped,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
