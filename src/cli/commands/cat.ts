/**
 * `cairn cat config|snapshot|index|key|blob|pack ID`: print a repository file or blob, decrypted.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export const KINDS = ['config', 'snapshot', 'index', 'key', 'blob', 'pack'] as const;

export function registerCat(program: Command, ctx: CommandContext): void {
  program
    .command('cat')
    .description('print a repository file or blob, decrypted: config, snapshot, index, key, blob, pack')
    .argument('<kind>', KINDS.join('|'))
    .argument('[id]', 'ID or unique ID prefix (not for config); blob IDs must be complete')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup cat config
  cairn -r /srv/backup cat snapshot 1a2b3c4d
  cairn -r /srv/backup cat blob 0123…cdef > blob.bin`)
    .action(async (kind: string, id: string | undefined) => (await import('../actions/cat.js')).catAction(ctx, kind, id));
}
