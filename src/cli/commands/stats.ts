/**
 * `cairn stats [SNAPSHOT...] [--mode M]`: how much the snapshots hold, by restic's counting modes,
 * printed as restic prints it (restic 0.15's layout and JSON, which add the compression figures).
 */
import type { Command } from 'commander';
import type { StatsMode } from '../../index.js';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';

/**
 * The library's STATS_MODES, written out so that `--help` does not load the library; the compiler
 * checks that every mode is listed and test/cli/help.test.ts that the order is the library's.
 */
const MODES = ['restore-size', 'files-by-contents', 'blobs-per-file', 'raw-data'] as const satisfies readonly StatsMode[];

/** The modes for the help text; it does not compile while a mode is missing from MODES. */
function modeList(modes: [Exclude<StatsMode, (typeof MODES)[number]>] extends [never] ? typeof MODES : never): string {
  return modes.join(', ');
}

export function registerStats(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('stats').description('show how much the snapshots hold (restic\'s counting modes)'))
    .argument('[snapshot...]', 'snapshot IDs, unique prefixes or "latest" (default: all passing --host/--tag/--path)')
    .option('--mode <mode>', `counting mode: ${modeList(MODES)}`, 'restore-size')
    .addHelpText('after', `
Modes (as restic's):
  restore-size       entries and bytes a restore of each snapshot writes (summed)
  files-by-contents  entries unique by content, and their bytes
  blobs-per-file     files unique by content, their distinct blobs and those blobs' bytes
  raw-data           distinct blobs the snapshots use, as stored (compressed, encrypted),
                     with the uncompressed size and compression figures

Examples:
  cairn -r /srv/backup stats latest
  cairn -r /srv/backup stats --mode raw-data --json`)
    .action(async (refs: string[], opts: { mode: string; host: string[]; tag: string[]; path: string[] }) => (await import('../actions/stats.js')).statsAction(ctx, refs, opts));
}
