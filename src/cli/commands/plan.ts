/**
 * `cairn plan SOURCE|SNAPSHOT [--bandwidth RATE]`, `cairn plan --size SIZE [--rate RATE]`: predict
 * how long a first snapshot and a restore take, from cairn's throughput `cairn bench` measured on
 * this machine (the results file) or a given rate, capped by a stated bandwidth, and print the
 * arithmetic. The arithmetic itself is the library's (src/benchmark/plan.ts); this file gathers
 * the inputs: a size, a directory walked, or a snapshot's size (its summary, else its trees).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { PlanFlags } from '../actions/plan.js';

export function registerPlan(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .description('predict how long a snapshot and a restore take, from measured throughput and bandwidth')
    .argument('[source-or-snapshot]', 'a directory (walked: bytes and files) or, when no such path exists, a snapshot of the repository ("latest", an ID)')
    .option('--size <size>', 'plan for this much data instead: 1TiB, 500GB (B, kB/MB/GB/TB powers of 1000, KiB/MiB/GiB/TiB powers of 1024)')
    .option('--files <n>', 'with --size: how many files, for the per-file time')
    .option('--rate <rate>', 'use this rate instead of the measured ones: 100MB/s, 1GiB/s, 1Gbit')
    .option('--bandwidth <rate>', 'cap the rate at this bandwidth (a remote repository): 1Gbit, 100Mbit/s, 50MB/s')
    .addHelpText('after', `
Examples:
  cairn bench && cairn plan /srv/data --bandwidth 1Gbit
  cairn -r s3:https://s3.example.com/bucket plan latest --bandwidth 200Mbit
  cairn plan --size 1TiB --rate 100MB/s          # 1 TiB ÷ 100 MB/s ≈ 3.05 h

Rates come from cairn's own figures that 'cairn bench' stored on this machine
($CAIRN_CACHE_DIR/bench.json, else $XDG_CACHE_HOME/cairn/bench.json or ~/.cache/cairn/bench.json),
unless --rate is given. The prediction ignores compression and deduplication: the bytes read
(snapshot) or written (restore) are the data's own size. Details: spec/cli.md.`)
    .action(async (target: string | undefined, flags: PlanFlags) => (await import('../actions/plan.js')).planAction(ctx, target, flags));
}
