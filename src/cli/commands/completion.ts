/**
 * `cairn completion bash|zsh|fish`: prints a shell completion script generated from the command
 * tree itself (every command, subcommand, alias and option as registered), so it can never drift
 * from the CLI. Options that take a file or directory complete paths; path arguments complete
 * paths; everything else completes from the names.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

export function registerCompletion(program: Command, ctx: CommandContext): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', `the shell: ${SHELLS.join(', ')}`)
    .addHelpText('after', `
Examples:
  source <(cairn completion bash)          # now; add the line to ~/.bashrc to keep it
  cairn completion bash > ~/.local/share/bash-completion/completions/cairn
  source <(cairn completion zsh)           # in ~/.zshrc
  cairn completion fish > ~/.config/fish/completions/cairn.fish

The script is generated from cairn's own commands and options: regenerate it after an upgrade.`)
    .action(async (shell: string) => (await import('../actions/completion.js')).completionAction(ctx, program, shell));
}
