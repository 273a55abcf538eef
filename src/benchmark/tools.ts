/**
 * The tools a benchmark runs, each as a child process, with the same work per phase: init a
 * repository, snapshot the source, snapshot it again unchanged, restore the first snapshot into
 * a fresh directory, check the repository (structure, not all data). Same compression everywhere
 * (zstd level 3: cairn's default, restic's `auto`, borg's `zstd,3`), and key derivation made cheap
 * where the tool allows it, so no phase measures a password hash:
 * - cairn: `CAIRN_KDF=1024:8:1` (scrypt) from init on;
 * - restic: `init` calibrates scrypt (~0.5–1 s, part of its init time), then its key file is
 *   replaced (not timed) by one sealing the same master key with N=1024, r=8, p=1;
 * - borg 1.2: repokey-blake2 derives its key with PBKDF2-SHA256, 100,000 rounds, fixed in the
 *   code; it costs ~0.02 s per command here (measured with Python's hashlib), left in borg's times.
 * Every tool gets its own HOME and cache directory inside the work directory.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CairnError } from '../errors.js';
import { createKeyFile, decodeKeyFile, encodeKeyFile, unlockKeyFile } from '../crypto/index.js';

export const TOOLS = ['cairn', 'restic', 'borg'] as const;
export type ToolName = (typeof TOOLS)[number];

export const PHASES = ['init', 'snapshot_first', 'snapshot_second', 'restore', 'check'] as const;
export type Phase = (typeof PHASES)[number];

/** One command line to run (and measure). */
export interface Step {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

export interface Tool {
  readonly name: ToolName;
  readonly version: string;
  init(repo: string): Step;
  /** Untimed work after init (restic: the cheap key). */
  afterInit(repo: string): Promise<void>;
  snapshot(repo: string, source: string, n: 1 | 2): Step;
  /** Restores the first snapshot; `target` exists and is empty. */
  restore(repo: string, target: string): Step;
  check(repo: string): Step;
}

export const BENCH_PASSWORD = 'cairn-bench';
const CHEAP_KDF = { N: 1024, r: 8, p: 1 };

/**
 * The built cairn CLI to run: `CAIRN_BENCH_BIN` if set, else ../cli/cairn.js next to this module
 * (the installed package), else dist/cli/cairn.js of the source checkout (when run from src/).
 */
export function cairnBinary(env: Readonly<Record<string, string | undefined>>): string {
  const given = env['CAIRN_BENCH_BIN'];
  const candidates = given !== undefined && given !== '' ? [given] : [fileURLToPath(new URL('../cli/cairn.js', import.meta.url)), fileURLToPath(new URL('../../dist/cli/cairn.js', import.meta.url))];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    throw new CairnError('ERR_BENCH_FAILED', `cannot find cairn's built command line (looked at ${candidates.join(', ')}); run 'npm run build' or set CAIRN_BENCH_BIN`, { data: { candidates } });
  }
  return found;
}

function versionOf(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return r.stdout.trim().split('\n')[0]!;
}

/**
 * Makes a restic repository cheap to open: its one key file is swapped for one sealing the same
 * master key with N=1024, r=8, p=1 (restic reads the parameters from the key file), so each later
 * restic run costs milliseconds of key derivation instead of restic's calibrated ~0.5–1 s.
 */
export async function cheapenResticKey(repo: string, password: string): Promise<void> {
  const dir = join(repo, 'keys');
  const names = await readdir(dir);
  if (names.length !== 1) throw new CairnError('ERR_BENCH_FAILED', `expected one key file in ${dir} after restic init, found ${names.length}`, { data: { dir } });
  const old = decodeKeyFile(new Uint8Array(await readFile(join(dir, names[0]!))));
  const master = await unlockKeyFile(old, password);
  if (master === undefined) throw new CairnError('ERR_BENCH_FAILED', `the password does not open restic's key file in ${dir}`, { data: { dir } });
  const cheap = await createKeyFile(master, password, { kdf: CHEAP_KDF, username: old.username, hostname: old.hostname, created: old.created });
  const bytes = encodeKeyFile(cheap);
  await writeFile(join(dir, createHash('sha256').update(bytes).digest('hex')), bytes, { mode: 0o400 });
  await rm(join(dir, names[0]!), { force: true });
}

/**
 * The tool `name`, set up to keep its home and caches under `home`, or undefined when it is not
 * installed. `path` is the PATH to find restic and borg on.
 */
export function makeTool(name: ToolName, home: string, path: string, cairnBin: string): Tool | undefined {
  const base = { PATH: path, HOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: 'UTC' };
  const noop = async (): Promise<void> => undefined;
  if (name === 'cairn') {
    const env = { ...base, CAIRN_PASSWORD: BENCH_PASSWORD, CAIRN_KDF: `${CHEAP_KDF.N}:${CHEAP_KDF.r}:${CHEAP_KDF.p}`, XDG_CACHE_HOME: join(home, 'cache') };
    const node = process.execPath;
    const version = versionOf(node, [cairnBin, '--version']);
    if (version === undefined) throw new CairnError('ERR_BENCH_FAILED', `${cairnBin} --version failed: the built cairn does not run; run 'npm run build'`, { data: { bin: cairnBin } });
    const step = (args: string[], cwd?: string): Step => ({ command: node, args: [cairnBin, ...args], env, ...(cwd !== undefined ? { cwd } : {}) });
    return {
      name, version: `cairn ${version.replace(/^cairn\s*/, '')}`, afterInit: noop,
      init: (repo) => step(['-r', repo, 'repo', 'init']),
      snapshot: (repo, source) => step(['-r', repo, 'snapshot', source]),
      restore: (repo, target) => step(['-r', repo, 'restore', 'latest', '--target', target]),
      check: (repo) => step(['-r', repo, 'check']),
    };
  }
  if (name === 'restic') {
    const version = versionOf('restic', ['version']);
    if (version === undefined) return undefined;
    const env = { ...base, RESTIC_PASSWORD: BENCH_PASSWORD, RESTIC_CACHE_DIR: join(home, 'cache'), RESTIC_PROGRESS_FPS: '0.1' };
    const step = (args: string[]): Step => ({ command: 'restic', args, env });
    return {
      name, version: version.split(' ').slice(0, 2).join(' '),
      init: (repo) => step(['-r', repo, 'init', '--repository-version', '2']),
      afterInit: (repo: string) => cheapenResticKey(repo, BENCH_PASSWORD),
      snapshot: (repo, source) => step(['-r', repo, '--compression', 'auto', 'backup', source]),
      // restic restores the snapshot's paths under the target, as cairn does.
      restore: (repo, target) => step(['-r', repo, 'restore', 'latest', '--target', target]),
      check: (repo) => step(['-r', repo, 'check']),
    };
  }
  const version = versionOf('borg', ['--version']);
  if (version === undefined) return undefined;
  const env = {
    ...base, BORG_PASSPHRASE: BENCH_PASSWORD, BORG_BASE_DIR: home,
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes', BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
  };
  const step = (args: string[], cwd?: string): Step => ({ command: 'borg', args, env, ...(cwd !== undefined ? { cwd } : {}) });
  return {
    name, version, afterInit: noop,
    init: (repo) => step(['init', '--encryption', 'repokey-blake2', repo]),
    snapshot: (repo, source, n) => step(['create', '--compression', 'zstd,3', `${repo}::s${n}`, source]),
    // borg extracts into the working directory, paths without the leading '/': the same layout.
    restore: (repo, target) => step(['extract', `${repo}::s1`], target),
    check: (repo) => step(['check', repo]),
  };
}
