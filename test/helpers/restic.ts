/**
 * Drives the real restic CLI (the compatibility oracle) from tests: a throwaway repository in a
 * temp directory, `init`, `backup --json`, `cat` of config/snapshot/tree/blob, parsed JSON back.
 * Every call runs `restic --repo DIR --no-cache …` with `RESTIC_PASSWORD` set and any inherited
 * `RESTIC_*` variables removed, so the developer's own environment cannot leak in.
 *
 * Set `CAIRN_RESTIC` to use another binary. restic is required: a test that needs it fails
 * loudly when it is missing (CI installs it: .ci/run).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The restic binary the helpers run. */
export const RESTIC_BIN = process.env['CAIRN_RESTIC'] ?? 'restic';

/** restic's version line (`restic 0.14.0 compiled with …`), or undefined if it cannot run. */
export function resticVersion(): string | undefined {
  const r = spawnSync(RESTIC_BIN, ['version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return r.stdout.trim();
}

export interface ResticRunOptions {
  /** Working directory of the restic process. @default the repository's parent temp dir */
  readonly cwd?: string;
  /** Bytes for restic's stdin (e.g. `backup --stdin`). */
  readonly input?: Uint8Array | string;
  /** Extra environment variables (after RESTIC_* are cleared and RESTIC_PASSWORD is set). */
  readonly env?: Readonly<Record<string, string>>;
  /** Resolve with the result instead of rejecting when restic exits non-zero. @default false */
  readonly allowFailure?: boolean;
}

export interface ResticResult {
  readonly code: number;
  readonly stdout: Uint8Array;
  readonly stderr: string;
  /** stdout as UTF-8 text. */
  text(): string;
}

/** `restic cat config`. */
export interface ResticConfig {
  readonly version: number;
  readonly id: string;
  /** Lowercase hex without 0x. */
  readonly chunker_polynomial: string;
}

/** The `summary` line of `restic backup --json` (0.14 reports a short snapshot_id). */
export interface ResticBackupSummary {
  readonly message_type: 'summary';
  readonly snapshot_id: string;
  readonly files_new: number;
  readonly data_blobs: number;
  readonly tree_blobs: number;
  readonly data_added: number;
  readonly total_files_processed: number;
  readonly total_bytes_processed: number;
  readonly [key: string]: unknown;
}

export interface ResticSnapshot {
  readonly time: string;
  readonly tree: string;
  readonly paths: readonly string[];
  readonly hostname: string;
  readonly username?: string;
  readonly id?: string;
  readonly short_id?: string;
  readonly [key: string]: unknown;
}

export interface ResticNode {
  readonly name: string;
  readonly type: 'file' | 'dir' | 'symlink' | string;
  readonly size?: number;
  /** Data blob IDs of a file, in order (null or absent for an empty file in some versions). */
  readonly content?: readonly string[] | null;
  /** Tree ID of a directory. */
  readonly subtree?: string;
  readonly [key: string]: unknown;
}

export interface ResticTree {
  readonly nodes: readonly ResticNode[];
}

/** Runs restic with a clean environment; rejects with stderr in the message on failure. */
export function runRestic(
  args: readonly string[],
  password: string,
  options: ResticRunOptions = {},
): Promise<ResticResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('RESTIC_')) env[k] = v;
  }
  env['RESTIC_PASSWORD'] = password;
  Object.assign(env, options.env ?? {});
  return new Promise((resolve, reject) => {
    const child = execFile(
      RESTIC_BIN,
      [...args],
      { env, cwd: options.cwd, encoding: 'buffer', maxBuffer: 1 << 30 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        const result: ResticResult = {
          code,
          stdout: new Uint8Array(stdout),
          stderr: stderr.toString('utf8'),
          text: () => Buffer.from(stdout).toString('utf8'),
        };
        if (code !== 0 && options.allowFailure !== true) {
          reject(new Error(`restic ${args.join(' ')} failed (exit ${code}): ${result.stderr.trim()}`, { cause: error }));
        } else {
          resolve(result);
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export interface ResticRepoOptions {
  /** @default 'cairn-test-password' */
  readonly password?: string;
  /** Extra `restic init` arguments (e.g. `['--repository-version', '1']`). */
  readonly initArgs?: readonly string[];
}

/** A restic repository in its own temp directory; call `cleanup()` when done. */
export class ResticRepo {
  /** The temp directory holding the repository (`repo`) and anything else the test puts there. */
  readonly root: string;
  /** The repository path passed as `--repo`. */
  readonly dir: string;
  readonly password: string;

  private constructor(root: string, password: string) {
    this.root = root;
    this.dir = join(root, 'repo');
    this.password = password;
  }

  /** Creates a temp directory and runs `restic init` in it. */
  static async create(options: ResticRepoOptions = {}): Promise<ResticRepo> {
    const root = await mkdtemp(join(tmpdir(), 'cairn-restic-'));
    const repo = new ResticRepo(root, options.password ?? 'cairn-test-password');
    try {
      await runRestic(['--repo', repo.dir, '--no-cache', 'init', ...(options.initArgs ?? [])], repo.password, {
        cwd: root,
      });
    } catch (e) {
      await repo.cleanup();
      throw e;
    }
    return repo;
  }

  /** `restic --repo DIR --no-cache ARGS…`. */
  run(args: readonly string[], options: ResticRunOptions = {}): Promise<ResticResult> {
    return runRestic(['--repo', this.dir, '--no-cache', ...args], this.password, { cwd: this.root, ...options });
  }

  /** Runs restic and parses stdout as one JSON document. */
  async json<T>(args: readonly string[], options: ResticRunOptions = {}): Promise<T> {
    const r = await this.run(args, options);
    return JSON.parse(r.text()) as T;
  }

  /** Runs restic and parses stdout as JSON lines (one value per non-empty line). */
  async jsonLines<T>(args: readonly string[], options: ResticRunOptions = {}): Promise<T[]> {
    const r = await this.run(args, options);
    return r
      .text()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as T);
  }

  config(): Promise<ResticConfig> {
    return this.json<ResticConfig>(['cat', 'config']);
  }

  /**
   * `restic backup --json EXTRA… PATHS…` (run in `root` unless `options.cwd` says otherwise, so
   * relative paths are relative to it); returns the summary line.
   */
  async backup(paths: readonly string[], extraArgs: readonly string[] = [], options: ResticRunOptions = {}) {
    const lines = await this.jsonLines<{ message_type?: string }>(['backup', '--json', ...extraArgs, ...paths], options);
    const summary = lines.find((l) => l.message_type === 'summary');
    if (summary === undefined) throw new Error(`restic backup printed no summary: ${JSON.stringify(lines)}`);
    return summary as ResticBackupSummary;
  }

  /** `restic snapshots --json`. */
  snapshots(): Promise<ResticSnapshot[]> {
    return this.json<ResticSnapshot[]>(['snapshots', '--json']);
  }

  /** `restic cat snapshot ID` (a unique prefix is accepted). */
  catSnapshot(id: string): Promise<ResticSnapshot> {
    return this.json<ResticSnapshot>(['cat', 'snapshot', id]);
  }

  /** A tree blob, parsed. */
  catTree(id: string): Promise<ResticTree> {
    return this.json<ResticTree>(['cat', 'blob', id]);
  }

  /** A blob's plaintext bytes. */
  async catBlob(id: string): Promise<Uint8Array> {
    return (await this.run(['cat', 'blob', id])).stdout;
  }

  /**
   * The node at `path`, spelled as it was given to `backup`, in snapshot `snapshotId`: walks the
   * snapshot's tree, which nests one directory node per path component (an absolute path starts
   * with its first component; a relative one, backed up from `cwd`, with its own name). Each level
   * costs one restic run (~0.7 s of key derivation), so prefer short relative paths.
   */
  async lookup(snapshotId: string, path: string): Promise<ResticNode> {
    const snapshot = await this.catSnapshot(snapshotId);
    const parts = path.split('/').filter((p) => p !== '');
    let treeId = snapshot.tree;
    for (let i = 0; i < parts.length; i++) {
      const tree = await this.catTree(treeId);
      const node = tree.nodes.find((n) => n.name === parts[i]);
      if (node === undefined) throw new Error(`restic snapshot ${snapshotId}: no ${parts.slice(0, i + 1).join('/')}`);
      if (i === parts.length - 1) return node;
      if (node.subtree === undefined) throw new Error(`restic snapshot ${snapshotId}: ${node.name} is not a directory`);
      treeId = node.subtree;
    }
    throw new Error(`restic snapshot ${snapshotId}: empty path`);
  }

  /** The nodes of the directory at `path` (as given to `backup`) in snapshot `snapshotId`. */
  async list(snapshotId: string, path: string): Promise<readonly ResticNode[]> {
    const node = await this.lookup(snapshotId, path);
    if (node.subtree === undefined) throw new Error(`restic snapshot ${snapshotId}: ${path} is not a directory`);
    return (await this.catTree(node.subtree)).nodes;
  }

  /** Removes the temp directory with the repository. */
  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
