/**
 * `cairn restore SNAPSHOT[:PATH] --target DIR`: restore a snapshot (or one path of it).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { addFilterOptions } from './snapshots.js';
import type { RestoreFlags } from '../actions/restore.js';

function repeat(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRestore(program: Command, ctx: CommandContext): void {
  addFilterOptions(program.command('restore').description('restore a snapshot into a directory'))
    .argument('<snapshot>', 'snapshot ID, unique prefix, or "latest"; SNAPSHOT:PATH restores only PATH (its contents, for a directory)')
    .requiredOption('-t, --target <dir>', 'directory to restore into (created if missing); the snapshot\'s paths are recreated under it')
    .option('-i, --include <pattern>', 'restore only paths matching the pattern (repeatable)', repeat, [])
    .option('--iinclude <pattern>', 'like --include, ignoring case', repeat, [])
    .option('-e, --exclude <pattern>', 'do not restore paths matching the pattern (repeatable)', repeat, [])
    .option('--iexclude <pattern>', 'like --exclude, ignoring case', repeat, [])
    .option('--overwrite <mode>', 'existing files: always (rewrite what differs), if-changed (size or mtime differ), if-newer, never', 'always')
    .option('--delete', 'remove files in restored directories that the snapshot does not have')
    .option('--dry-run', 'show what would be done, change nothing')
    .option('--verify', 'read every restored file back and compare it with the snapshot')
    .option('--sparse', 'restore runs of zeros as holes')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup restore latest --target /tmp/restore
  cairn -r /srv/backup restore 1a2b3c4d:/home/ann --target /tmp/ann --include '*.md' --verify
  cairn -r /srv/backup restore latest --target / --overwrite if-changed --delete --dry-run

Every blob is verified (MAC and SHA-256) before a byte is written; a file that cannot be restored
whole is removed and reported, and the command exits 1 after restoring everything else. Patterns:
spec/patterns.md.`)
    .action(async (spec: string, opts: RestoreFlags) => (await import('../actions/restore.js')).restoreAction(ctx, spec, opts));
}
