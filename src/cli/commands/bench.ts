/**
 * `cairn bench`: the product's benchmark. Runs cairn (and restic and borg, with --compare, when
 * installed) on a dataset — the generated checkpoint pair, /usr/share, or any directory — phase by
 * phase, prints a table (or one JSON summary), optionally draws an SVG chart, and stores the
 * results in the cache directory for later planning. spec/bench.md describes it all.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { BenchFlags } from '../actions/bench.js';

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
    .action(async (flags: BenchFlags) => (await import('../actions/bench.js')).benchAction(ctx, flags));
}
