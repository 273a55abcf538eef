import { join, resolve } from 'node:path';

/**
 * cairn's local cache directory (benchmark results, resume journals): `$CAIRN_CACHE_DIR` when set
 * (relative to `cwd`), else `$XDG_CACHE_HOME/cairn` (when absolute, as the XDG spec requires),
 * else `$HOME/.cache/cairn`; undefined when none of them is set.
 */
export function cacheDirectory(env: Readonly<Record<string, string | undefined>>, cwd = '/'): string | undefined {
  const own = env['CAIRN_CACHE_DIR'];
  if (own !== undefined && own !== '') return resolve(cwd, own);
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && xdg.startsWith('/')) return join(xdg, 'cairn');
  const home = env['HOME'];
  return home === undefined || home === '' ? undefined : join(home, '.cache', 'cairn');
}
