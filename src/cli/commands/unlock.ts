/**
 * `cairn unlock`: remove stale locks (restic's rule: older than 30 minutes, or made on this host
 * by a process that is gone), or with --remove-all every lock. Takes no lock itself.
 */
import type { Command } from 'commander';
import { describeLock, removeLocks, type LockEntry } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText } from '../output.js';
import { withRepo } from '../repository.js';

function lockJson(e: LockEntry): Record<string, unknown> {
  return {
    id: e.id,
    ...(e.lock === undefined
      ? { error: e.error ?? 'unreadable' }
      : { exclusive: e.lock.exclusive, hostname: e.lock.hostname, username: e.lock.username, pid: e.lock.pid, time: e.lock.time }),
    ...(e.ageMs === undefined ? {} : { age_seconds: Math.floor(e.ageMs / 1000) }),
    stale: e.stale,
  };
}

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
when it was made on this host by a process that no longer exists. Locks of restic and cairn are
the same files; restic unlock and cairn unlock are interchangeable.`)
    .action(async (opts: { removeAll?: boolean }) => {
      const g = ctx.globals();
      await withRepo(ctx, async (repo) => {
        const all = opts.removeAll === true;
        const r = await removeLocks(repo, { all });
        if (g.json) {
          printJson(ctx, { message_type: 'summary', remove_all: all, removed: r.removed.map(lockJson), kept: r.kept.map(lockJson) });
          return;
        }
        const lines = r.removed.map((e) => `removed ${e.stale ? 'stale ' : ''}lock: ${describeLock(e)}`);
        if (g.verbose > 0 || (!all && r.kept.length > 0)) {
          for (const e of r.kept) lines.push(`kept ${e.lock === undefined ? 'unreadable' : 'live'} lock: ${describeLock(e)}`);
        }
        lines.push(`${r.removed.length} ${r.removed.length === 1 ? 'lock' : 'locks'} removed${r.kept.length > 0 ? `, ${r.kept.length} kept (not stale; --remove-all removes them too)` : ''}`);
        printText(ctx, lines.join('\n'));
      });
    });
}
