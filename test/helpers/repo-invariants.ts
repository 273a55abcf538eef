/**
 * What must hold of a local repository after any crash or race, checked the way an independent
 * reader would: every stored file is named by the SHA-256 of its bytes (restic's rule, so a partial
 * file can never sit under a final name), `cairn check --read-data` and `restic check` pass, stale
 * locks go with `cairn unlock`, and every snapshot restores identical to what was backed up
 * (compared with treecmp's independent stat-level witness).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { openRepository, restore, type SnapshotEntry } from '../../src/index.js';
import { cairn } from '../cli/helpers.js';
import { runRestic } from './restic.js';
import { compareStats, statTree, type TreeStat } from './treecmp.js';

/**
 * The local backend's temporary files, never listed: `.tmp-<final name>-<16 hex digits>` beside the
 * final name, and the blob workers' packs in progress `data/.tmp-pack-<16 hex digits>`.
 */
export const TEMP_FILE = /^\.tmp-([0-9a-f]{64}|pack)-[0-9a-f]{16}$/;

/** The directories whose files are content-addressed (restic: the name is SHA-256 of the file). */
const ADDRESSED = ['data', 'index', 'snapshots', 'keys', 'locks'] as const;

/**
 * Asserts that every file under data/, index/, snapshots/, keys/ and locks/ has a name equal to the
 * SHA-256 of its content, apart from the local backend's temporary files; returns those (paths
 * relative to the repository, with their sizes), which a killed process may leave behind.
 */
export async function expectContentAddressed(repoDir: string): Promise<{ path: string; size: number }[]> {
  const temps: { path: string; size: number }[] = [];
  const bad: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(repoDir, rel), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const path = join(rel, e.name);
      if (e.isDirectory()) {
        await visit(path);
        continue;
      }
      const bytes = await readFile(join(repoDir, path));
      if (TEMP_FILE.test(e.name)) temps.push({ path, size: bytes.length });
      else if (createHash('sha256').update(bytes).digest('hex') !== e.name) bad.push(`${path} (${bytes.length} bytes)`);
    }
  };
  for (const d of ADDRESSED) await visit(d);
  expect(bad, `files whose name is not the SHA-256 of their content in ${repoDir}`).toEqual([]);
  return temps;
}

/** `cairn check --read-data` (in-process) must pass; returns its output. */
export async function expectCairnCheck(repoDir: string, env: Record<string, string>): Promise<string> {
  const r = await cairn(['-r', repoDir, 'check', '--read-data'], { env });
  expect(r.code, `cairn check --read-data failed:\n${r.out}\n${r.err}`).toBe(0);
  return r.out;
}

/** `restic check` (optionally `--read-data`) must pass. */
export async function expectResticCheck(repoDir: string, password: string, readData = false): Promise<string> {
  const r = await runRestic(['--repo', repoDir, '--no-cache', 'check', ...(readData ? ['--read-data'] : [])], password, { allowFailure: true });
  expect(r.code, `restic check${readData ? ' --read-data' : ''} failed:\n${r.text()}\n${r.stderr}`).toBe(0);
  expect(r.text()).toContain('no errors were found');
  return r.text();
}

/** One lock `cairn unlock --json` reported. */
export interface UnlockedLock {
  readonly id: string;
  readonly pid?: number;
  readonly exclusive?: boolean;
  readonly stale: boolean;
}

/**
 * `cairn unlock --json` (in-process), as a user does after a crash: it must succeed and keep
 * nothing (no live process holds a lock); returns what it removed.
 */
export async function unlockStale(repoDir: string, env: Record<string, string>): Promise<UnlockedLock[]> {
  const r = await cairn(['-r', repoDir, '--json', 'unlock'], { env });
  expect(r.code, r.err).toBe(0);
  const doc = JSON.parse(r.out.trim()) as { removed: UnlockedLock[]; kept: unknown[] };
  expect(doc.kept).toEqual([]);
  return doc.removed;
}

/**
 * Restores every snapshot of the repository (the library's restore, no lock: nothing else runs)
 * into `scratch/<id>` and compares the snapshot's single path with `expected(entry)` (a directory
 * or a TreeStat taken when it was backed up); `undefined` skips a snapshot. The restored trees are
 * stat'ed in one treestat run. Returns how many were compared.
 */
export async function expectSnapshotsRestore(
  repoDir: string,
  password: string,
  scratch: string,
  expected: (e: SnapshotEntry) => string | TreeStat | undefined,
): Promise<number> {
  const repo = await openRepository(repoDir, { password });
  const compared: { e: SnapshotEntry; want: string | TreeStat; at: string }[] = [];
  await rm(scratch, { recursive: true, force: true });
  try {
    await repo.loadIndex();
    for (const e of await repo.listSnapshots()) {
      const want = expected(e);
      if (want === undefined) continue;
      expect(e.snapshot.paths.length, `snapshot ${e.id.slice(0, 8)} has one path`).toBe(1);
      const problems: string[] = [];
      const target = join(scratch, e.id.slice(0, 12));
      const summary = await restore(repo, e.snapshot.tree, undefined, { target, onWarning: (w) => problems.push(`${w.code} ${w.path}: ${w.message}`) });
      expect(problems, `warnings restoring snapshot ${e.id.slice(0, 8)}`).toEqual([]);
      expect(summary.errors).toBe(0);
      compared.push({ e, want, at: relative(scratch, join(target, e.snapshot.paths[0]!)) });
    }
  } finally {
    await repo.close();
  }
  if (compared.length > 0) {
    const all = await statTree(scratch);
    for (const { e, want, at } of compared) {
      const diff = compareStats(typeof want === 'string' ? await statTree(want) : want, subtree(all, at));
      expect(diff, `snapshot ${e.id.slice(0, 8)} of ${e.snapshot.paths[0]} restored differently`).toEqual([]);
    }
  }
  await rm(scratch, { recursive: true, force: true });
  return compared.length;
}

/** The entries of `stat` at and below the relative path `at`, keyed relative to it. */
export function subtree(stat: TreeStat, at: string): TreeStat {
  const out: TreeStat = new Map();
  const prefix = Buffer.from(at + '/');
  for (const [key, entry] of stat) {
    if (key === at) out.set('', { ...entry, path: '', pathBytes: Buffer.alloc(0) });
    else if (key.startsWith(at + '/')) out.set(key.slice(at.length + 1), { ...entry, path: key.slice(at.length + 1), pathBytes: entry.pathBytes.subarray(prefix.length) });
  }
  return out;
}
