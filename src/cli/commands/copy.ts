/**
 * `cairn copy [SNAPSHOT...] --from-repo SOURCE`: copy snapshots from another repository into the
 * repository of `-r/--repo` (restic 0.14's `copy`; the library's copySnapshots does the work).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';
import type { CopyFlags } from '../actions/copy.js';

export function registerCopy(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('copy').description('copy snapshots from another repository into this one'))
    .argument('[snapshot...]', 'source snapshot IDs, unique prefixes or "latest" (default: all passing --host/--tag/--path)')
    .option('--from-repo <location>', 'the source repository (env: CAIRN_FROM_REPOSITORY, then RESTIC_FROM_REPOSITORY)')
    .option('--from-password-file <file>', 'read the source repository password from <file> (env: CAIRN_FROM_PASSWORD_FILE or RESTIC_FROM_PASSWORD_FILE)')
    .option('--from-password-command <command>', 'run <command> (no shell) for the source repository password (env: CAIRN_FROM_PASSWORD_COMMAND or RESTIC_FROM_PASSWORD_COMMAND)')
    .addHelpText('after', `
Copies snapshots from the source repository (--from-repo) into the repository
of -r/--repo: every tree and data blob the destination lacks is read from the
source, verified, and stored again encrypted with the destination's key
(compressed when the destination's format is version 2). A source snapshot
that already has a copy in the destination (same original ID, time, tree,
host, user, paths, tags) is skipped, so running copy again copies only what
is new. Files are not chunked again: data the destination stored by its own
backups deduplicates with the copy only when both were cut the same way.
Both repositories are locked shared. The source password comes from
--from-password-command, --from-password-file, CAIRN_FROM_PASSWORD_COMMAND,
_FILE, CAIRN_FROM_PASSWORD (or the RESTIC_FROM_ ones), or a prompt.

Examples:
  cairn -r /mnt/offsite copy --from-repo /srv/backup --from-password-file ~/.pw
  CAIRN_FROM_PASSWORD=... cairn -r s3:s3.amazonaws.com/bucket copy --from-repo /srv/backup --host web1`)
    .action(async (refs: string[], opts: CopyFlags) => (await import('../actions/copy.js')).copyAction(ctx, refs, opts));
}
