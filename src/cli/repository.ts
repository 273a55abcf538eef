/**
 * Opening the repository a command works on: location from -r/--repo or the environment, the
 * password from its source (see password.ts), test-only cheap KDF parameters from CAIRN_KDF.
 */
import { openRepository, parseKdfSpec, type KdfParams, type Repository } from '../index.js';
import type { CommandContext } from './context.js';
import { resolvePassword, resolveRepository } from './password.js';

/** The repository of `-r/--repo` (or the environment), opened with the resolved password. */
export async function openRepo(ctx: CommandContext): Promise<Repository> {
  const g = ctx.globals();
  const location = resolveRepository(g, ctx.io);
  const password = await resolvePassword(g, ctx.io);
  return openRepository(location, { password, cwd: ctx.io.cwd });
}

/** scrypt parameters from CAIRN_KDF ("N:r:p"; for tests: weaker than the calibrated default). */
export function kdfFromEnv(ctx: CommandContext): KdfParams | undefined {
  const spec = ctx.io.env['CAIRN_KDF'];
  return spec === undefined || spec === '' ? undefined : parseKdfSpec(spec);
}

/** Runs `fn` with the opened repository and closes it afterwards. */
export async function withRepo<T>(ctx: CommandContext, fn: (repo: Repository) => Promise<T>): Promise<T> {
  const repo = await openRepo(ctx);
  try {
    return await fn(repo);
  } finally {
    await repo.close();
  }
}
