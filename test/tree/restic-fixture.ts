/**
 * A writable copy of restic's small-repo fixture (repository v1, password `geheim`) in a temp
 * directory, driven through test/helpers/restic.ts. Tests back up into it instead of a fresh
 * repository because `restic init` spends ~2.5 s calibrating and deriving its key, and the fixture's
 * key opens ~3x faster; tree and snapshot JSON are the same in repository v1 and v2.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { runRestic, type ResticResult, type ResticRunOptions } from '../helpers/restic.js';

export class FixtureRepo {
  /** The temp directory; the repository is `repo` inside it. */
  readonly root: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'cairn-fixture-'));
    execFileSync('tar', ['xzf', join(FIXTURES_DIR, 'restic', 'small-repo.tar.gz'), '-C', this.root]);
  }

  /** `restic --repo ROOT/repo --no-cache ARGS…`, run in `root` unless options say otherwise. */
  run(args: readonly string[], options: ResticRunOptions = {}): Promise<ResticResult> {
    return runRestic(['--repo', join(this.root, 'repo'), '--no-cache', ...args], 'geheim', { cwd: this.root, ...options });
  }

  async text(args: readonly string[], options: ResticRunOptions = {}): Promise<string> {
    return (await this.run(args, options)).text();
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
