/**
 * `cairn log [--last N]`: the repository's audit log (spec/cli.md `log`), oldest first. A record
 * that cannot be loaded is a warning naming its file; the others are listed, then the command
 * fails with ERR_INCOMPLETE, as `snapshots` does. Takes no lock and writes nothing.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export function registerLog(program: Command, ctx: CommandContext): void {
  program
    .command('log')
    .description('show the audit log: every change to the repository, who made it and how it ended')
    .option('--last <n>', 'only the newest N records')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup log
  cairn -r /srv/backup log --last 20 --json`)
    .action(async (opts: { last?: string }) => (await import('../actions/log.js')).logAction(ctx, opts));
}
