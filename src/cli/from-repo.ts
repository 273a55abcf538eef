/**
 * The source repository of `cairn copy` (restic's "secondary repository", `--from-repo`): its
 * location and password, resolved like the main repository's (password.ts) but from the `--from-`
 * flags and the `CAIRN_FROM_` / `RESTIC_FROM_` variables.
 *
 * Location: `--from-repo` > CAIRN_FROM_REPOSITORY > RESTIC_FROM_REPOSITORY, else ERR_NO_REPOSITORY.
 * Password:
 *   1. `--from-password-command`, 2. `--from-password-file` (both: ERR_INVALID_ARGUMENT);
 *   3. the CAIRN_FROM_ group if any of CAIRN_FROM_PASSWORD_COMMAND / _FILE / CAIRN_FROM_PASSWORD is
 *      set, else the RESTIC_FROM_ group; within it command > file > password, and a group's FILE
 *      and COMMAND together are ERR_INVALID_ARGUMENT;
 *   4. a prompt ("enter password for source repository: ") when stdin is a terminal, else
 *      ERR_NO_PASSWORD naming these sources.
 * The main repository's password sources are never used for the source repository. The source is
 * opened without the audit log's wrapper: copy changes only its target.
 */
import { CairnError, isCairnError, openBackend, Repository } from '../index.js';
import type { CliIo, CommandContext } from './context.js';
import { printWarning } from './output.js';
import { pickLocation, pickPasswordSource, resolvePassword, type PasswordSource } from './password.js';
import { backendOptions } from './repository.js';

/** The `--from-*` flags a command parsed. */
export interface FromRepoFlags {
  readonly fromRepo?: string;
  readonly fromPasswordFile?: string;
  readonly fromPasswordCommand?: string;
}

type Env = CliIo['env'];

/** The source repository's location (see the module comment). */
export function resolveFromRepository(flags: FromRepoFlags, io: Pick<CliIo, 'env'>): string {
  const location = pickLocation(flags.fromRepo, io.env, 'CAIRN_FROM_REPOSITORY', 'RESTIC_FROM_REPOSITORY');
  if (location !== undefined) return location;
  throw new CairnError(
    'ERR_NO_REPOSITORY',
    'no source repository given: use --from-repo <location>, or set CAIRN_FROM_REPOSITORY (or RESTIC_FROM_REPOSITORY)',
    { data: { repository: 'source' } },
  );
}

/** Picks the source repository's password source (see the module comment). Pure. */
export function chooseFromPasswordSource(flags: FromRepoFlags, env: Env): PasswordSource {
  return pickPasswordSource({ command: flags.fromPasswordCommand, file: flags.fromPasswordFile }, env, { flag: '--from-password', env: ['CAIRN_FROM', 'RESTIC_FROM'] });
}

/** The source repository's password (see the module comment). */
export async function resolveFromPassword(flags: FromRepoFlags, io: CliIo): Promise<string> {
  const source = chooseFromPasswordSource(flags, io.env);
  if (source.kind === 'prompt' && !io.isTTY.stdin) {
    throw new CairnError(
      'ERR_NO_PASSWORD',
      'no password given for the source repository and stdin is not a terminal to ask on: use --from-password-file <file>, ' +
        '--from-password-command <command>, set CAIRN_FROM_PASSWORD (or CAIRN_FROM_PASSWORD_FILE / CAIRN_FROM_PASSWORD_COMMAND, ' +
        'or the RESTIC_FROM_ equivalents), or run cairn in a terminal',
      { data: { repository: 'source' } },
    );
  }
  return resolvePassword({}, io, { source, question: 'enter password for source repository: ' });
}

/**
 * Opens the source repository (location and password resolved here, or `password` when given).
 * A wrong password is ERR_WRONG_PASSWORD naming the source repository and its password sources.
 */
export async function openFromRepo(ctx: CommandContext, flags: FromRepoFlags, password?: string): Promise<Repository> {
  const location = resolveFromRepository(flags, ctx.io);
  password ??= await resolveFromPassword(flags, ctx.io);
  const backend = await openBackend(location, backendOptions(ctx));
  try {
    return await Repository.open(backend, password, {
      onKeyWarning: (w) => printWarning(ctx, { message: `source repository: ${w.message}`, code: w.code, during: 'open', item: `keys/${w.key}` }),
    });
  } catch (e) {
    await backend.close().catch(() => undefined);
    if (isCairnError(e, 'ERR_WRONG_PASSWORD')) {
      throw new CairnError(
        'ERR_WRONG_PASSWORD',
        `wrong password for the source repository (--from-repo) ${backend.location}: no key there opens with the password given; check its source (--from-password-command, --from-password-file, then CAIRN_FROM_*, then RESTIC_FROM_*)`,
        { cause: e, data: { ...e.data, repository: 'source', location: backend.location } },
      );
    }
    if (isCairnError(e, 'ERR_REPO_NOT_FOUND')) {
      throw new CairnError('ERR_REPO_NOT_FOUND', `source repository (--from-repo): ${e.message}`, { cause: e, data: { ...e.data, repository: 'source' } });
    }
    throw e;
  }
}
