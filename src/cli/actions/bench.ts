/**
 * `cairn bench`: the product's benchmark. Runs cairn (and restic and borg, with --compare, when
 * installed) on a dataset — the generated checkpoint pair, /usr/share, or any directory — phase by
 * phase, prints a table (or one JSON summary), optionally draws an SVG chart, and stores the
 * results in the cache directory for later planning. spec/bench.md describes it all.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import {
  benchResultsPath, CairnError, formatBenchSvg, formatBenchText, parseSize, runBenchmark, saveBenchResults, type BenchDatasetSpec,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText } from '../output.js';

export interface BenchFlags {
  source?: string;
  dataset?: string;
  workdir?: string;
  compare?: string;
  repeat: string;
  size?: string;
  seed: string;
  chart?: string;
  save: boolean;
}

function datasets(flags: BenchFlags, cwd: string): BenchDatasetSpec[] {
  if (flags.source !== undefined && flags.dataset !== undefined) throw new CairnError('ERR_INVALID_ARGUMENT', '--source and --dataset exclude each other; give one', {});
  if (flags.source !== undefined) return [{ name: 'source', source: resolve(cwd, flags.source) }];
  switch (flags.dataset ?? 'checkpoints') {
    case 'checkpoints': return [{ name: 'checkpoints' }];
    case 'usr-share': return [{ name: 'usr-share', source: '/usr/share' }];
    case 'both': return [{ name: 'checkpoints' }, { name: 'usr-share', source: '/usr/share' }];
    default: throw new CairnError('ERR_INVALID_ARGUMENT', `--dataset ${flags.dataset} is not known; use checkpoints, usr-share or both`, { data: { dataset: flags.dataset } });
  }
}

function compareList(value: string | undefined): ('restic' | 'borg')[] {
  if (value === undefined) return [];
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const n of names) {
    if (n !== 'restic' && n !== 'borg') throw new CairnError('ERR_INVALID_ARGUMENT', `--compare ${n}: cairn can compare with restic and borg only`, { data: { tool: n } });
  }
  return [...new Set(names)] as ('restic' | 'borg')[];
}

function wholeNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new CairnError('ERR_INVALID_ARGUMENT', `${flag} ${value} is not a positive whole number`, { data: { [flag]: value } });
  return n;
}

/** The action of `cairn bench` (its options: ../commands/bench.ts). */
export async function benchAction(ctx: CommandContext, flags: BenchFlags): Promise<void> {
  const g = ctx.globals();
  const sets = datasets(flags, ctx.io.cwd);
  const log = (line: string): void => {
    if (!g.quiet) ctx.io.stderr.write(line + '\n');
  };
  const summary = await runBenchmark({
    datasets: sets,
    compare: compareList(flags.compare),
    repeat: wholeNumber(flags.repeat, '--repeat'),
    workdir: resolve(ctx.io.cwd, flags.workdir ?? ctx.io.env['TMPDIR'] ?? tmpdir()),
    ...(flags.size !== undefined ? { checkpointSize: parseSize(flags.size, '--size') } : {}),
    seed: wholeNumber(flags.seed, '--seed'),
    env: ctx.io.env,
    signal: ctx.io.signal,
    log,
  });
  if (flags.chart !== undefined) {
    const chart = resolve(ctx.io.cwd, flags.chart);
    try {
      await writeFile(chart, formatBenchSvg(summary));
    } catch (e) {
      throw new CairnError('ERR_FILE_WRITE', `cannot write the chart to ${chart}: ${(e as Error).message}`, { cause: e, data: { path: chart } });
    }
  }
  if (flags.save) {
    const path = benchResultsPath(ctx.io.env, ctx.io.cwd);
    await saveBenchResults(path, summary, (m) => ctx.io.stderr.write(`cairn: ${m}\n`));
    log(`results stored in ${path}`);
  }
  if (g.json) printJson(ctx, summary);
  else printText(ctx, formatBenchText(summary));
}
