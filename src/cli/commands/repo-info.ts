/**
 * `cairn repo info`: the repository's format, chunker, file counts, blobs and sizes.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

/** Registers `info` under the `repo` command. */
export function registerRepoInfo(repo: Command, ctx: CommandContext): void {
  repo
    .command('info')
    .description('show the repository\'s format, chunker, counts, sizes and compression')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup repo info
  cairn -r /srv/backup repo info --json`)
    .action(async () => (await import('../actions/repo-info.js')).repoInfoAction(ctx));
}
