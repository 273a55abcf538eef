/**
 * `cairn snapshot PATH...` (alias `backup`): back up files and directories, or a stream
 * (`--stdin`, `--stdin-from-command -- CMD ARGS…`), into a new snapshot.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { SnapshotFlags } from '../actions/snapshot.js';

function tags(value: string, previous: string[]): string[] {
  // restic: --tag a,b adds two tags; the option repeats.
  return [...previous, ...value.split(',').map((t) => t.trim()).filter((t) => t.length > 0)];
}

function repeat(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerSnapshot(program: Command, ctx: CommandContext): void {
  program
    .command('snapshot')
    .alias('backup')
    .description('back up files and directories (or a stream) into a new snapshot')
    .argument('[path...]', 'files and directories to back up (with --stdin-from-command: the command and its arguments, after --)')
    .option('--tag <tags>', 'add tags (comma-separated; repeatable)', tags, [])
    .option('--host <name>', 'hostname recorded in the snapshot (default: this host)')
    .option('--parent <snapshot>', 'compare with this snapshot (default: the latest of this host with the same paths)')
    .option('-f, --force', 'read every file, ignoring the parent snapshot')
    .option('--no-dir-cache', 'keep no directory cache (by default a directory whose entries are as the last snapshot recorded them takes its tree from the cache directory without reading the parent snapshot\'s tree)')
    .option('--no-resume', 'keep no resume journal (by default an interrupted snapshot\'s next run takes the files it had stored from the journal in the cache directory instead of reading them again)')
    .option('--ignore-ctime', 'a file is unchanged if type, size, mtime and inode are (ctime not compared)')
    .option('--ignore-inode', 'a file is unchanged if type, size and mtime are (inode not compared; implies --ignore-ctime, as in restic)')
    .option('--with-atime', 'record access times (by default atime is recorded as mtime, as restic does)')
    .option('-e, --exclude <pattern>', 'leave out paths matching the pattern (repeatable; see spec/patterns.md)', repeat, [])
    .option('--iexclude <pattern>', 'like --exclude, ignoring case', repeat, [])
    .option('--exclude-file <file>', 'read --exclude patterns from a file (repeatable)', repeat, [])
    .option('--iexclude-file <file>', 'read --iexclude patterns from a file (repeatable)', repeat, [])
    .option('--files-from <file>', 'read paths (globs) to back up from a file, one per line; - for stdin (repeatable)', repeat, [])
    .option('--files-from-verbatim <file>', 'read paths from a file, one per line, taken literally (repeatable)', repeat, [])
    .option('--files-from-raw <file>', 'read NUL-separated paths from a file, taken literally (repeatable)', repeat, [])
    .option('--exclude-caches', 'leave out directories marked with a valid CACHEDIR.TAG')
    .option('--exclude-if-present <name[:header]>', 'leave out directories containing this file (whose content starts with header)', repeat, [])
    .option('--exclude-larger-than <size>', 'leave out files larger than SIZE (e.g. 1G)')
    .option('-x, --one-file-system', 'stay on the file system of each path given')
    .option('--git-ignore', 'leave out what the .gitignore files found in the tree ignore')
    .option('--stdin', 'back up standard input as one file')
    .option('--stdin-filename <name>', 'the file name for --stdin / --stdin-from-command', 'stdin')
    .option('--stdin-from-command', 'back up the output of the command given after --; a failing command saves no snapshot')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup snapshot /home/ann --exclude '*.tmp' --exclude-caches
  cairn -r /srv/backup snapshot --git-ignore --one-file-system /srv/projects
  pg_dump db | cairn -r /srv/backup snapshot --stdin --stdin-filename db.sql
  cairn -r /srv/backup snapshot --stdin-from-command --stdin-filename db.sql -- pg_dump db

Exit codes: 0 saved; 3 saved, but some files could not be read (see the warnings).`)
    // A stream has no size to show progress against: no status line for --stdin(-from-command).
    .action(async (args: string[], opts: SnapshotFlags) => (await import('../actions/snapshot.js')).snapshotAction(ctx, args, opts));
}
