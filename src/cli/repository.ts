/**
 * Opening the repository a command works on: location from -r/--repo or the environment, the
 * password from its source (see password.ts), test-only cheap KDF parameters from CAIRN_KDF.
 */
import { CairnError, openBackend, parseKdfSpec, Repository, trimRetainedMemory, type Backend, type KdfParams, type OpenBackendOptions } from '../index.js';
import type { CommandContext } from './context.js';
import { printWarning } from './output.js';
import { resolvePassword, resolveRepository } from './password.js';

/**
 * The repository of `-r/--repo` (or the environment), opened with the resolved password (or with
 * `password`, when the command resolved it itself because it needs it again, as `key add` does).
 */
export async function openRepo(ctx: CommandContext, password?: string): Promise<Repository> {
  // The CLI's commands let freed C-heap memory go back to the system (lower peak RSS); a program
  // embedding the library keeps its own malloc settings.
  trimRetainedMemory();
  const g = ctx.globals();
  const location = resolveRepository(g, ctx.io);
  password ??= await resolvePassword(g, ctx.io);
  const backend = await openRepoBackend(ctx, location);
  try {
    return await Repository.open(backend, password, { onKeyWarning: (w) => printWarning(ctx, { message: w.message, code: w.code, during: 'open', item: `keys/${w.key}` }) });
  } catch (e) {
    await backend.close();
    throw e;
  }
}

/**
 * How the backend of `location` is opened: relative paths from the CLI's cwd, `-o KEY=VALUE`
 * options (a later value for the same key wins), `--cacert` files, the CLI's environment for AWS_*
 * credentials, and retries that stop on SIGINT. `-o` without `=` is ERR_INVALID_ARGUMENT.
 */
export function backendOptions(ctx: CommandContext): OpenBackendOptions {
  const g = ctx.globals();
  const options: Record<string, string> = {};
  for (const kv of g.option ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `-o/--option takes KEY=VALUE (e.g. -o s3.region=eu-west-1); "${eq < 0 ? kv : kv.slice(0, eq)}" has no key or no "="`, { data: {} });
    }
    options[kv.slice(0, eq).trim()] = kv.slice(eq + 1);
  }
  return {
    cwd: ctx.io.cwd,
    env: ctx.io.env,
    retry: {
      signal: ctx.io.signal,
      // -v: each retry on stderr (what failed, and when the next attempt comes).
      onRetry: (e) => {
        if (g.verbose > 0 && !g.json) ctx.io.stderr.write(`retrying ${e.operation}${e.handle?.name ? ` of ${e.handle.type} ${e.handle.name.slice(0, 8)}` : ''} in ${(e.delayMs / 1000).toFixed(1)} s (attempt ${e.attempt} failed: ${e.error.message})\n`);
      },
    },
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(g.cacert !== undefined && g.cacert.length > 0 ? { caCerts: g.cacert } : {}),
  };
}

/** The backend for `location`, opened with the global options (see {@link backendOptions}). */
export async function openRepoBackend(ctx: CommandContext, location: string): Promise<Backend> {
  const backend = await openBackend(location, backendOptions(ctx));
  // The audit log sees what the run saves and removes (audit.ts).
  return ctx.audit === undefined ? backend : ctx.audit.wrapBackend(backend);
}

/** scrypt parameters from CAIRN_KDF ("N:r:p"; for tests: weaker than the calibrated default). */
export function kdfFromEnv(ctx: CommandContext): KdfParams | undefined {
  const spec = ctx.io.env['CAIRN_KDF'];
  return spec === undefined || spec === '' ? undefined : parseKdfSpec(spec);
}

/**
 * Runs `fn` with the opened repository (see {@link openRepo}) and closes it afterwards — or, when
 * the run writes an audit record, hands it to run(), which closes it after appending (audit.ts).
 */
export async function withRepo<T>(ctx: CommandContext, fn: (repo: Repository) => Promise<T>, password?: string): Promise<T> {
  const repo = await openRepo(ctx, password);
  try {
    return await fn(repo);
  } finally {
    if (ctx.audit?.adopt(repo) !== true) await repo.close();
  }
}
