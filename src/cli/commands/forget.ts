/**
 * `cairn forget [SNAPSHOT-ID...] [--keep-* …]`: remove snapshots, either the ones named, or the
 * ones restic 0.14's retention policy does not keep (spec/forget.md). Only snapshot files are
 * removed; the data they referenced stays until a prune.
 *
 * The work is split so that more can follow the removal under the same lock (`--prune`, later):
 * `decideForget` loads the snapshots and decides, `removeSnapshots` deletes, and the action runs
 * both between taking and releasing the lock.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';
import { addPruneOptions } from './prune.js';
import type { ForgetFlags } from '../actions/forget.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerForget(program: Command, ctx: CommandContext): void {
  addPruneOptions(addFilterOptions(program.command('forget').description('remove snapshots: the ones named, or those a --keep-* policy does not keep')))
    .argument('[snapshot...]', 'snapshot IDs (unique prefixes, or "latest") to remove; without them the policy decides')
    .option('-l, --keep-last <n>', 'keep the newest n snapshots')
    .option('-H, --keep-hourly <n>', 'keep the newest snapshot of each of the newest n hours with snapshots')
    .option('-d, --keep-daily <n>', 'keep the newest snapshot of each of the newest n days with snapshots')
    .option('-w, --keep-weekly <n>', 'keep the newest snapshot of each of the newest n (ISO) weeks with snapshots')
    .option('-m, --keep-monthly <n>', 'keep the newest snapshot of each of the newest n months with snapshots')
    .option('-y, --keep-yearly <n>', 'keep the newest snapshot of each of the newest n years with snapshots')
    .option('--keep-within <duration>', 'keep snapshots newer than duration (e.g. 1y5m7d2h) before the newest snapshot')
    .option('--keep-within-hourly <duration>', 'keep hourly snapshots within duration of the newest snapshot')
    .option('--keep-within-daily <duration>', 'keep daily snapshots within duration of the newest snapshot')
    .option('--keep-within-weekly <duration>', 'keep weekly snapshots within duration of the newest snapshot')
    .option('--keep-within-monthly <duration>', 'keep monthly snapshots within duration of the newest snapshot')
    .option('--keep-within-yearly <duration>', 'keep yearly snapshots within duration of the newest snapshot')
    .option('--keep-tag <taglist>', 'keep snapshots having all these comma-separated tags (repeatable: any of the lists)', collect, [])
    .option('-g, --group-by <group>', "apply the policy to each group of snapshots with the same host, paths and/or tags (comma-separated; '' for one group)", 'host,paths')
    .option('-n, --dry-run', 'print what would be removed, remove nothing')
    .option('-c, --compact', 'shorter tables')
    .option('--prune', 'then remove the data only the removed snapshots used (prune, under the same lock; with --dry-run, what prune would do)')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --dry-run
  cairn -r /srv/backup forget --keep-within 30d --keep-tag important --host web1
  cairn -r /srv/backup forget 1a2b3c4d 5e6f7a8b

Only snapshots are removed; the data they used stays until a prune. The policy is restic 0.14's
(spec/forget.md): each group is kept or thinned on its own; a snapshot is kept if any rule keeps it.`)
    .action(async (ids: string[], flags: ForgetFlags) => (await import('../actions/forget.js')).forgetAction(ctx, ids, flags));
}
