/**
 * `cairn key list|add|remove|passwd`: the repository's key files (one per password), as restic's
 * `key` command manages them. list and add take a shared lock, remove and passwd an exclusive one
 * (restic's choice). New keys are verified before anything else changes; passwd adds the new key
 * before it removes the old one. Behaviour and output: spec/cli.md.
 */
import {
  addPassword, calibrateKdf, changePassword, listKeys, removeKey, withLock,
  type KdfParams, type KeyEntry, type Repository,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printJson, printLockWarning, printText, printWarning } from '../output.js';
import { resolveNewPassword, resolvePassword, resolveRepository } from '../password.js';
import { kdfFromEnv, withRepo } from '../repository.js';

export interface NewKeyFlags {
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

/** The action of `cairn key list` (its options: ../commands/key.ts). */
export async function keyListAction(ctx: CommandContext): Promise<void> {
  const g = ctx.globals();
  await withRepo(ctx, (repo) =>
    withLock(repo, { exclusive: false, onWarning: (w) => printLockWarning(ctx, w) }, async () => {
      const keys = await listKeys(repo, { onWarning: (w) => printWarning(ctx, { message: w.message, code: w.code, during: 'key list', item: w.key }) });
      if (g.json) ctx.io.stdout.write(JSON.stringify(keys.map(keyJson)) + '\n'); // restic's array, one line
      else printText(ctx, keyTable(keys));
    }),
  );
}

/** The action of `cairn key add` (its options: ../commands/key.ts). */
export async function keyAddAction(ctx: CommandContext, opts: NewKeyFlags): Promise<void> {
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
}

/** The action of `cairn key remove` (its options: ../commands/key.ts). */
export async function keyRemoveAction(ctx: CommandContext, ref: string): Promise<void> {
  const g = ctx.globals();
  await withRepo(ctx, (repo) =>
    withLock(repo, { exclusive: true, onWarning: (w) => printLockWarning(ctx, w) }, async (lock) => {
      await lock?.check();
      const id = await removeKey(repo, ref);
      if (g.json) printJson(ctx, { message_type: 'key_removed', id });
      else printText(ctx, `removed key ${id}`);
    }),
  );
}

/** The action of `cairn key passwd` (its options: ../commands/key.ts). */
export async function keyPasswdAction(ctx: CommandContext, opts: NewKeyFlags): Promise<void> {
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
}
