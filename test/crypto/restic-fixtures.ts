/**
 * The restic-made repositories in test/fixtures/restic/*.tar.gz (format v1, password `geheim`),
 * extracted into a temp directory for a test file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

export const FIXTURE_PASSWORD = 'geheim';

export interface FixtureRepo {
  /** Tarball name without `.tar.gz`. */
  readonly name: string;
  /** The extracted `repo/` directory. */
  readonly dir: string;
  /** keys/: file name → bytes. */
  readonly keys: ReadonlyMap<string, Uint8Array>;
  readonly config: Uint8Array;
}

export interface Fixtures {
  readonly root: string;
  readonly repos: readonly FixtureRepo[];
  cleanup(): void;
}

/** Extracts every fixture tarball that holds a repository. */
export function extractFixtureRepos(): Fixtures {
  const root = mkdtempSync(join(tmpdir(), 'cairn-crypto-fixtures-'));
  const src = join(FIXTURES_DIR, 'restic');
  const repos: FixtureRepo[] = [];
  for (const tarball of readdirSync(src).filter((f) => f.endsWith('.tar.gz')).sort()) {
    const name = tarball.slice(0, -'.tar.gz'.length);
    const into = join(root, name);
    mkdirSync(into, { recursive: true });
    execFileSync('tar', ['xzf', join(src, tarball), '-C', into]);
    const dir = join(into, 'repo');
    if (!existsSync(join(dir, 'config'))) continue;
    const keys = new Map<string, Uint8Array>();
    for (const k of readdirSync(join(dir, 'keys'))) keys.set(k, new Uint8Array(readFileSync(join(dir, 'keys', k))));
    repos.push({ name, dir, keys, config: new Uint8Array(readFileSync(join(dir, 'config'))) });
  }
  return { root, repos, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
