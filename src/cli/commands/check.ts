/**
 * `cairn check [--read-data | --read-data-subset n/t|P%|SIZE]`: look for errors in the repository
 * (spec/check.md). Errors go to stderr as they are found (with --json, one
 * `{"message_type":"error",…}` line each); the summary goes to stdout; any error ends the command
 * with ERR_CHECK_FAILED (exit 1).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { CheckFlags } from '../actions/check.js';

export function registerCheck(program: Command, ctx: CommandContext): void {
  program
    .command('check')
    .description('check the repository for errors')
    .option('--read-data', 'also read every pack and verify every blob (MAC and SHA-256)')
    .option('--read-data-subset <subset>', 'read only some packs: n/t (group n of t, by pack ID), P% (random), or SIZE (random, about that many bytes, e.g. 500M)')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup check
  cairn -r /srv/backup check --read-data
  cairn -r /srv/backup check --read-data-subset 3/7    # run 1/7 … 7/7 on 7 days to read it all
  cairn -r /srv/backup check --read-data-subset 10% --json

Without --read-data, check verifies that the index, the packs it names, the snapshots and their
trees fit together; with it, every byte is read and verified. Exit status 0 means no errors were
found, 1 that some were (each one is printed). A shared lock is held: backups may run meanwhile.
Details: spec/check.md.`)
    .action(async (opts: CheckFlags) => (await import('../actions/check.js')).checkAction(ctx, opts));
}
