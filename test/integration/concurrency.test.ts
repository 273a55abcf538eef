/**
 * Concurrency: several processes — the built cairn CLI and restic 0.14 — working on one
 * repository at once. Backups (shared locks) run side by side and both succeed; a prune (exclusive
 * lock) and a backup never overlap: the side that comes second fails with the lock error (cairn:
 * exit 11, ERR_REPO_LOCKED; restic: "repository is already locked") having written nothing, or
 * waits its turn, and nothing is lost.
 *
 * Interleavings are made deterministic where it matters: a cairn process stops itself (SIGSTOP,
 * through the preload hook) at a chosen file operation — a backup after its packs are written but
 * before its index names them (the moment a prune running then would find them unreferenced and
 * the blobs it deduplicated against unused), a prune after its first repacked pack — and restic is
 * stopped from outside once its lock file appears. The other party runs meanwhile; then the first
 * is continued (SIGCONT). Free-running races at a few offsets complete the picture.
 *
 * After each scenario `cairn check --read-data` and `restic check --read-data` pass and every
 * snapshot restores identical to its source (with cairn; the mixed ones with restic too).
 *
 * Needs the built CLI: `npm run build` (npm test builds first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initRepository, snapshot as takeSnapshot } from '../../src/index.js';
import { cairn } from '../cli/helpers.js';
import { requireBuiltCli, runCli, startCli, waitStopped, type CliRun, type StartedCli } from '../helpers/cli-process.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { expectCairnCheck, expectResticCheck, expectSnapshotsRestore } from '../helpers/repo-invariants.js';
import { RESTIC_BIN, runRestic } from '../helpers/restic.js';
import { compareTrees } from '../helpers/treecmp.js';
import { makeMixedTree } from '../helpers/trees.js';
import { listing } from '../prune/helpers.js';

const PASSWORD = 'concurrency-test';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
const HEX64 = /^[0-9a-f]{64}$/;
/** Repack every partly used pack, so that the prune writes packs (a stop point) besides deleting. */
const PRUNE = ['prune', '--max-unused', '0%'];

let root: string;
/** Source trees; each stays unchanged once made, so a snapshot of it can be compared with it. */
const src: Record<'old' | 'keep' | 'a' | 'b' | 'c' | 'd', string> = { old: '', keep: '', a: '', b: '', c: '', d: '' };
/**
 * A repository with a forgotten snapshot of `old` and a kept one of `keep` (which shares some of
 * old's data), in 256 KiB packs: a prune deletes packs and repacks partly used ones.
 */
let pruneTemplate: string;
let n = 0;
/** Processes this file started: any still running after a test (a failure left it stopped) is killed. */
const children: ChildProcess[] = [];
/** How each free-running race ended, printed at the end. */
const races: string[] = [];

async function makeTree(name: string, seed: number, shared?: string): Promise<string> {
  const dir = join(root, 'src', name);
  await makeMixedTree(dir, { dirs: 3, perDir: 8, seed });
  await mkdir(join(dir, 'big'));
  await writeFile(join(dir, 'big', `${name}.bin`), pseudoRandomBytes(1_500_000, seed));
  // Content another tree has too (its big file and first directory): a backup deduplicates against it.
  if (shared !== undefined) {
    await cp(join(root, 'src', shared, 'big', `${shared}.bin`), join(dir, 'big', `${shared}.bin`), { preserveTimestamps: true });
    await cp(join(root, 'src', shared, 'dir-0'), join(dir, 'shared'), { recursive: true, preserveTimestamps: true });
  }
  return dir;
}

/** A fresh directory for one scenario, with a copy of `template` (or a new repository) in `repo`. */
async function scenario(template?: string): Promise<{ dir: string; repo: string }> {
  const dir = join(root, `s${n++}`);
  const repo = join(dir, 'repo');
  await mkdir(dir);
  if (template !== undefined) await cp(template, repo, { recursive: true });
  else expect((await cairn(['-r', repo, 'repo', 'init'], { env: ENV })).code).toBe(0);
  return { dir, repo };
}

function resticArgs(repo: string, args: readonly string[]): string[] {
  return ['--repo', repo, '--no-cache', ...args];
}

/** restic as a process the test can stop and continue. */
function startRestic(repo: string, args: readonly string[]): { child: ChildProcess; done: Promise<{ code: number | null; err: string }> } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('RESTIC_')) env[k] = v;
  env['RESTIC_PASSWORD'] = PASSWORD;
  const child = spawn(RESTIC_BIN, resticArgs(repo, args), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, err }))) };
}

function restic(repo: string, args: readonly string[]) {
  return runRestic(resticArgs(repo, args), PASSWORD, { allowFailure: true });
}

async function lockFiles(repo: string): Promise<string[]> {
  return (await readdir(join(repo, 'locks'))).filter((f) => HEX64.test(f));
}

/** Resolves once a lock file not in `before` appears (polled every 5 ms). */
async function newLock(repo: string, before: readonly string[], ms = 20_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const fresh = (await lockFiles(repo)).find((f) => !before.includes(f));
    if (fresh !== undefined) return fresh;
    if (Date.now() > until) throw new Error('no new lock appeared');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The cairn CLI, stopped (SIGSTOP) at a file event, holding its lock. */
async function cairnStoppedAt(repo: string, args: readonly string[], event: string): Promise<StartedCli> {
  const run = startCli(['-r', repo, ...args], { env: ENV, repo, kill: { event }, stop: true });
  children.push(run.child);
  await waitStopped(run);
  return run;
}

async function continued(run: StartedCli): Promise<CliRun> {
  run.child.kill('SIGCONT');
  return run.done;
}

/** The lock error of cairn: exit 11, the holder named. */
function expectLockedOut(r: { code: number | null; err: string }, holderPid: number | undefined): void {
  expect(r.code, r.err).toBe(11);
  expect(r.err).toMatch(/is locked/);
  if (holderPid !== undefined) expect(r.err).toContain(`PID ${holderPid} `);
}

/** True when both runs held their locks at the same moment (from their traces). */
function overlapped(x: CliRun, y: CliRun): boolean {
  const span = (r: CliRun): [number, number] => [r.events.find((e) => e.event === 'rename:locks')?.at ?? Infinity, r.begun.find((e) => e.event === 'unlink:locks')?.at ?? -Infinity];
  const [a, b] = [span(x), span(y)];
  return Math.max(a[0], b[0]) < Math.min(a[1], b[1]);
}

/** What must hold after every scenario: both checkers pass, every snapshot restores as its source. */
async function expectIntact(repo: string, dir: string, snapshots: number): Promise<void> {
  expect(await lockFiles(repo)).toEqual([]);
  await expectCairnCheck(repo, ENV);
  await expectResticCheck(repo, PASSWORD, true);
  // Each snapshot's single path is its (unchanged) source directory.
  expect(await expectSnapshotsRestore(repo, PASSWORD, join(dir, 'restored'), (e) => e.snapshot.paths[0]!)).toBe(snapshots);
}

async function snapshotCount(repo: string): Promise<number> {
  return (await readdir(join(repo, 'snapshots'))).filter((f) => HEX64.test(f)).length;
}

/** Restores the snapshot of `source` with restic and compares it with `source`. */
async function expectResticRestores(repo: string, dir: string, source: string): Promise<void> {
  const list = JSON.parse((await restic(repo, ['snapshots', '--json', '--path', source])).text()) as { id: string }[];
  expect(list).toHaveLength(1);
  const target = join(dir, 'restic-restored');
  await rm(target, { recursive: true, force: true });
  const r = await restic(repo, ['restore', list[0]!.id, '--target', target]);
  expect(r.code, r.stderr).toBe(0);
  expect(await compareTrees(source, join(target, source))).toEqual([]);
}

beforeAll(async () => {
  requireBuiltCli('snapshot', 'prune', 'forget', 'check');
  root = await mkdtemp(join(tmpdir(), 'cairn-concurrency-'));
  src.old = await makeTree('old', 21);
  src.keep = await makeTree('keep', 22, 'old');
  // a and c share old's big file: backing them up deduplicates against data the prune would remove.
  src.a = await makeTree('a', 23, 'old');
  src.b = await makeTree('b', 24);
  src.c = await makeTree('c', 25, 'old');
  src.d = await makeTree('d', 26);

  pruneTemplate = join(root, 'prune-template');
  const repo = await initRepository(pruneTemplate, { password: PASSWORD, kdf: { N: 1024, r: 8, p: 1 }, packSize: 256 * 1024, blobWorkers: 1 });
  let old: string;
  try {
    old = (await takeSnapshot(repo, [src.old])).snapshot_id;
    await takeSnapshot(repo, [src.keep]);
  } finally {
    await repo.close();
  }
  // Forgotten, not pruned: old's data is still there, unused.
  expect((await cairn(['-r', pruneTemplate, 'forget', old], { env: ENV })).code).toBe(0);
});

afterEach(() => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  console.log(`free-running races (exit codes):\n  ${races.join('\n  ')}`);
});

describe('backups side by side (shared locks)', () => {
  it('two cairn snapshots of different trees at once both succeed and both restore', async () => {
    const { dir, repo } = await scenario();
    // Free-running: started together.
    const [x, y] = await Promise.all([runCli(['-r', repo, 'snapshot', src.a], { env: ENV, repo }), runCli(['-r', repo, 'snapshot', src.b], { env: ENV, repo })]);
    expect(x.code, x.err).toBe(0);
    expect(y.code, y.err).toBe(0);
    races.push(`two cairn snapshots started together: ${x.code}, ${y.code}; both held their locks at once: ${overlapped(x, y)}`);
    // Deterministic: one stops with its packs written but not yet indexed; the other runs from
    // start to end meanwhile (it cannot see the first one's packs, and need not).
    const first = await cairnStoppedAt(repo, ['snapshot', src.c], 'create:index#1:before');
    const second = await runCli(['-r', repo, 'snapshot', src.d], { env: ENV });
    expect(second.code, second.err).toBe(0);
    const resumed = await continued(first);
    expect(resumed.code, resumed.err).toBe(0);
    await expectIntact(repo, dir, 4);
  });

  it('a cairn snapshot and a restic backup at once both succeed; both restore with cairn and with restic', async () => {
    const { dir, repo } = await scenario();
    const [c, r] = await Promise.all([runCli(['-r', repo, 'snapshot', src.a], { env: ENV }), restic(repo, ['backup', src.b])]);
    expect(c.code, c.err).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    races.push(`cairn snapshot and restic backup started together: cairn ${c.code}, restic ${r.code}`);
    // cairn stopped before its index; restic backs up (deduplicating against what it can see) meanwhile.
    const stopped = await cairnStoppedAt(repo, ['snapshot', src.c], 'create:index#1:before');
    const r2 = await restic(repo, ['backup', src.d]);
    expect(r2.code, r2.stderr).toBe(0);
    expect((await continued(stopped)).code).toBe(0);
    await expectIntact(repo, dir, 4);
    for (const s of [src.a, src.b, src.c, src.d]) await expectResticRestores(repo, dir, s);
  });
});

describe('a prune and a backup never overlap (exclusive lock)', () => {
  it('cairn prune holding its lock mid-repack: cairn snapshot fails with exit 11 and writes nothing; after the prune it succeeds', async () => {
    const { dir, repo } = await scenario(pruneTemplate);
    const prune = await cairnStoppedAt(repo, PRUNE, 'rename:data#1:after');
    const before = await listing(repo);
    const snap = await cairn(['-r', repo, 'snapshot', src.a], { env: ENV });
    expectLockedOut(snap, prune.child.pid);
    expect(await listing(repo)).toEqual(before);
    expect((await continued(prune)).code).toBe(0);
    expect((await cairn(['-r', repo, 'snapshot', src.a], { env: ENV })).code).toBe(0);
    await expectIntact(repo, dir, 2);
  });

  it('cairn snapshot holding its lock with packs not yet indexed: cairn prune fails with exit 11 and deletes nothing; the data the snapshot deduplicated survives the next prune', async () => {
    const { dir, repo } = await scenario(pruneTemplate);
    const snap = await cairnStoppedAt(repo, ['snapshot', src.a], 'create:index#1:before');
    const before = await listing(repo);
    const prune = await cairn(['-r', repo, ...PRUNE], { env: ENV });
    expectLockedOut(prune, snap.child.pid);
    expect(await listing(repo)).toEqual(before);
    expect((await continued(snap)).code).toBe(0);
    const again = await cairn(['-r', repo, ...PRUNE], { env: ENV });
    expect(again.code, again.err).toBe(0);
    await expectIntact(repo, dir, 2);
  });

  it.each([0, 150, 300])('cairn prune and cairn snapshot started %i ms apart: the loser fails with exit 11 (or both succeed in turn); nothing is lost', async (offset) => {
    const { dir, repo } = await scenario(pruneTemplate);
    const prune = startCli(['-r', repo, ...PRUNE], { env: ENV, repo });
    children.push(prune.child);
    await new Promise((r) => setTimeout(r, offset));
    const snap = await runCli(['-r', repo, 'snapshot', src.c], { env: ENV, repo });
    const p = await prune.done;
    races.push(`cairn prune, then cairn snapshot ${offset} ms later: prune ${p.code}, snapshot ${snap.code}`);
    // Both succeeding means one after the other: their locks were never held at the same time.
    if (p.code === 0 && snap.code === 0) expect(overlapped(p, snap)).toBe(false);
    for (const r of [p, snap]) expect([0, 11], r.err).toContain(r.code);
    if (p.code === 11) expectLockedOut(p, undefined);
    if (snap.code === 11) expectLockedOut(snap, prune.child.pid);
    // The loser, run again, succeeds.
    if (snap.code === 11) expect((await cairn(['-r', repo, 'snapshot', src.c], { env: ENV })).code).toBe(0);
    if (p.code === 11) expect((await cairn(['-r', repo, ...PRUNE], { env: ENV })).code).toBe(0);
    await expectIntact(repo, dir, 2);
  });
});

describe('a prune and a backup, with restic as the other party', () => {
  it('restic backup while cairn prune holds its lock fails (locked exclusively) and writes nothing; it succeeds afterwards', async () => {
    const { dir, repo } = await scenario(pruneTemplate);
    const prune = await cairnStoppedAt(repo, PRUNE, 'rename:data#1:after');
    const before = await listing(repo);
    const r = await restic(repo, ['backup', src.a]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('repository is already locked exclusively');
    expect(r.stderr).toContain(`PID ${prune.child.pid} `);
    expect(await listing(repo)).toEqual(before);
    expect((await continued(prune)).code).toBe(0);
    expect((await restic(repo, ['backup', src.a])).code).toBe(0);
    await expectIntact(repo, dir, 2);
    await expectResticRestores(repo, dir, src.a);
  });

  it('cairn prune while restic backup holds its lock fails with exit 11; after the backup it prunes and keeps what restic deduplicated', async () => {
    const { dir, repo } = await scenario(pruneTemplate);
    const backup = startRestic(repo, ['backup', src.a]);
    await newLock(repo, []);
    backup.child.kill('SIGSTOP');
    try {
      const before = await listing(repo);
      const prune = await cairn(['-r', repo, ...PRUNE], { env: ENV });
      expectLockedOut(prune, backup.child.pid);
      expect(await listing(repo)).toEqual(before);
    } finally {
      backup.child.kill('SIGCONT');
    }
    const b = await backup.done;
    expect(b.code, b.err).toBe(0);
    expect((await cairn(['-r', repo, ...PRUNE], { env: ENV })).code).toBe(0);
    await expectIntact(repo, dir, 2);
    await expectResticRestores(repo, dir, src.a);
  });

  it('cairn snapshot while restic prune holds its lock fails with exit 11 and writes nothing; it succeeds afterwards', async () => {
    const { dir, repo } = await scenario(pruneTemplate);
    const prune = startRestic(repo, ['prune']);
    await newLock(repo, []);
    prune.child.kill('SIGSTOP');
    try {
      const before = await listing(repo);
      const snap = await cairn(['-r', repo, 'snapshot', src.a], { env: ENV });
      expectLockedOut(snap, prune.child.pid);
      expect(await listing(repo)).toEqual(before);
    } finally {
      prune.child.kill('SIGCONT');
    }
    const p = await prune.done;
    expect(p.code, p.err).toBe(0);
    expect((await cairn(['-r', repo, 'snapshot', src.a], { env: ENV })).code).toBe(0);
    await expectIntact(repo, dir, 2);
  });

  it('restic prune while cairn snapshot holds its lock (packs not yet indexed) fails and deletes nothing; the next restic prune keeps what the snapshot uses', async () => {
    const { dir, repo } = await scenario(pruneTemplate);
    const snap = await cairnStoppedAt(repo, ['snapshot', src.a], 'create:index#1:before');
    const before = await listing(repo);
    const p = await restic(repo, ['prune']);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain('repository is already locked');
    expect(p.stderr).toContain(`PID ${snap.child.pid} `);
    expect(await listing(repo)).toEqual(before);
    expect((await continued(snap)).code).toBe(0);
    const again = await restic(repo, ['prune']);
    expect(again.code, again.stderr).toBe(0);
    expect(await snapshotCount(repo)).toBe(2);
    await expectIntact(repo, dir, 2);
  });

  it.each([0, 150, 300])('restic backup and cairn prune started %i ms apart: the loser fails with the lock error (or both succeed in turn); nothing is lost', async (offset) => {
    const { dir, repo } = await scenario(pruneTemplate);
    const prune = startCli(['-r', repo, ...PRUNE], { env: ENV });
    children.push(prune.child);
    await new Promise((r) => setTimeout(r, offset));
    const backup = await restic(repo, ['backup', src.c]);
    const p = await prune.done;
    races.push(`cairn prune, then restic backup ${offset} ms later: prune ${p.code}, restic ${backup.code}`);
    expect([0, 11], p.err).toContain(p.code);
    if (backup.code !== 0) expect(backup.stderr).toContain('repository is already locked');
    if (backup.code !== 0) expect((await restic(repo, ['backup', src.c])).code).toBe(0);
    if (p.code === 11) expect((await cairn(['-r', repo, ...PRUNE], { env: ENV })).code).toBe(0);
    await expectIntact(repo, dir, 2);
  });
});
