/**
 * `cairn key list|add|remove|passwd`: the repository's key files (one per password), as restic's
 * `key` command manages them. list and add take a shared lock, remove and passwd an exclusive one
 * (restic's choice). New keys are verified before anything else changes; passwd adds the new key
 * before it removes the old one. Behaviour and output: spec/cli.md.
 */
import type { Command } from 'commander';
import {
  addPassword, calibrateKdf, changePassword, listKeys, removeKey, withLock,
  type KdfParams, type KeyEntry, type Repository,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printJson, printLockWarning, printText, printWarning } from '../output.js';
import { resolveNewPassword, resolvePassword, resolveRepository } from '../password.js';
import { kdfFromEnv, withRepo } from '../repository.js';

interface NewKeyFlags {
  newPasswordFile?: string;
  user?: string;
  host?: string;
}

/** restic's `key list --json` element (full ID, as restic ≥ 0.17; 0.14 printed the short one). */
function keyJson(k: KeyEntry): Record<string, unknown> {
  return { current: k.current, id: k.id, userName: k.username, hostName: k.hostname, created: tableTime(k.created) };
}

/** restic's table: ` ID` column with `*` before the key in use, then user, host, local time. */
function keyTable(keys: readonly KeyEntry[]): string {
  const head = [' ID', 'User', 'Host', 'Created'];
  const rows = keys.map((k) => [`${k.current ? '*' : ' '}${k.id.slice(0, 8)}`, k.username, k.hostname, tableTime(k.created)]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(w[i]!) : c)).join('  ').trimEnd();
  const rule = '-'.repeat(w.reduce((a, b) => a + b + 2, -2));
  return [line(head), rule, ...rows.map(line), rule].join('\n');
}

/** scrypt parameters for new keys: CAIRN_KDF (tests), else calibrated as restic does. */
async function newKeyKdf(ctx: CommandContext): Promise<KdfParams> {
  return kdfFromEnv(ctx) ?? (await calibrateKdf());
}

/** Opens the repository with the password resolved here, since add and passwd need it again. */
async function withRepoAndPassword<T>(ctx: CommandContext, fn: (repo: Repository, password: string) => Promise<T>): Promise<T> {
  const g = ctx.globals();
  resolveRepository(g, ctx.io); // a missing location is reported before the password is asked for
  const password = await resolvePassword(g, ctx.io);
  return withRepo(ctx, (repo) => fn(repo, password), password);
}

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
    .action(async () => {
      const g = ctx.globals();
      await withRepo(ctx, (repo) =>
        withLock(repo, { exclusive: false, onWarning: (w) => printLockWarning(ctx, w) }, async () => {
          const keys = await listKeys(repo, { onWarning: (w) => printWarning(ctx, { message: w.message, code: w.code, during: 'key list', item: w.key }) });
          if (g.json) ctx.io.stdout.write(JSON.stringify(keys.map(keyJson)) + '\n'); // restic's array, one line
          else printText(ctx, keyTable(keys));
        }),
      );
    });

  addNewKeyOptions(key.command('add').description('add a key for a new password (the other keys keep working)'), 'new')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup key add                       # asks for the new password twice
  cairn -r /srv/backup key add --new-password-file ~/.second-pass --user ann --host laptop

The new key is read back and opened before the command succeeds; if it does not work it is removed
again. Prints the new key's ID.`)
    .action(async (opts: NewKeyFlags) => {
      const g = ctx.globals();
      await withRepoAndPassword(ctx, async (repo, password) => {
        const newPassword = await resolveNewPassword(opts.newPasswordFile, ctx.io);
        const kdf = await newKeyKdf(ctx);
        const id = await withLock(repo, { exclusive: false, onWarning: (w) => printLockWarning(ctx, w) }, async (lock) => {
          await lock?.check();
          return addPassword(repo, password, newPassword, { kdf, username: opts.user, hostname: opts.host });
        });
        if (g.json) printJson(ctx, { message_type: 'key_added', id });
        else printText(ctx, `saved new key with ID ${id}`);
      });
    });

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
    .action(async (ref: string) => {
      const g = ctx.globals();
      await withRepo(ctx, (repo) =>
        withLock(repo, { exclusive: true, onWarning: (w) => printLockWarning(ctx, w) }, async (lock) => {
          await lock?.check();
          const id = await removeKey(repo, ref);
          if (g.json) printJson(ctx, { message_type: 'key_removed', id });
          else printText(ctx, `removed key ${id}`);
        }),
      );
    });

  addNewKeyOptions(key.command('passwd').description('change the password: add a key for the new one, then remove the key in use'), 'new')
    .addHelpText('after', `
Examples:
  cairn -r /srv/backup key passwd
  cairn -r /srv/backup key passwd --new-password-file ~/.new-pass

The new key is added and verified before the old one is removed, so an interruption leaves both
passwords working, never none. Other keys are kept. Takes an exclusive lock.`)
    .action(async (opts: NewKeyFlags) => {
      const g = ctx.globals();
      await withRepoAndPassword(ctx, async (repo, password) => {
        const newPassword = await resolveNewPassword(opts.newPasswordFile, ctx.io);
        const kdf = await newKeyKdf(ctx);
        const r = await withLock(repo, { exclusive: true, onWarning: (w) => printLockWarning(ctx, w) }, async (lock) => {
          await lock?.check();
          return changePassword(repo, password, newPassword, { kdf, username: opts.user, hostname: opts.host });
        });
        if (g.json) printJson(ctx, { message_type: 'password_changed', id: r.added, removed: r.removed });
        else printText(ctx, `saved new key with ID ${r.added}\nremoved key ${r.removed}`);
      });
    });
}
