/**
 * `cairn bench`: the product's benchmark. Runs cairn (and restic and borg, with --compare, when
 * installed) on a dataset — the generated checkpoint pair, /usr/share, or any directory — phase by
 * phase, prints a table (or one JSON summary), optionally draws an SVG chart, and stores the
 * results in the cache directory for later planning. spec/bench.md describes it all.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  benchResultsPath, CairnError, formatBenchSvg, formatBenchText, parseSize, runBenchmark, saveBenchResults, type BenchDatasetSpec,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText } from '../output.js';

interface BenchFlags {
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

export function registerBench(program: Command, ctx: CommandContext): void {
  program
    .command('bench')
    .description('measure cairn (and restic, borg) on the same data: snapshot, unchanged snapshot, restore, check')
    .option('--source <dir>', 'benchmark on this directory (instead of a generated dataset)')
    .option('--dataset <name>', 'checkpoints (two generated 512 MiB bf16 files), usr-share (/usr/share) or both', undefined)
    .option('--workdir <dir>', 'where repositories, restores and generated data go (a scratch folder, removed at the end)')
    .option('--compare <tools>', 'also run these tools when installed: restic, borg (comma-separated)')
    .option('--repeat <n>', 'rounds per tool; figures are medians', '1')
    .option('--size <size>', 'bytes per generated checkpoint file (a multiple of 64KiB)')
    .option('--seed <n>', 'seed of the generated checkpoints', '1')
    .option('--chart <file.svg>', 'also draw the phase times as an SVG bar chart')
    .option('--no-save', 'do not store the results in the cache directory')
    .addHelpText('after', `
The results are also stored in $CAIRN_CACHE_DIR/bench.json, else $XDG_CACHE_HOME/cairn/bench.json
(default ~/.cache/cairn/bench.json), where 'cairn plan' reads cairn's measured throughput.
Examples:
  cairn bench --dataset checkpoints --compare restic,borg
  cairn bench --source /usr/share --compare restic --repeat 3 --chart bench.svg`)
    .action(async (flags: BenchFlags) => {
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
    });
}
