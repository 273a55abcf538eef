/**
 * `cairn dump SNAPSHOT PATH`: write one file of a snapshot to stdout.
 */
import type { Command } from 'commander';
import { dumpFile } from '../../index.js';
import type { CommandContext } from '../context.js';
import { withRepo } from '../repository.js';
import { addFilterOptions, filterFrom } from './snapshots.js';

export function registerDump(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('dump').description('write a file of a snapshot to standard output'))
    .argument('<snapshot>', 'snapshot ID, unique prefix, or "latest"')
    .argument('<path>', 'the file\'s path in the snapshot (as `cairn ls` shows it)')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup dump latest /db.sql | psql mydb
  cairn -r /srv/backup dump --path /db.sql latest /db.sql > db.sql

Every blob is verified before it is written out.`)
    .action(async (ref: string, path: string, opts: { host: string[]; tag: string[]; path: string[] }) => {
      await withRepo(ctx, async (repo) => {
        await dumpFile(repo, ref, path, (chunk) => ctx.io.stdout.write(chunk), filterFrom(opts));
      });
    });
}
