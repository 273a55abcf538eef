/**
 * Crash safety of the whole tool: the built CLI is SIGKILLed at more than 50 moments spread over
 * `snapshot` (a first one and an incremental one), `forget --prune` and `restore`, and after each
 * kill the repository is judged as a user (and restic) would find it.
 *
 * Kill points. A probe run of each command (through the preload `test/helpers/crash-hook.mjs`)
 * lists the file operations it does in the repository (and the restore target); deterministic
 * kill points are chosen from that list (`pickEventKillPoints`: the first and last of each kind,
 * then evenly spaced ones): in the middle of writing a temporary file (half of it written, also a
 * blob worker's pack in progress), just after a file is renamed into place, just after a file is
 * removed. Timed kill points add seeded random delays after the command's lock file is in place,
 * spread over the probe's working time, from the end of its 200 ms lock wait to its exit
 * (CAIRN_CRASH_SEED changes the seed). Each run
 * is traced, so the report printed at the end says where every kill landed (the last file
 * operation done, and how far each kind got).
 *
 * After each kill:
 * - every file under data/, index/, snapshots/, keys/, locks/ is named by the SHA-256 of its
 *   content (a partial file never sits under a final name; the local backend's `.tmp-…` files are
 *   allowed, and counted);
 * - a snapshot file exists only if the killed command got through its rename (no half snapshot);
 * - the killed process's lock is stale: `cairn unlock` removes exactly it (shared for snapshot and
 *   restore, exclusive for forget --prune); until then it blocks an exclusive command (exit 11);
 * - `cairn check --read-data` passes (unreferenced packs are allowed), and `restic check` agrees
 *   (on every fourth kill; with --read-data on every eighth);
 * - every snapshot in the repository restores identical to its source (treecmp);
 * - the same command, run again, completes, and what it made restores identically too (for
 *   restore: the target, partly written by the killed run, ends up identical to the source, with
 *   `--overwrite always` (the default) and with `if-changed`; `if-newer` and `never` keep partly
 *   written files by definition: see spec/crash-and-concurrency.md).
 *
 * Needs the built CLI: `npm run build` (npm test builds first).
 */
import { cp, mkdir, mkdtemp, readdir, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initRepository, snapshot as takeSnapshot } from '../../src/index.js';
import { createLimiter } from '../../src/util/index.js';
import { cairn } from '../cli/helpers.js';
import { landing, pickEventKillPoints, requireBuiltCli, runCli, seededRandom, type CliRun, type FileEvent, type KillPoint } from '../helpers/cli-process.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { expectCairnCheck, expectContentAddressed, expectResticCheck, expectSnapshotsRestore, unlockStale } from '../helpers/repo-invariants.js';
import { compareTrees, statTree, type TreeStat } from '../helpers/treecmp.js';
import { makeMixedTree } from '../helpers/trees.js';

const PASSWORD = 'crash-test';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
const SEED = Number(process.env['CAIRN_CRASH_SEED'] ?? 8);
/** Kill points at file events, and timed ones, per command. */
const BUDGET = { events: { first: 11, incremental: 11, forget: 15, restore: 8 }, timed: { first: 3, incremental: 3, forget: 3, restore: 2 } };

requireBuiltCli('snapshot', 'forget', 'prune', 'restore', 'unlock', 'check');

// ---- fixtures: source trees, template repositories, one probe run per command -----------------

const root = await mkdtemp(join(tmpdir(), 'cairn-crash-'));

/** A mixed tree of small files (some empty, varied modes and times) plus two larger files. */
async function makeSource(dir: string, seed: number): Promise<void> {
  await makeMixedTree(dir, { dirs: 4, perDir: 8, seed });
  await mkdir(join(dir, 'big'), { recursive: true });
  await writeFile(join(dir, 'big', 'a.bin'), pseudoRandomBytes(1_200_000, seed * 31 + 1));
  await writeFile(join(dir, 'big', 'b.bin'), pseudoRandomBytes(900_000, seed * 31 + 2));
}

const src = { other: join(root, 'src', 'other'), first: join(root, 'src', 'first'), inc: join(root, 'src', 'inc'), hist: join(root, 'src', 'hist') };
await makeSource(src.other, 1);
await makeSource(src.first, 2);
await makeSource(src.inc, 3);
/** What each snapshot must restore to, by snapshot ID. */
const expected = new Map<string, TreeStat>();

async function cli(args: string[]): Promise<string> {
  const r = await cairn(args, { env: ENV });
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} failed (exit ${r.code}): ${r.err}`);
  return r.out;
}
async function cliSnapshot(repo: string, dir: string): Promise<string> {
  const out = await cli(['-r', repo, '--json', 'snapshot', dir]);
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { snapshot_id: string }).snapshot_id;
}

// T0: a snapshot of `other`. T1: T0 plus a snapshot of `inc`, which then changes (for incremental).
const T0 = join(root, 'T0');
await cli(['-r', T0, 'repo', 'init']);
expected.set(await cliSnapshot(T0, src.other), await statTree(src.other));
const T1 = join(root, 'T1');
await cp(T0, T1, { recursive: true });
const incV1 = await statTree(src.inc);
const incV1Id = await cliSnapshot(T1, src.inc);
expected.set(incV1Id, incV1);
// The incremental change: two files rewritten, one removed, new files and a new directory.
await writeFile(join(src.inc, 'big', 'a.bin'), pseudoRandomBytes(1_200_000, 99));
await writeFile(join(src.inc, 'dir-1', 'file-3.bin'), 'changed\n');
await unlink(join(src.inc, 'dir-2', 'file-4.bin'));
await mkdir(join(src.inc, 'new'));
for (let i = 0; i < 5; i++) await writeFile(join(src.inc, 'new', `n${i}`), pseudoRandomBytes(30_000 + i, 500 + i));
await utimes(join(src.inc, 'dir-1', 'file-3.bin'), 1_700_000_000, 1_700_000_000);
const incV2 = await statTree(src.inc);
const firstStat = await statTree(src.first);

// T2: four versions of `hist` in small packs (256 KiB), for forget --keep-last 2 --prune to
// delete, repack and rewrite the index.
const T2 = join(root, 'T2');
{
  const repo = await initRepository(T2, { password: PASSWORD, kdf: { N: 1024, r: 8, p: 1 }, packSize: 256 * 1024, blobWorkers: 1 });
  try {
    await makeSource(src.hist, 4);
    for (let v = 1; v <= 4; v++) {
      if (v > 1) {
        await writeFile(join(src.hist, 'big', 'a.bin'), pseudoRandomBytes(1_200_000, 700 + v));
        await writeFile(join(src.hist, `dir-${v - 1}`, 'file-1.bin'), pseudoRandomBytes(20_000, 800 + v));
        await writeFile(join(src.hist, `v${v}.bin`), pseudoRandomBytes(300_000, 900 + v));
      }
      const s = await takeSnapshot(repo, [src.hist]);
      expected.set(s.snapshot_id, await statTree(src.hist));
      // Distinct snapshot times (forget orders by time).
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await repo.close();
  }
}

interface CommandCase {
  readonly name: keyof typeof BUDGET.events;
  readonly template: string;
  /** The source this command's new snapshots (or restore) must equal. */
  readonly source: TreeStat;
  readonly sourcePath: string;
  readonly exclusive: boolean;
  args(repo: string, target: string): string[];
}

const COMMANDS: readonly CommandCase[] = [
  { name: 'first', template: T0, source: firstStat, sourcePath: src.first, exclusive: false, args: (r) => ['-r', r, 'snapshot', src.first] },
  { name: 'incremental', template: T1, source: incV2, sourcePath: src.inc, exclusive: false, args: (r) => ['-r', r, 'snapshot', src.inc] },
  { name: 'forget', template: T2, source: new Map(), sourcePath: src.hist, exclusive: true, args: (r) => ['-r', r, 'forget', '--keep-last', '2', '--prune'] },
  { name: 'restore', template: T1, source: incV1, sourcePath: src.inc, exclusive: false, args: (r, t) => ['-r', r, 'restore', incV1Id, '--target', t] },
];

/** A kill point of one command. */
interface Case {
  readonly command: CommandCase;
  readonly point: KillPoint;
  readonly label: string;
  readonly index: number;
}

const probes = new Map<string, { events: readonly FileEvent[]; ms: number }>();
const cases: Case[] = [];
for (const command of COMMANDS) {
  const dir = join(root, `probe-${command.name}`);
  const repo = join(dir, 'repo');
  await cp(command.template, repo, { recursive: true });
  const target = join(dir, 'target');
  const run = await runCli(command.args(repo, target), { env: ENV, repo, target });
  if (run.code !== 0) throw new Error(`probe of ${command.name} failed (exit ${run.code}): ${run.err}`);
  // Timed kills: a seeded random time after the command's lock file is in place, spread over the
  // probe's working time from its lock to its exit (measured from the lock, not from the spawn, so
  // that a loaded machine's slow start-up does not push them all before it). On a local file
  // system the lock protocol's second look follows at once (no settle wait).
  const lockedAt = run.events.find((e) => e.event === 'rename:locks')?.at ?? run.started;
  probes.set(command.name, { events: run.events, ms: run.ended - run.started });
  for (const event of pickEventKillPoints(run.events, BUDGET.events[command.name])) {
    cases.push({ command, point: { event }, label: event, index: cases.length });
  }
  const random = seededRandom(SEED * 1000 + cases.length);
  for (let i = 0; i < BUDGET.timed[command.name]; i++) {
    const ms = Math.round(random() * Math.max(0, run.ended - lockedAt));
    cases.push({ command, point: { event: `rename:locks#1:after+${ms}ms` }, label: `${ms} ms after the lock`, index: cases.length });
  }
  await rm(dir, { recursive: true, force: true });
}

// ---- the tests ---------------------------------------------------------------------------------

interface Outcome {
  readonly command: string;
  readonly label: string;
  readonly killed: boolean;
  readonly landed: string;
  readonly temps: number;
  readonly lockLeft: boolean;
}
const outcomes: Outcome[] = [];
/** Three kill points at a time: mostly they wait (process start-up, the kill timer). */
const limit = createLimiter(3);
const blockedShown = new Set<string>();

describe('every command survives SIGKILL at any moment', () => {
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    const by = (c: string): Outcome[] => outcomes.filter((o) => o.command === c);
    const lines = [`crash test (seed ${SEED}): ${outcomes.length} kill points, ${outcomes.filter((o) => o.killed).length} killed before the command ended`];
    for (const c of COMMANDS) {
      const probe = probes.get(c.name)!;
      lines.push(`  ${c.name}: ${by(c.name).length} kill points (probe: ${probe.events.length} file events in ${probe.ms} ms)`);
      for (const o of by(c.name)) lines.push(`    ${o.label.padEnd(26)} ${o.killed ? o.landed : 'completed before the kill'}${o.temps > 0 ? `; ${o.temps} temp file(s) left` : ''}${o.lockLeft ? '; stale lock left' : ''}`);
    }
    console.log(lines.join('\n'));
  });

  it('has at least 50 kill points', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.concurrent.each(cases.map((c) => [`${c.command.name}: killed at ${c.label}`, c] as const))('%s', (_name, c) => limit(() => crashCase(c)), 60_000);
});

async function crashCase(c: Case): Promise<void> {
  const { command, point } = c;
  const dir = join(root, `case-${c.index}`);
  const repo = join(dir, 'repo');
  const target = join(dir, 'target');
  const scratch = join(dir, 'restored');
  await cp(command.template, repo, { recursive: true });
  const before = new Set(await snapshotIds(repo));
  const run: CliRun = await runCli(command.args(repo, target), { env: ENV, kill: point, repo, target });
  const timed = point.event?.includes('+') === true;
  if (!timed) expect(run.killed, `not killed at ${point.event} (exit ${run.code}): ${run.err}`).toBe(true);
  else if (!run.killed) expect(run.code, run.err).toBe(0);
  // Operations run concurrently: one that began may have taken effect although it was not seen to end.
  const done = (e: string): number => run.events.filter((x) => x.event === e).length;
  const begun = (e: string): number => run.begun.filter((x) => x.event === e).length;

  // No partial file under a final name; temporary files are allowed.
  const temps = await expectContentAddressed(repo);

  // A snapshot file exists only when the command got to its rename; forget removes whole files.
  const after = await snapshotIds(repo);
  const added = after.filter((id) => !before.has(id)).length;
  const removedSnapshots = before.size - (after.length - added);
  expect(added).toBeGreaterThanOrEqual(done('rename:snapshots'));
  expect(added).toBeLessThanOrEqual(begun('rename:snapshots'));
  expect(removedSnapshots).toBeGreaterThanOrEqual(done('unlink:snapshots'));
  expect(removedSnapshots).toBeLessThanOrEqual(begun('unlink:snapshots'));

  // The lock the killed process left (if it got to write one and not to remove it) is stale.
  const lockLeft = (await readdir(join(repo, 'locks'))).some((n) => /^[0-9a-f]{64}$/.test(n));
  if (run.killed && done('rename:locks') > begun('unlink:locks')) expect(lockLeft).toBe(true);
  if (!run.killed || done('unlink:locks') > 0 || begun('rename:locks') === 0) expect(lockLeft).toBe(false);
  if (lockLeft && !blockedShown.has(command.name)) {
    // As in restic 0.14, a stale lock still blocks an exclusive operation until `unlock`.
    blockedShown.add(command.name);
    const blocked = await cairn(['-r', repo, 'prune', '--dry-run'], { env: ENV });
    expect(blocked.code, blocked.err).toBe(11);
    expect(blocked.err).toContain(`PID ${run.pid}`);
    expect(blocked.err).toContain('[stale]');
  }
  const removed = await unlockStale(repo, ENV);
  if (lockLeft) {
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatchObject({ pid: run.pid, exclusive: command.exclusive, stale: true });
  } else {
    expect(removed).toEqual([]);
  }

  await expectCairnCheck(repo, ENV);
  if (c.index % 4 === 0) await expectResticCheck(repo, PASSWORD, c.index % 8 === 0);

  // Every snapshot restores identically: the template's, and any the killed command saved.
  const expectOf = (id: string): TreeStat | undefined => expected.get(id) ?? (before.has(id) ? undefined : command.source);
  const restored = await expectSnapshotsRestore(repo, PASSWORD, scratch, (e) => expectOf(e.id) ?? fail(`no expected tree for snapshot ${e.id}`));
  expect(restored).toBe(after.length);

  // The same command again completes.
  // A restore killed midway leaves partly written files under their final names: run again with
  // the default --overwrite always, or (every other time) if-changed, it must make them whole.
  const rerun = command.name === 'restore' && c.index % 2 === 1 ? [...command.args(repo, target), '--overwrite', 'if-changed'] : command.args(repo, target);
  const again = await cairn(rerun, { env: ENV });
  expect(again.code, `${command.name} after the kill failed:\n${again.out}\n${again.err}`).toBe(0);
  const final = await snapshotIds(repo);
  if (command.name === 'forget') {
    expect(final).toHaveLength(2);
    await expectSnapshotsRestore(repo, PASSWORD, scratch, (e) => expected.get(e.id));
  } else if (command.name === 'restore') {
    expect(await compareTrees(command.source, join(target, command.sourcePath))).toEqual([]);
  } else {
    const fresh = new Set(final.filter((id) => !after.includes(id)));
    expect(fresh.size).toBe(1);
    expect(await expectSnapshotsRestore(repo, PASSWORD, scratch, (e) => (fresh.has(e.id) ? command.source : undefined))).toBe(1);
  }

  outcomes.push({ command: command.name, label: c.label, killed: run.killed, landed: landing(run.events, probes.get(command.name)!.events), temps: temps.length, lockLeft });
  await rm(dir, { recursive: true, force: true });
}

async function snapshotIds(repo: string): Promise<string[]> {
  return (await readdir(join(repo, 'snapshots'))).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
}

function fail(message: string): never {
  throw new Error(message);
}
