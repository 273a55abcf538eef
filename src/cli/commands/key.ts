/**
 * `cairn key list|add|remove|passwd`: the repository's key files (one per password), as restic's
 * `key` command manages them. list and add take a shared lock, remove and passwd an exclusive one
 * (restic's choice). New keys are verified before anything else changes; passwd adds the new key
 * before it removes the old one. Behaviour and output: spec/cli.md.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { NewKeyFlags } from '../actions/key.js';

function addNewKeyOptions(cmd: Command, verb: string): Command {
  return cmd
    .option('--new-password-file <file>', `read the ${verb} password from <file> (else it is asked for twice on the terminal)`)
    .option('--user <name>', 'the user name the new key records (default: the current user)')
    .option('--host <name>', 'the hostname the new key records (default: this machine\'s)');
}

export function registerKey(program: Command, ctx: CommandContext): void {
  const key = program
    .command('key')
    .description('manage the keys (passwords) that open the repository')
    .addHelpText('after', `
Each key file wraps the repository's master key under one password; any of them opens the
repository. Keys made by restic and by cairn are the same files.`);

  key
    .command('list')
    .description('list the key files; * marks the one the password given opens')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup key list
  cairn -r /srv/backup key list --json`)
    .action(async () => (await import('../actions/key.js')).keyListAction(ctx));

  addNewKeyOptions(key.command('add').description('add a key for a new password (the other keys keep working)'), 'new')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup key add                       # asks for the new password twice
  cairn -r /srv/backup key add --new-password-file ~/.second-pass --user ann --host laptop

The new key is read back and opened before the command succeeds; if it does not work it is removed
again. Prints the new key's ID.`)
    .action(async (opts: NewKeyFlags) => (await import('../actions/key.js')).keyAddAction(ctx, opts));

  key
    .command('remove')
    .description('remove a key file (not the one in use, never the last one)')
    .argument('<id>', 'the key\'s ID or a unique prefix of it (see key list)')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup key list
  cairn -r /srv/backup key remove 5c4e2f1a

The key that opened the repository for this command cannot be removed (open it with another
key's password, or use key passwd); neither can the last key. Takes an exclusive lock.`)
    .action(async (ref: string) => (await import('../actions/key.js')).keyRemoveAction(ctx, ref));

  addNewKeyOptions(key.command('passwd').description('change the password: add a key for the new one, then remove the key in use'), 'new')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup key passwd
  cairn -r /srv/backup key passwd --new-password-file ~/.new-pass

The new key is added and verified before the old one is removed, so an interruption leaves both
passwords working, never none. Other keys are kept. Takes an exclusive lock.`)
    .action(async (opts: NewKeyFlags) => (await import('../actions/key.js')).keyPasswdAction(ctx, opts));
}
