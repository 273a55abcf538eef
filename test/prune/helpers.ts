/**
 * Helpers for the prune tests: a repository with snapshots of known files (made through the
 * library, cheap KDF), copies of it, listings of its files, snapshots removed "forget-like"
 * (their files deleted), restores compared with the sources, and restic as the judge.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { initRepository, openRepository, restoreSnapshot, snapshot, type Repository } from '../../src/index.js';
import { cairn } from '../cli/helpers.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { expectResticCheck } from '../helpers/repo-invariants.js';

export const PASSWORD = 'prune-test';
export const CHEAP_KDF = { N: 1024, r: 8, p: 1 };
export const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };

/** A file to back up: its name and content. */
export interface SourceFile {
  readonly name: string;
  readonly data: Uint8Array;
}

/** Writes each file into its own directory `root/src-<name>/` and snapshots that directory. */
export async function makeSnapshots(root: string, repoDir: string, files: readonly SourceFile[]): Promise<{ ids: string[]; sources: string[] }> {
  // Chunks of at most 1 MiB: a file that begins with another's first 3 MiB surely shares whole
  // chunks with it (with the default 8 MiB maximum that is only very likely).
  const chunker = { algorithm: 'fastcdc', min: 256 * 1024, avg: 512 * 1024, max: 1024 * 1024, normalization: 2 } as const;
  // One blob worker: each snapshot's data in one pack, the layout these tests reason about (with
  // one worker per core a large file's blobs are spread over a pack per worker).
  const repo = await initRepository(repoDir, { password: PASSWORD, kdf: CHEAP_KDF, chunker, blobWorkers: 1 });
  const ids: string[] = [];
  const sources: string[] = [];
  try {
    for (const f of files) {
      const dir = join(root, `src-${f.name}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, f.name), f.data);
      const s = await snapshot(repo, [dir]);
      ids.push(s.snapshot_id);
      sources.push(dir);
    }
  } finally {
    await repo.close();
  }
  return { ids, sources };
}

/** Random bytes of `mib` MiB (deterministic by seed). */
export function random(mib: number, seed: number): Uint8Array {
  return pseudoRandomBytes(Math.round(mib * 1024 * 1024), seed);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Every file under the repository with its size, sorted (locks/ left out unless asked). */
export async function listing(repoDir: string, withLocks = false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(`${relative(repoDir, p)} ${(await stat(p)).size}`);
    }
  };
  await walk(repoDir);
  // cairn-log/: the audit log (spec/format.md), one record per changing run, success or failure —
  // not repository data, so "nothing changed" comparisons leave it out.
  return out.filter((l) => (withLocks || !l.startsWith('locks/')) && !l.startsWith('cairn-log/')).sort();
}

/** Total bytes of the files under `repoDir/sub`. */
export async function bytesUnder(repoDir: string, sub: string): Promise<number> {
  let n = 0;
  for (const l of await listing(repoDir)) if (l.startsWith(sub + '/')) n += Number(l.split(' ')[1]);
  return n;
}

export async function countUnder(repoDir: string, sub: string): Promise<number> {
  return (await listing(repoDir)).filter((l) => l.startsWith(sub + '/')).length;
}

/** Copies a repository directory (files keep their read-only modes). */
export async function copyRepo(from: string, to: string): Promise<string> {
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true });
  return to;
}

/** "forget" without forget: deletes the snapshot files whose IDs start with these prefixes. */
export async function removeSnapshots(repoDir: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) await unlink(join(repoDir, 'snapshots', id));
}

/** `cairn --json prune ARGS` in-process; returns the summary object. */
export async function pruneJson(repoDir: string, args: readonly string[] = []): Promise<Record<string, number | boolean | string>> {
  const r = await cairn(['-r', repoDir, '--json', 'prune', ...args], { env: ENV });
  if (r.code !== 0) throw new Error(`cairn prune ${args.join(' ')} failed (exit ${r.code}): ${r.err}`);
  const lines = r.out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, number | boolean | string>;
}

/** `restic check` (optionally --read-data) must pass. */
export function resticCheck(repoDir: string, readData = false, password = PASSWORD): Promise<string> {
  return expectResticCheck(repoDir, password, readData);
}

/** Restores snapshot `id` with cairn and checks that `source` came back byte for byte. */
export async function expectRestores(repoDir: string, id: string, source: string, target: string): Promise<void> {
  const repo = await openRepository(repoDir, { password: PASSWORD });
  try {
    await rm(target, { recursive: true, force: true });
    await restoreSnapshot(repo, id, { target });
  } finally {
    await repo.close();
  }
  for (const name of await readdir(source)) {
    const want = await readFile(join(source, name));
    const got = await readFile(join(target, source, name));
    expect(got.equals(want), `${name} of snapshot ${id.slice(0, 8)} restored differently`).toBe(true);
  }
}

/** Opens the repository, loads its index, runs `fn`, closes it. */
export async function withIndex<T>(repoDir: string, fn: (repo: Repository) => Promise<T> | T, password = PASSWORD): Promise<T> {
  const repo = await openRepository(repoDir, { password });
  try {
    await repo.loadIndex();
    return await fn(repo);
  } finally {
    await repo.close();
  }
}

/** The packs holding blobs of the given type, from the index. */
export function packsOf(repo: Repository, type: 'data' | 'tree'): Set<string> {
  const s = new Set<string>();
  for (const { entry } of repo.index.entries()) if (entry.type === type) s.add(entry.pack);
  return s;
}

export function tar(args: string[]): void {
  execFileSync('tar', args);
}
