/**
 * Issue 8 ("Corruption"): one small repository (checker helpers' makeRepository: 24 files in 12
 * packs of ~100 kB, two snapshots), and for every kind of repository file (a data pack, a tree
 * pack, an index file, a snapshot file, the key, the config, a lock) two kinds of damage: one byte
 * flipped at a seeded random offset, and the file missing. Each case is a `cp -r` of the pristine
 * repository, damaged, and every command a user runs on it is judged:
 *
 * - it never crashes (no stack trace, never ERR_INTERNAL); when it fails, its `--json` error line
 *   carries a stable code and the exit status is that code's documented one (spec/errors.md);
 * - when the damage is on its path, it fails or warns, naming the file (its ID or short ID, or
 *   the blob or tree lost with it), and it never exits 0 with output that differs from what the
 *   pristine repository gives;
 * - `restore` never writes a wrong byte: every file it writes equals the source, every file it
 *   does not write is reported, and exactly the files the damage reaches are missing;
 * - `prune` and `forget --prune`, failed or not, leave no damage `check --read-data` did not see
 *   before.
 *
 * Then the repairs: damaged or lost packs moved out, `repair index` and `repair snapshots` leave a
 * repository cairn's and restic's `check --read-data` pass and whose unaffected files restore; a
 * damaged or lost index file comes back whole from `repair index`; the intact snapshot survives a
 * damaged one; an unopenable repository says why. spec/corruption.md is the table this enforces.
 *
 * The seed is fixed (CAIRN_CORRUPTION_SEED overrides it, CAIRN_CORRUPTION_OFFSET replaces it by a
 * fixed offset, -10 landing in a pack's header); every expectation is derived from where the byte
 * landed (which blob, or the pack header), so any seed must pass.
 */
import { statSync } from 'node:fs';
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeTree, ERROR_CODES, listSnapshots, openRepository, type ErrorCode } from '../../src/index.js';
import { exitCodeFor, run } from '../../src/cli/main.js';
import { makeIo, TEST_COMMANDS } from '../cli/helpers.js';
import { cairnIn, ENV, flipByte, makeRepository, PASSWORD, resticCheck } from '../checker/helpers.js';
import { seededRandom } from '../helpers/cli-process.js';
import { jsonLines } from '../helpers/json.js';
import { tempDir } from '../helpers/tmp.js';
import { compareTrees } from '../helpers/treecmp.js';
import { describeTree, type EntryInfo } from '../helpers/trees.js';

const SEED = Number(process.env['CAIRN_CORRUPTION_SEED'] ?? 20_260_808);
/** A fixed offset instead (negative: from the end, e.g. -10 to hit a pack's header), to explore. */
const AT = process.env['CAIRN_CORRUPTION_OFFSET'];

type Kind = 'pack-data' | 'pack-tree' | 'index' | 'snapshot' | 'key' | 'config' | 'lock';
type Damage = 'flip' | 'missing';
const KINDS: readonly Kind[] = ['pack-data', 'pack-tree', 'index', 'snapshot', 'key', 'config', 'lock'];
const CASES = KINDS.flatMap((kind) => (['flip', 'missing'] as const).map((damage) => ({ kind, damage, name: `${kind} ${damage}` })));

interface Result {
  code: number;
  out: string;
  err: string;
}

/** One file or directory of a snapshot, as the pristine repository holds it. */
interface Entry {
  /** Relative to the source directory. */
  readonly rel: string;
  readonly type: string;
  /** Data blobs (files). */
  readonly blobs: readonly string[];
  /** The trees from the snapshot's root down to (and including) the one that holds this entry, and a directory's own tree. */
  readonly trees: readonly string[];
}

interface SnapshotModel {
  readonly id: string;
  readonly tree: string;
  readonly entries: readonly Entry[];
  /** Every tree it reaches. */
  readonly trees: ReadonlySet<string>;
}

interface BlobInfo {
  readonly id: string;
  readonly type: 'data' | 'tree';
  readonly pack: string;
  readonly offset: number;
  readonly length: number;
}

interface Pristine {
  readonly repo: string;
  /** The same repository with a live shared lock of another host (`lockId`). */
  readonly locked: string;
  readonly lockId: string;
  readonly src: string;
  readonly source: Map<string, EntryInfo>;
  readonly first: SnapshotModel;
  readonly latest: SnapshotModel;
  readonly blobs: ReadonlyMap<string, BlobInfo>;
  readonly packBlobs: ReadonlyMap<string, readonly BlobInfo[]>;
  readonly indexPacks: ReadonlyMap<string, ReadonlySet<string>>;
  readonly dataPack: string;
  readonly treePack: string;
  readonly indexFile: string;
  readonly keyFile: string;
  /** What the commands print on the intact repository. */
  readonly out: { snapshots: string; lsLatest: string; catConfig: string };
}

/** A damaged copy, and what the damage takes away. */
interface Case {
  readonly kind: Kind;
  readonly damage: Damage;
  readonly name: string;
  /** The damaged file, relative to the repository. */
  readonly rel: string;
  /** Its ID (`config` for the config). */
  readonly id: string;
  /** Where the byte was flipped, and what it hit (`header`: a pack's header or length). */
  readonly offset?: number;
  readonly hit?: BlobInfo | 'header';
  /** Blobs and trees no longer available. */
  readonly lost: ReadonlySet<string>;
  /** The index cannot be loaded at all: every command that needs it stops. */
  readonly indexUnloadable: boolean;
  /** The repository cannot be opened. */
  readonly unopenable: boolean;
  /** Words any of which names the damage in a message (IDs as 8-digit prefixes). */
  readonly mentions: readonly string[];
  /** A fresh damaged copy of the repository. */
  copy(): Promise<string>;
}

const root = tempDir('cairn-corruption-');
let P: Pristine;
let copies = 0;

const short = (id: string): string => id.slice(0, 8);

async function walk(r: Awaited<ReturnType<typeof openRepository>>, tree: string, src: string): Promise<{ entries: Entry[]; trees: Set<string> }> {
  const entries: Entry[] = [];
  const trees = new Set<string>();
  const go = async (id: string, path: string, chain: string[]): Promise<void> => {
    trees.add(id);
    for (const n of decodeTree(await r.loadBlob('tree', id as never)).nodes) {
      const p = `${path}/${Buffer.from(n.name).toString()}`;
      const rel = p.startsWith(`${src}/`) ? p.slice(src.length + 1) : undefined;
      const here = [...chain, id];
      if (n.type === 'dir' && n.subtree !== undefined) {
        if (rel !== undefined) entries.push({ rel, type: 'dir', blobs: [], trees: [...here, n.subtree] });
        await go(n.subtree, p, here);
      } else if (rel !== undefined) {
        entries.push({ rel, type: n.type, blobs: [...(n.content ?? [])], trees: here });
      }
    }
  };
  await go(tree, '', []);
  return { entries, trees };
}

async function makePristine(): Promise<Pristine> {
  const { repo, src } = await makeRepository(join(root, 'pristine'));
  const r = await openRepository(repo, { password: PASSWORD });
  try {
    await r.loadIndex();
    const blobs = new Map<string, BlobInfo>();
    const packBlobs = new Map<string, BlobInfo[]>();
    for (const { id, entry } of r.index.entries()) {
      const b: BlobInfo = { id, type: entry.type, pack: entry.pack, offset: entry.offset, length: entry.length };
      blobs.set(id, b);
      packBlobs.set(entry.pack, [...(packBlobs.get(entry.pack) ?? []), b]);
    }
    const indexPacks = new Map<string, Set<string>>();
    for await (const id of r.list('index')) {
      const json = JSON.parse(new TextDecoder().decode(await r.loadUnpacked('index', id))) as { packs: { id: string }[] };
      indexPacks.set(id, new Set(json.packs.map((p) => p.id)));
    }
    const list = await listSnapshots(r);
    expect(list).toHaveLength(2);
    const model = async (i: number): Promise<SnapshotModel> => {
      const s = list[i]!;
      return { id: s.id, tree: s.snapshot.tree, ...(await walk(r, s.snapshot.tree, src)) };
    };
    const first = await model(0);
    const latest = await model(1);
    // A data pack of files both snapshots hold (the changed file's packs are left alone), and
    // the tree pack of the first snapshot's root, which also holds trees the latest shares.
    const both = new Set(first.entries.filter((e) => latest.entries.some((l) => l.rel === e.rel && l.blobs.join() === e.blobs.join())).flatMap((e) => e.blobs));
    const dataPack = [...packBlobs].filter(([, bs]) => bs.length > 1 && bs.every((b) => b.type === 'data' && both.has(b.id))).map(([p]) => p).sort()[0]!;
    const treePack = blobs.get(first.tree)!.pack;
    expect(dataPack).toBeDefined();
    expect(packBlobs.get(treePack)!.some((b) => latest.trees.has(b.id))).toBe(true);
    const indexFile = [...indexPacks].sort((a, b) => b[1].size - a[1].size)[0]![0];
    const keyFile = (await readdir(join(repo, 'keys')))[0]!;

    const locked = join(root, 'pristine-locked');
    await cp(repo, locked, { recursive: true });
    const l = await openRepository(locked, { password: PASSWORD });
    let lockId: string;
    try {
      const lock = { time: new Date().toISOString(), exclusive: false, hostname: 'elsewhere', username: 'ann', pid: 4242 };
      lockId = await l.saveUnpacked('lock', new TextEncoder().encode(JSON.stringify(lock)));
    } finally {
      await l.close();
    }
    const c = cairnIn(repo);
    const out = {
      snapshots: (await c(['--json', 'snapshots'])).out,
      lsLatest: (await c(['--json', 'ls', 'latest'])).out,
      catConfig: (await c(['--json', 'cat', 'config'])).out,
    };
    return { repo, locked, lockId, src, source: await describeTree(src), first, latest, blobs, packBlobs, indexPacks, dataPack, treePack, indexFile, keyFile, out };
  } finally {
    await r.close();
  }
}

/** The case's damage, and a function that applies it to a fresh copy. */
function makeCase(kind: Kind, damage: Damage, name: string): Case {
  const rel = {
    'pack-data': join('data', P.dataPack.slice(0, 2), P.dataPack),
    'pack-tree': join('data', P.treePack.slice(0, 2), P.treePack),
    index: join('index', P.indexFile),
    snapshot: join('snapshots', P.first.id),
    key: join('keys', P.keyFile),
    config: 'config',
    // A damaged lock: the live lock of another host. A missing lock: the locks/ directory itself.
    lock: damage === 'flip' ? join('locks', P.lockId) : 'locks',
  }[kind];
  const id = rel === 'config' || rel === 'locks' ? rel : rel.split('/').at(-1)!;
  const from = kind === 'lock' && damage === 'flip' ? P.locked : P.repo;
  const size = damage === 'flip' ? statSync(join(from, rel)).size : 0;
  const at = AT === undefined ? undefined : Number(AT);
  const offset = damage !== 'flip' ? undefined : at === undefined ? Math.floor(seededRandom(SEED + KINDS.indexOf(kind))() * size) : (at + size) % size;
  const lost = new Set<string>();
  let hit: BlobInfo | 'header' | undefined;
  if (kind === 'pack-data' || kind === 'pack-tree') {
    const blobs = P.packBlobs.get(id)!;
    if (damage === 'missing') for (const b of blobs) lost.add(b.id);
    else {
      hit = blobs.find((b) => offset! >= b.offset && offset! < b.offset + b.length) ?? 'header';
      if (hit !== 'header') lost.add(hit.id);
    }
  }
  if (kind === 'index' && damage === 'missing') {
    const elsewhere = new Set([...P.indexPacks].filter(([f]) => f !== id).flatMap(([, ps]) => [...ps]));
    for (const pack of P.indexPacks.get(id)!) if (!elsewhere.has(pack)) for (const b of P.packBlobs.get(pack)!) lost.add(b.id);
  }
  const mentions =
    kind === 'index' && damage === 'missing' ? [short(id), ...[...lost].map(short)] // the file itself only where a command asks for it (cat)
    : kind === 'pack-data' || kind === 'pack-tree' ? [short(id), ...[...lost].map(short)]
    : kind === 'key' && damage === 'missing' ? ['key']
    : kind === 'config' ? ['config']
    : [short(id)];
  return {
    kind,
    damage,
    name,
    rel,
    id,
    ...(offset === undefined ? {} : { offset }),
    ...(hit === undefined ? {} : { hit }),
    lost,
    indexUnloadable: kind === 'index' && damage === 'flip',
    unopenable: kind === 'key' || kind === 'config',
    mentions,
    copy: async () => {
      const dir = join(root, `copy-${copies++}`);
      await cp(from, dir, { recursive: true });
      if (offset !== undefined) await flipByte(join(dir, rel), offset);
      else await rm(join(dir, rel), { recursive: true });
      return dir;
    },
  };
}


/** The entries of `s` the damage takes away: below a lost tree, or with a lost data blob. */
function affected(c: Case, s: SnapshotModel): { files: Set<string>; entries: Set<string>; trees: Set<string> } {
  const files = new Set<string>();
  const entries = new Set<string>();
  for (const e of s.entries) {
    const below = e.trees.some((t) => c.lost.has(t)) && !(e.type === 'dir' && e.trees.slice(0, -1).every((t) => !c.lost.has(t)));
    if (below || e.blobs.some((b) => c.lost.has(b))) {
      entries.add(e.rel);
      if (e.type === 'file') files.add(e.rel);
    }
  }
  return { files, entries, trees: new Set([...s.trees].filter((t) => c.lost.has(t))) };
}

/** run() with the real CLI in-process, stdout kept as bytes (for dump). */
async function cairnBytes(repo: string, args: string[]): Promise<Result & { bytes: Buffer }> {
  const io = makeIo({ env: ENV });
  const chunks: Buffer[] = [];
  const stdout = { write: (c: string | Uint8Array) => void chunks.push(Buffer.from(c)) };
  const code = await run(['-r', repo, ...args], { ...io, stdout }, TEST_COMMANDS);
  const bytes = Buffer.concat(chunks);
  return { code, out: bytes.toString('latin1'), err: io.err(), bytes };
}

/** The last stderr line, as the CLI's JSON error. */
function errorOf(r: Result): { code: ErrorCode; message: string } {
  const last = r.err.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as { code: ErrorCode; message: string };
}

/** No crash; a failure has a documented code and its exit status. */
function expectClean(r: Result, what: string): void {
  expect(r.err, `${what}: a stack trace`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  if (r.code === 0) return;
  const e = errorOf(r);
  expect(Object.keys(ERROR_CODES), `${what}: unknown code ${e.code}`).toContain(e.code);
  expect(e.code, `${what}: ${e.message}`).not.toBe('ERR_INTERNAL');
  expect(r.code, `${what}: exit status of ${e.code}`).toBe(exitCodeFor(e.code));
}

function expectNames(r: Result, c: Case, what: string): void {
  expect(c.mentions.some((m) => r.err.includes(m)), `${what} should name ${c.mentions.join(' or ')}:\n${r.err}`).toBe(true);
}

/** Fails, cleanly, naming the damage (and with this code, when given). */
function expectFails(r: Result, c: Case, what: string, code?: ErrorCode | readonly ErrorCode[]): void {
  expect(r.code, `${what} should fail:\n${r.out.slice(0, 500)}`).not.toBe(0);
  expectClean(r, what);
  expectNames(r, c, what);
  if (code !== undefined) expect([code].flat(), `${what}: ${r.err}`).toContain(errorOf(r).code);
}

function expectOk(r: Result, what: string): void {
  expect(r.code, `${what}: ${r.err}`).toBe(0);
  expectClean(r, what);
}

/** The error lines of `check --json` as comparable keys. */
function checkKeys(r: Result): Set<string> {
  return new Set(
    jsonLines(r.err)
      .filter((l) => l['kind'] !== undefined)
      .map((l) => [l['kind'], l['pack'], l['index'], l['snapshot'], l['blob']].filter((x) => x !== undefined).join(' ')),
  );
}

/**
 * The restore oracle: every restored file equals its source (content, size, mode, mtime); no
 * extra entries; the missing files are exactly `expected` (when given), and each is named, or
 * one of its directories is; exit 0 exactly when nothing is missing.
 */
async function expectRestore(r: Result, target: string, c: Case, expected: ReadonlySet<string> | undefined, what: string): Promise<void> {
  expectClean(r, what);
  const base = join(target, P.src);
  const restored = await describeTree(base).catch(() => new Map<string, EntryInfo>());
  const wrong: string[] = [];
  for (const [p, e] of restored) {
    const s = P.source.get(p);
    if (s === undefined) wrong.push(`extra: ${p}`);
    else if (e.type !== s.type) wrong.push(`type: ${p}`);
    else if (e.type === 'file' && (e.sha !== s.sha || e.size !== s.size || e.mode !== s.mode || e.mtimeUs !== s.mtimeUs)) wrong.push(`differs: ${p}`);
  }
  expect(wrong, `${what}: wrong bytes written`).toEqual([]);
  const missing = [...P.source].filter(([p, e]) => e.type === 'file' && !restored.has(p)).map(([p]) => p).sort();
  if (expected !== undefined) expect(missing, `${what}: the files the damage reaches, no more, no fewer`).toEqual([...expected].sort());
  if (missing.length === 0) {
    expect(r.code, `${what}: ${r.err}`).toBe(0);
    return;
  }
  expect(r.code, `${what}: files are missing, yet it exited 0`).not.toBe(0);
  if (restored.size === 0) {
    expectNames(r, c, what); // nothing restored: the whole command failed on the damaged file
    return;
  }
  expect(errorOf(r).code).toBe('ERR_INCOMPLETE');
  for (const p of missing) {
    const parts = p.split('/');
    const named = parts.some((_, i) => r.err.includes(`${base}/${parts.slice(0, i + 1).join('/')}"`));
    expect(named, `${what}: ${p} is missing but not reported`).toBe(true);
  }
}

/** Files of the source the case loses in the latest snapshot. */
function lostInLatest(c: Case): Set<string> {
  return affected(c, P.latest).files;
}

beforeAll(async () => {
  P = await makePristine();
}, 60_000);

describe.each(CASES)('$name', ({ kind, damage, name }) => {
  let c: Case;
  let ro: string;
  /** `check --read-data --json` on the damaged copy: the baseline prune must not worsen. */
  let before: Result;

  beforeAll(async () => {
    c = makeCase(kind, damage, name);
    ro = await c.copy();
  });

  const cmd = (args: string[], repo = ro): Promise<Result> => cairnIn(repo)(['--json', ...args]);
  /** A damaged lock file blocks every command that takes a lock (restic >= 0.15 too). */
  const lockBlocked = kind === 'lock' && damage === 'flip';

  it('snapshots', async () => {
    const r = await cmd(['snapshots']);
    if (c.unopenable) return expectFails(r, c, 'snapshots');
    if (kind === 'snapshot' && damage === 'flip') return; // see "the intact snapshot is still listed" below
    expectOk(r, 'snapshots');
    const want = kind === 'snapshot' ? JSON.stringify(JSON.parse(P.out.snapshots).slice(1)) + '\n' : P.out.snapshots;
    expect(r.out).toBe(want);
  });

  it('ls latest', async () => {
    const r = await cmd(['ls', 'latest']);
    const lost = affected(c, P.latest);
    if (c.unopenable || c.indexUnloadable || (kind === 'snapshot' && damage === 'flip') || lost.trees.size > 0) return expectFails(r, c, 'ls');
    expectOk(r, 'ls');
    expect(r.out).toBe(P.out.lsLatest);
  });

  it('dump latest: the exact bytes, or an error and no byte that is wrong', async () => {
    const lost = [...lostInLatest(c)].sort();
    const file = lost[0] ?? 'd0/f0.bin';
    const r = await cairnBytes(ro, ['--json', 'dump', 'latest', join(P.src, file)]);
    const source = await readFile(join(P.src, file));
    expect(source.subarray(0, r.bytes.length).equals(r.bytes), 'dump wrote bytes that are not the file').toBe(true);
    if (c.unopenable || c.indexUnloadable || (kind === 'snapshot' && damage === 'flip') || lost.length > 0 || lockBlocked) {
      expectFails(r, c, 'dump', c.indexUnloadable ? 'ERR_CORRUPT' : lockBlocked ? 'ERR_LOCK_UNREADABLE' : undefined);
    } else {
      expectOk(r, 'dump');
      expect(r.bytes.equals(source)).toBe(true);
    }
  });

  it('check: finds structural damage and names it', async () => {
    const r = await cmd(['check']);
    const silent = (kind === 'lock' && damage === 'missing') || (kind === 'snapshot' && damage === 'missing') ||
      ((kind === 'pack-data' || kind === 'pack-tree') && damage === 'flip' && ![...c.lost].some((b) => P.blobs.get(b)?.type === 'tree'));
    if (silent) {
      expectOk(r, 'check'); // a flipped data byte or pack header needs --read-data
      expect(jsonLines(r.out).at(-1)).toMatchObject({ num_errors: 0 });
    } else expectFails(r, c, 'check', c.unopenable ? undefined : lockBlocked ? 'ERR_LOCK_UNREADABLE' : 'ERR_CHECK_FAILED');
  });

  it('check --read-data: finds every damage and names it', async () => {
    before = await cmd(['check', '--read-data']);
    if (lockBlocked) return expectFails(before, c, 'check --read-data', 'ERR_LOCK_UNREADABLE');
    if (kind === 'lock' || (kind === 'snapshot' && damage === 'missing')) {
      expectOk(before, 'check --read-data');
      return;
    }
    expectFails(before, c, 'check --read-data', c.unopenable ? undefined : 'ERR_CHECK_FAILED');
    if (kind === 'pack-data' || kind === 'pack-tree') {
      expect(jsonLines(before.out).at(-1)).toMatchObject({ broken_packs: [c.id] });
      const kinds = jsonLines(before.err).filter((l) => l['pack'] === c.id).map((l) => l['kind']);
      expect(kinds).toContain(damage === 'missing' ? 'pack-missing' : c.hit === 'header' ? 'pack-header' : 'blob-damaged');
    }
    if (kind === 'index' || kind === 'snapshot') {
      const lines = jsonLines(before.err).filter((l) => l['kind'] === kind);
      if (damage === 'flip') expect(lines).toEqual([expect.objectContaining({ [kind]: c.id, code: 'ERR_CORRUPT' })]);
    }
  });

  it('cat the damaged file (and a lost blob)', async () => {
    const args =
      kind === 'pack-data' || kind === 'pack-tree' ? ['cat', 'pack', c.id]
      : kind === 'index' || kind === 'snapshot' || kind === 'key' ? ['cat', kind, c.id]
      : ['cat', 'config'];
    const r = await cmd(args);
    if (kind === 'lock') {
      expectOk(r, 'cat config');
      expect(r.out).toBe(P.out.catConfig);
      return;
    }
    expectFails(r, c, args.join(' '));
    if (c.lost.size > 0 && (kind === 'pack-data' || kind === 'pack-tree')) {
      const blob = [...c.lost].sort()[0]!;
      const b = await cmd(['cat', 'blob', blob]);
      expectFails(b, c, 'cat blob', damage === 'missing' ? 'ERR_NOT_FOUND' : 'ERR_AUTH_FAILED');
      expect(b.out).toBe('');
    }
  });

  it('restore latest: no wrong byte, every missing file reported, every unaffected file restored', async () => {
    const target = join(root, `restore-${copies++}`);
    const r = await cmd(['restore', 'latest', '--target', target]);
    if (c.unopenable || c.indexUnloadable || (kind === 'snapshot' && damage === 'flip') || lockBlocked) {
      expectFails(r, c, 'restore', lockBlocked ? 'ERR_LOCK_UNREADABLE' : undefined);
      await expectRestore(r, target, c, undefined, 'restore');
      return;
    }
    await expectRestore(r, target, c, lostInLatest(c), 'restore');
  });

  it('snapshot (a new backup of the same source)', async () => {
    const repo = await c.copy();
    const r = await cmd(['snapshot', P.src], repo);
    if (c.unopenable || c.indexUnloadable || (kind === 'snapshot' && damage === 'flip') || lockBlocked) return expectFails(r, c, 'snapshot', lockBlocked ? 'ERR_LOCK_UNREADABLE' : undefined);
    // The parent's unreadable trees are warnings (the files below are read again); data blobs are
    // deduplicated against the index without reading packs, as restic does: check finds those.
    expectOk(r, 'snapshot');
    if (affected(c, P.latest).trees.size > 0) expectNames(r, c, 'snapshot (parent trees)');
    expect(jsonLines(r.out).at(-1)).toMatchObject({ message_type: 'summary', snapshot_id: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  for (const args of [['forget', '--keep-last', '1', '--prune'], ['prune']]) {
    it(`${args.join(' ')}: refuses or stops naming the damage, and leaves no new damage`, async () => {
      const repo = await c.copy();
      const r = await cmd(args, repo);
      // what the snapshots prune keeps still need (forget removes the first one)
      const kept = args[0] === 'forget' ? [P.latest] : [P.first, P.latest];
      const needed = [...c.lost].some((b) => kept.some((s) => s.trees.has(b) || s.entries.some((e) => e.blobs.includes(b))));
      if (c.unopenable || c.indexUnloadable || (kind === 'snapshot' && damage === 'flip') || damage === 'missing' && (kind === 'pack-data' || kind === 'pack-tree' || kind === 'index') || lockBlocked) {
        expectFails(r, c, args.join(' '), lockBlocked ? 'ERR_LOCK_UNREADABLE' : undefined);
      } else if (needed && r.code !== 0) {
        // A damaged blob still needed: prune refuses once it has to read it (to repack its pack)...
        expectFails(r, c, args.join(' '));
      } else {
        expectOk(r, args.join(' '));
        // ...or, when its pack needs no repacking (which blobs share a pack depends on the order
        // they were stored in, which a concurrent walk does not fix), keeps that pack as it is.
        if (needed) expect(await readFile(join(repo, c.rel)), `${args.join(' ')} kept the damaged pack`).toEqual(await readFile(join(await c.copy(), c.rel)));
      }
      if (c.unopenable) return;
      const after = await cmd(['check', '--read-data'], repo);
      expectClean(after, 'check after');
      if (before === undefined) before = await cmd(['check', '--read-data']);
      const was = checkKeys(before);
      const now = [...checkKeys(after)].filter((k) => !was.has(k) && !k.startsWith('blob-missing') && !k.startsWith('tree'));
      expect(now, `new damage after ${args.join(' ')}`).toEqual([]);
      // blobs and trees reported missing afterwards were lost before
      for (const l of jsonLines(after.err).filter((x) => x['kind'] === 'blob-missing' || x['kind'] === 'tree')) {
        expect(c.lost.has(l['blob'] as string) || c.indexUnloadable, `${args.join(' ')} lost ${String(l['message'])}`).toBe(true);
      }
    });
  }
});

/** Packs check --read-data calls broken, moved out of the repository. */
async function moveBrokenPacksOut(repo: string): Promise<string[]> {
  const r = await cairnIn(repo)(['--json', 'check', '--read-data']);
  const broken = jsonLines(r.out).at(-1)!['broken_packs'] as string[];
  for (const p of broken) await rm(join(repo, 'data', p.slice(0, 2), p), { force: true });
  return broken;
}

describe('repairs', () => {
  const cases = (kinds: Kind[]) => CASES.filter((x) => kinds.includes(x.kind));

  it.each(cases(['pack-data', 'pack-tree']))(
    '$name: broken packs moved out, repair index + repair snapshots --forget: cairn and restic check --read-data pass; unaffected files restore byte for byte',
    async ({ kind, damage, name }) => {
      const c = makeCase(kind, damage, name);
      const repo = await c.copy();
      const run = cairnIn(repo);
      const broken = await moveBrokenPacksOut(repo);
      expect(broken).toEqual([c.id]);
      // everything in the broken pack is gone now, not only the blob that was hit
      const gone: Case = { ...c, lost: new Set(P.packBlobs.get(c.id)!.map((b) => b.id)) };
      const index = await run(['--json', 'repair', 'index']);
      expectOk(index, 'repair index');
      expect(jsonLines(index.out).at(-1)).toMatchObject({ packs_removed: 1 });
      const snaps = await run(['--json', 'repair', 'snapshots', '--forget']);
      expectOk(snaps, 'repair snapshots');
      const check = await run(['check', '--read-data']);
      expect(check.code, check.err).toBe(0);
      const restic = await resticCheck(repo, ['--read-data']);
      expect(restic.code, restic.output).toBe(0);

      // The latest snapshot, repaired: files whose blobs were lost come back shorter (empty:
      // each file here is one blob), directories whose trees were lost come back empty; the
      // rest byte for byte.
      const list = JSON.parse((await run(['--json', 'snapshots'])).out) as Array<{ id: string; tags?: string[] }>;
      const latest = list.find((s) => (s.tags ?? []).includes('second'))!;
      const target = join(root, `restore-${copies++}`);
      const r = await run(['restore', latest.id, '--target', target]);
      expectOk(r, 'restore after repair');
      const lost = affected(gone, P.latest);
      const restored = await describeTree(join(target, P.src));
      for (const [p, s] of P.source) {
        const e = restored.get(p);
        if (lost.entries.has(p)) {
          if (s.type === 'file' && e !== undefined) expect(e.size, p).toBe(0);
          continue;
        }
        if (e === undefined && [...lost.entries].some((l) => p.startsWith(`${l}/`))) continue; // below an emptied directory
        expect(e, `${p} was not restored`).toBeDefined();
        if (s.type === 'file') expect(e!.sha, `${p} differs`).toBe(s.sha);
      }
    },
  );

  it.each(cases(['index']))('$name: repair index rebuilds it; cairn and restic check --read-data pass; everything restores identically', async ({ kind, damage, name }) => {
    const c = makeCase(kind, damage, name);
    const repo = await c.copy();
    const run = cairnIn(repo);
    const r = await run(['--json', 'repair', 'index']);
    expectOk(r, 'repair index');
    const summary = jsonLines(r.out).at(-1)!;
    expect(summary).toMatchObject({ invalid_index_files: damage === 'flip' ? 1 : 0, unreadable_packs: [] });
    if (damage === 'missing') expect(summary['packs_added']).toBe(P.indexPacks.get(c.id)!.size);
    const check = await run(['check', '--read-data']);
    expect(check.code, check.err).toBe(0);
    const restic = await resticCheck(repo, ['--read-data']);
    expect(restic.code, restic.output).toBe(0);
    const target = join(root, `restore-${copies++}`);
    const restore = await run(['restore', 'latest', '--target', target]);
    expectOk(restore, 'restore after repair index');
    expect(await compareTrees(P.src, join(target, P.src))).toEqual([]);
  });

  describe('snapshot flip: the intact snapshot survives', () => {
    let c: Case;
    let repo: string;
    beforeAll(async () => {
      c = makeCase('snapshot', 'flip', 'snapshot flip');
      repo = await c.copy();
    });

    // Fixed (bug 1): the others are listed, the unreadable file is a warning naming it (restic
    // 0.14: "could not load snapshot …"), and the command ends with ERR_INCOMPLETE.
    it('snapshots lists the intact snapshot and names the damaged file', async () => {
      const r = await cairnIn(repo)(['--json', 'snapshots']);
      expectClean(r, 'snapshots');
      expect(r.out, `nothing listed: ${r.err}`).not.toBe('');
      expectNames(r, c, 'snapshots');
      expect((JSON.parse(r.out) as Array<{ id: string }>).map((s) => s.id)).toEqual([P.latest.id]);
      expect(jsonLines(r.err)[0]).toMatchObject({ message_type: 'error', error: { code: 'SNAPSHOT_UNREADABLE' }, during: 'snapshots', item: `snapshots/${c.id}` });
      expect(r.code).toBe(1);
      expect(errorOf(r).code).toBe('ERR_INCOMPLETE');
    });

    // Fixed (bug 1): an ID or prefix is resolved from the file names and only that snapshot is
    // loaded, as restic 0.14 does.
    it('ls and restore of the intact snapshot by ID work', async () => {
      const ls = await cairnIn(repo)(['--json', 'ls', short(P.latest.id)]);
      expectOk(ls, 'ls ID');
      expect(ls.out).toBe(P.out.lsLatest);
      const target = join(root, `restore-${copies++}`);
      const r = await cairnIn(repo)(['--json', 'restore', short(P.latest.id), '--target', target]);
      await expectRestore(r, target, c, new Set(), 'restore ID');
    });

    it('repair snapshots skips it with an error line naming it; check says to delete it; once deleted, check passes', async () => {
      const copy = await c.copy();
      const run = cairnIn(copy);
      const r = await run(['--json', 'repair', 'snapshots']);
      expectOk(r, 'repair snapshots');
      expectNames(r, c, 'repair snapshots');
      expect(jsonLines(r.out).at(-1)).toMatchObject({ modified: 0, unreadable: [c.id] });
      const check = await run(['--json', 'check']);
      expect(check.code).toBe(1);
      const advice = errorOf(check);
      expect(advice.code).toBe('ERR_CHECK_FAILED');
      expect(advice.message).toMatch(new RegExp(`to repair: delete the snapshot file that cannot be loaded \\(snapshots/${c.id}\\) by hand`));
      expect(advice.message).not.toMatch(/run `cairn repair/);
      await rm(join(copy, c.rel));
      expectOk(await run(['check', '--read-data']), 'check after deleting it');
    });
  });

  describe.each(cases(['key', 'config']))('$name: the repository cannot be opened, and the error says why', ({ kind, damage, name }) => {
    let c: Case;
    let r: Result;
    beforeAll(async () => {
      c = makeCase(kind, damage, name);
      r = await cairnIn(await c.copy())(['--json', 'snapshots']);
    });

    // A damaged config or key names the file, says the repository cannot be opened and that only
    // another copy of the file helps (restic 0.14: "config or key <id> is damaged").
    const test = it;
    test('names the file, says it cannot be opened, claims no data loss and sends nowhere useless', () => {
      expectFails(r, c, 'open', kind === 'config' && damage === 'missing' ? 'ERR_REPO_NOT_FOUND' : undefined);
      const m = errorOf(r).message;
      if (!(kind === 'config' && damage === 'missing')) expect(m).toMatch(/cannot be opened/);
      expect(m).not.toMatch(/cairn check|lost|damaged files/);
    });
  });

  // A key file that does not load does not stop the search (restic 0.14 skips a key whose MAC
  // fails): the other keys' passwords still open the repository, with a warning naming it.
  it('key flip, with a second key: the other key still opens the repository (with a warning naming the damaged one)', async () => {
    const repo = join(root, `copy-${copies++}`);
    await cp(P.repo, repo, { recursive: true });
    // a second key for the same password, then damage whichever key the local backend lists
    // first (readdir order, which differs between file systems): the search skips it and the
    // other key opens the repository
    const r0 = await openRepository(repo, { password: PASSWORD });
    try {
      await r0.addKey(PASSWORD, { N: 1024, r: 8, p: 1 });
    } finally {
      await r0.close();
    }
    const keys = await readdir(join(repo, 'keys'));
    expect(keys).toHaveLength(2);
    const damaged = keys[0]!;
    await flipByte(join(repo, 'keys', damaged), 50);
    expect((await readdir(join(repo, 'keys')))[0]).toBe(damaged); // a write in place keeps the order
    const r = await cairnIn(repo)(['--json', 'snapshots']);
    expectOk(r, 'snapshots');
    expect(r.out).toBe(P.out.snapshots);
    expect(r.err).toContain(short(damaged));
  });

  // Fixed (src/repository/lock.ts, checkConflicts): an unreadable lock file used to be skipped
  // without a word, even by prune's exclusive lock (as restic 0.14 does). Now, as in restic ≥ 0.15
  // ("if a lock file is not readable restic will not allow starting a command"; empty lock files
  // are ignored since 0.15.1), every lock is refused with ERR_LOCK_UNREADABLE naming the file, and
  // `unlock --remove-all` removes it.
  it('lock flip: prune refuses or at least warns, naming the unreadable lock', async () => {
    const c = makeCase('lock', 'flip', 'lock flip');
    const repo = await c.copy();
    const r = await cairnIn(repo)(['--json', 'prune']);
    expectFails(r, c, 'prune', 'ERR_LOCK_UNREADABLE');
    expect(errorOf(r).message).toContain(`damaged lock file locks/${c.id}`);
    expect(errorOf(r).message).toContain('cairn unlock --remove-all');
    expect(await readdir(join(repo, 'locks'))).toEqual([c.id]); // nothing of prune's left behind
  });

  it('lock flip: unlock --remove-all removes the unreadable lock; lock missing: the first locking command recreates locks/', async () => {
    const flip = makeCase('lock', 'flip', 'lock flip');
    const a = await flip.copy();
    expectOk(await cairnIn(a)(['unlock', '--remove-all']), 'unlock --remove-all');
    expect(await readdir(join(a, 'locks'))).toEqual([]);
    const gone = makeCase('lock', 'missing', 'lock missing');
    const b = await gone.copy();
    expectOk(await cairnIn(b)(['--json', 'snapshot', P.src]), 'snapshot');
    expect(await readdir(join(b, 'locks'))).toEqual([]);
    expect((await resticCheck(b)).code).toBe(0);
  });
});
