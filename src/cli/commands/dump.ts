/**
 * `cairn dump [--archive tar|zip] SNAPSHOT PATH`: write one file of a snapshot to stdout, or a
 * directory (`/` for the whole snapshot) as a tar archive, as restic 0.14's dump does.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';

export function registerDump(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('dump').description('write a file of a snapshot to standard output, or a directory as a tar archive'))
    .argument('<snapshot>', 'snapshot ID, unique prefix, or "latest"')
    .argument('<path>', 'the file\'s or directory\'s path in the snapshot (as `cairn ls` shows it; "/" for the whole snapshot)')
    .option('-a, --archive <format>', 'archive format for a directory: "tar" ("zip" is not supported yet)', 'tar')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup dump latest /db.sql | psql mydb
  cairn -r /srv/backup dump --path /db.sql latest /db.sql > db.sql
  cairn -r /srv/backup dump latest /home/ann > ann.tar
  cairn -r /srv/backup dump latest / | tar -t

A directory is written as a tar archive of its contents (names are paths from the snapshot's
root, without the leading "/"), as restic 0.14 writes it; standard output must not be a terminal
then. Every blob is verified before it is written out.`)
    .action(async (ref: string, path: string, opts: { host: string[]; tag: string[]; path: string[]; archive: string }) => (await import('../actions/dump.js')).dumpAction(ctx, ref, path, opts));
}
