/**
 * `cairn unlock`: remove stale locks (restic's rule: older than 30 minutes, or made on this host
 * by a process that is gone), or with --remove-all every lock. Takes no lock itself. A lock file
 * that cannot be read is kept without --remove-all (whether it is stale cannot be known), and
 * unlock says that it blocks every command and how to remove it.
 */
import { describeLock, removeLocks, type LockEntry } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText } from '../output.js';
import { withRepo } from '../repository.js';

function lockJson(e: LockEntry): Record<string, unknown> {
  return {
    id: e.id,
    ...(e.lock === undefined
      ? { problem: e.problem ?? 'damaged', error: e.error ?? 'unreadable' }
      : { exclusive: e.lock.exclusive, hostname: e.lock.hostname, username: e.lock.username, pid: e.lock.pid, time: e.lock.time }),
    ...(e.ageMs === undefined ? {} : { age_seconds: Math.floor(e.ageMs / 1000) }),
    stale: e.stale,
  };
}

/** The action of `cairn unlock` (its options: ../commands/unlock.ts). */
export async function unlockAction(ctx: CommandContext, opts: { removeAll?: boolean }): Promise<void> {
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
      for (const e of r.kept) {
        if (e.lock !== undefined) lines.push(`kept live lock: ${describeLock(e)}`);
        else if (e.problem === 'empty') lines.push(`kept ${describeLock(e)}: every command ignores it (as restic does); --remove-all removes it`);
        else lines.push(`kept ${describeLock(e)}: whether it is stale cannot be known, and no command can lock the repository while it is there`);
      }
    }
    lines.push(`${r.removed.length} ${r.removed.length === 1 ? 'lock' : 'locks'} removed${r.kept.length > 0 ? `, ${r.kept.length} kept (not known to be stale; --remove-all removes them too)` : ''}`);
    const unusable = r.kept.filter((e) => e.lock === undefined && e.problem !== 'empty');
    if (unusable.length > 0) {
      lines.push(`${unusable.length === 1 ? 'a lock file that cannot be read blocks' : `${unusable.length} lock files that cannot be read block`} every command: if no cairn or restic process is using this repository, remove ${unusable.length === 1 ? 'it' : 'them'} with \`cairn unlock --remove-all\` (it removes every lock file, live ones too)`);
    }
    printText(ctx, lines.join('\n'));
  });
}
