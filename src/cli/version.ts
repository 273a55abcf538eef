/**
 * The version cairn reports, read at runtime from its own package.json. The file is found by
 * walking up from this module, so it works from dist/cli/ (built), from src/cli/ (under vitest),
 * and from node_modules/cairn/dist/cli/ (installed).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** cairn's version, or '0.0.0-unknown' when no package.json named "cairn" is found. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'cairn' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = '0.0.0-unknown');
    dir = parent;
  }
}
