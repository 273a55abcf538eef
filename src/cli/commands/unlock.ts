/**
 * `cairn unlock`: remove stale locks (restic's rule: older than 30 minutes, or made on this host
 * by a process that is gone), or with --remove-all every lock. Takes no lock itself. A lock file
 * that cannot be read is kept without --remove-all (whether it is stale cannot be known), and
 * unlock says that it blocks every command and how to remove it.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export function registerUnlock(program: Command, ctx: CommandContext): void {
  program
    .command('unlock')
    .description('remove stale locks (left by processes that died), or every lock with --remove-all')
    .option('--remove-all', 'remove every lock, even those of running operations (dangerous while one runs)')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup unlock
  cairn -r /srv/backup unlock --remove-all --json

A lock is stale when it is older than 30 minutes (a live process refreshes its lock every 5), or
when it was made on this host by a process that no longer exists. A lock file that cannot be read
(damaged, or not a lock) blocks every command and is removed only by --remove-all; an empty one is
ignored. Locks of restic and cairn are the same files; restic unlock and cairn unlock are
interchangeable.`)
    .action(async (opts: { removeAll?: boolean }) => (await import('../actions/unlock.js')).unlockAction(ctx, opts));
}
