/**
 * `cairn repo init`: creates a repository (restic format version 2) with cairn's chunker choice.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { InitOptions } from '../actions/repo.js';
import { registerRepoInfo } from './repo-info.js';

export function registerRepo(program: Command, ctx: CommandContext): void {
  const repo = program.command('repo').description('create and inspect repositories');
  repo
    .command('init')
    .description('create a new repository (restic format version 2)')
    .option('--chunker <algorithm>', 'fastcdc (cairn, keyed) or rabin (restic\'s, same blob IDs as restic)', 'fastcdc')
    .option('--min <size>', 'fastcdc: smallest chunk (default 512K)')
    .option('--avg <size>', 'fastcdc: average chunk (default 1M)')
    .option('--max <size>', 'fastcdc: largest chunk (default 8M)')
    .option('--normalization <level>', 'fastcdc: normalization level 0-3 (default 2)')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup repo init
  cairn -r /srv/backup repo init --chunker rabin      # chunk exactly as restic does
  CAIRN_PASSWORD_FILE=~/.backup-pass cairn -r /srv/backup repo init --avg 4M --max 16M`)
    .action(async (opts: InitOptions) => (await import('../actions/repo.js')).repoInitAction(ctx, opts));
  registerRepoInfo(repo, ctx);
}
