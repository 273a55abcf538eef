/**
 * `cairn copy` (restic 0.14's copy): cairn → cairn (the copy restores identical files, `original`
 * names the source snapshot, a second run skips everything and stores nothing, data shared by two
 * snapshots is copied once), cairn → a restic-made repository (restic check --read-data and
 * restic restore agree), restic-made → cairn (a backup made by restic in the test, and the v1
 * fixture repository), the source password from CAIRN_FROM_PASSWORD, RESTIC_FROM_PASSWORD and
 * --from-password-file, a wrong source password (exit 12, naming the source repository), the
 * missing source, filters and snapshot arguments, and --json.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend, Repository } from '../../src/index.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { jsonLines as parseLines } from '../helpers/json.js';
import { ResticRepo, runRestic } from '../helpers/restic.js';
import { tempDir } from '../helpers/tmp.js';
import { cairn } from './helpers.js';

const KDF = '1024:8:1';
const SRC_PW = 'source secret pw';
const DST_PW = 'target secret pw';

interface CopyLine {
  message_type: string;
  source?: string;
  target?: string;
  skipped?: boolean;
  blobs_copied?: number;
  bytes_copied?: number;
  bytes_stored?: number;
  snapshots_copied?: number;
  snapshots_skipped?: number;
}

/** The JSON lines of copy's output. */
function jsonLines<T = CopyLine>(text: string): T[] {
  return parseLines(text) as unknown as T[];
}

/** Every regular file under `dir`: relative path → content (hex), plus directories as "dir". */
async function listing(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[relative(dir, p)] = 'dir';
        await walk(p);
      } else if (e.isFile()) out[relative(dir, p)] = (await readFile(p)).toString('hex');
    }
  };
  await walk(dir);
  return out;
}

/** Files of the repository's data, index and snapshots (not the audit log a copy appends to). */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const sub of ['data', 'index', 'snapshots']) {
    for (const e of await readdir(join(dir, sub), { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  }
  return n;
}

async function indexSize(repo: string, password: string): Promise<number> {
  const r = await Repository.open(new LocalBackend(repo), password);
  try {
    await r.loadIndex();
    return r.index.size;
  } finally {
    await r.close();
  }
}

async function writeTree(root: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, content);
  }
}

describe('cairn copy', () => {
  const root = tempDir('cairn-copy-');
  const src = join(root, 'src');
  const source = join(root, 'source');
  const env = { CAIRN_PASSWORD: DST_PW, CAIRN_FROM_PASSWORD: SRC_PW, CAIRN_KDF: KDF };
  const run = (args: string[], e: Record<string, string> = env): ReturnType<typeof cairn> => cairn(args, { env: e, cwd: root });
  const newTarget = async (name: string): Promise<string> => {
    const dir = join(root, name);
    const r = await run(['-r', dir, 'repo', 'init']);
    expect(r.code, r.err).toBe(0);
    return dir;
  };
  let snapA: string;
  let snapB: string;
  let snapC: string;
  /** src as snapshot B saw it. */
  let filesB: Record<string, string>;

  const snapshot = async (args: string[]): Promise<string> => {
    const r = await run(['-r', source, 'snapshot', '--json', ...args, 'src'], { CAIRN_PASSWORD: SRC_PW, CAIRN_KDF: KDF });
    expect(r.code, r.err).toBe(0);
    return (JSON.parse(r.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id;
  };

  beforeAll(async () => {
    expect((await run(['-r', source, 'repo', 'init'], { CAIRN_PASSWORD: SRC_PW, CAIRN_KDF: KDF })).code).toBe(0);
    // A: two large files (several chunks each) and small ones; B: A plus a new file; C: another host.
    await writeTree(src, {
      'big1.bin': randomBytes(3 << 20),
      'big2.bin': randomBytes(2 << 20),
      'small/a.txt': 'alpha',
      'small/b.txt': 'bravo',
      'same/x.txt': 'same in both',
    });
    snapA = await snapshot(['--host', 'h1', '--tag', 'first']);
    await writeTree(src, { 'new/c.bin': randomBytes(1 << 20), 'small/a.txt': 'alpha changed' });
    snapB = await snapshot(['--host', 'h1']);
    filesB = await listing(src);
    await writeTree(src, { 'only-c.txt': 'on the other host' });
    snapC = await snapshot(['--host', 'h2']);
  }, 120_000);

  it('copies every snapshot: restores identical, records `original`, shared data stored once; a second run copies nothing', async () => {
    const target = await newTarget('t-all');
    const r = await run(['-r', target, 'copy', '--from-repo', source]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`snapshot ${snapA.slice(0, 8)} of [${src}] at `);
    expect(r.out).toContain('  copy started, this may take a while...');
    expect(r.out).toMatch(/copied 3 snapshots \(\d+ blobs, .*\), skipped 0 already copied/);
    expect(r.out + r.err).not.toContain(SRC_PW);
    expect(r.out + r.err).not.toContain(DST_PW);

    // Each blob of the source exactly once in the target (A, B and C share most of their data).
    expect(await indexSize(target, DST_PW)).toBe(await indexSize(source, SRC_PW));

    const snaps = JSON.parse((await run(['-r', target, 'snapshots', '--json'])).out) as { id: string; original?: string; hostname: string; tree: string; tags?: string[]; parent?: string }[];
    expect(snaps.map((s) => s.original).sort()).toEqual([snapA, snapB, snapC].sort());
    const srcSnaps = JSON.parse((await run(['-r', source, 'snapshots', '--json'], { CAIRN_PASSWORD: SRC_PW })).out) as { id: string; tree: string; tags?: string[] }[];
    for (const s of snaps) {
      const orig = srcSnaps.find((x) => x.id === s.original)!;
      expect(s.tree).toBe(orig.tree);
      expect(s.tags).toEqual(orig.tags);
      expect(s.parent).toBeUndefined();
    }

    const copyOfB = snaps.find((s) => s.original === snapB)!;
    const out = join(root, 'restore-all');
    const rr = await run(['-r', target, 'restore', copyOfB.id, '--target', out]);
    expect(rr.code, rr.err).toBe(0);
    expect(await listing(join(out, 'src'))).toEqual(filesB);
    expect((await run(['-r', target, 'check', '--read-data'])).code).toBe(0);

    // Again: everything is skipped, no pack, index or snapshot is written.
    const before = await countFiles(target);
    const again = await run(['--json', '-r', target, 'copy', '--from-repo', source]);
    expect(again.code, again.err).toBe(0);
    const lines = jsonLines<CopyLine>(again.out);
    const copies = lines.filter((l) => l.message_type === 'copy');
    expect(copies).toHaveLength(3);
    for (const c of copies) {
      expect(c.skipped).toBe(true);
      expect(c.blobs_copied).toBe(0);
      expect(c.target).toBe(snaps.find((s) => s.original === c.source)!.id);
    }
    expect(lines.at(-1)).toMatchObject({ message_type: 'summary', snapshots_copied: 0, snapshots_skipped: 3, blobs_copied: 0, bytes_copied: 0 });
    expect(await countFiles(target)).toBe(before);

    const text = await run(['-r', target, 'copy', '--from-repo', source, snapA.slice(0, 8)]);
    expect(text.out).toContain(`skipping source snapshot ${snapA.slice(0, 8)}, was already copied to snapshot `);
  }, 120_000);

  it('--json: one line per snapshot; a snapshot sharing data with one copied before copies only its new blobs', async () => {
    const target = await newTarget('t-json');
    const first = await run(['--json', '-r', target, 'copy', '--from-repo', source, snapA]);
    expect(first.code, first.err).toBe(0);
    const [a, sumA] = jsonLines<CopyLine>(first.out);
    expect(a).toMatchObject({ message_type: 'copy', source: snapA, skipped: false });
    expect(a!.blobs_copied).toBeGreaterThan(4);
    expect(a!.bytes_copied).toBeGreaterThan(5 << 20);
    expect(sumA).toMatchObject({ message_type: 'summary', snapshots_copied: 1, snapshots_skipped: 0, blobs_copied: a!.blobs_copied });

    const second = await run(['--json', '-r', target, 'copy', '--from-repo', source, snapB]);
    expect(second.code, second.err).toBe(0);
    const [b] = jsonLines<CopyLine>(second.out);
    // B adds new/c.bin (1 MiB), the changed small/a.txt, and the trees above them: not the big files again.
    expect(b!.skipped).toBe(false);
    expect(b!.bytes_copied).toBeLessThan((1 << 20) + 64 * 1024);
    expect(b!.bytes_copied).toBeGreaterThanOrEqual(1 << 20);
    expect(await indexSize(target, DST_PW)).toBe(a!.blobs_copied! + b!.blobs_copied!);
  }, 60_000);

  it('filters: --host, --tag, --path select the source snapshots (and `latest` with --host)', async () => {
    const target = await newTarget('t-filter');
    const byHost = jsonLines<CopyLine>((await run(['--json', '-r', target, 'copy', '--from-repo', source, '--host', 'h2'])).out);
    expect(byHost.filter((l) => l.message_type === 'copy').map((l) => l.source)).toEqual([snapC]);
    const byTag = jsonLines<CopyLine>((await run(['--json', '-r', target, 'copy', '--from-repo', source, '--tag', 'first'])).out);
    expect(byTag.filter((l) => l.message_type === 'copy').map((l) => l.source)).toEqual([snapA]);
    const none = await run(['-r', target, 'copy', '--from-repo', source, '--path', '/nowhere']);
    expect(none.code, none.err).toBe(0);
    expect(none.out).toBe('no snapshots to copy\n');
    const latest = jsonLines<CopyLine>((await run(['--json', '-r', target, 'copy', '--from-repo', source, '--host', 'h1', 'latest'])).out);
    expect(latest.filter((l) => l.message_type === 'copy').map((l) => [l.source, l.skipped])).toEqual([[snapB, false]]);
    const missing = await run(['--json', '-r', target, 'copy', '--from-repo', source, 'ffffffff']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.err)).toMatchObject({ code: 'ERR_SNAPSHOT_NOT_FOUND' });
  }, 60_000);

  it('the source password: --from-password-file, RESTIC_FROM_PASSWORD, CAIRN_FROM_PASSWORD_COMMAND; never the main password', async () => {
    const target = await newTarget('t-pw');
    const pwFile = join(root, 'from-pw.txt');
    await writeFile(pwFile, `${SRC_PW}\n`);
    const base = { CAIRN_PASSWORD: DST_PW, CAIRN_KDF: KDF };
    const viaFile = await run(['-r', target, 'copy', '--from-repo', source, '--from-password-file', 'from-pw.txt', snapA], base);
    expect(viaFile.code, viaFile.err).toBe(0);
    const viaRestic = await run(['--json', '-r', target, 'copy', '--from-repo', source, snapA], { ...base, RESTIC_FROM_PASSWORD: SRC_PW });
    expect(viaRestic.code, viaRestic.err).toBe(0);
    expect(jsonLines<CopyLine>(viaRestic.out)[0]).toMatchObject({ skipped: true });
    const viaCommand = await run(['-r', target, 'copy', '--from-repo', source, snapA], { ...base, CAIRN_FROM_PASSWORD_COMMAND: `cat ${pwFile}` });
    expect(viaCommand.code, viaCommand.err).toBe(0);
    // CAIRN_FROM_REPOSITORY names the source.
    const viaEnvRepo = await run(['-r', target, 'copy', snapA], { ...env, CAIRN_FROM_REPOSITORY: source });
    expect(viaEnvRepo.code, viaEnvRepo.err).toBe(0);

    // On a terminal both are asked for, the source's first (restic's order).
    const asked: string[] = [];
    const prompted = await cairn(['-r', target, 'copy', '--from-repo', source, snapA], {
      env: { CAIRN_KDF: KDF }, cwd: root, stdinIsTTY: true,
      prompt: async (q) => {
        asked.push(q);
        return q.includes('source') ? SRC_PW : DST_PW;
      },
    });
    expect(prompted.code, prompted.err).toBe(0);
    expect(asked).toEqual(['enter password for source repository: ', 'enter password for repository: ']);

    // No source password: the main one is not used for it.
    const none = await run(['--json', '-r', target, 'copy', '--from-repo', source], base);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.err)).toMatchObject({ code: 'ERR_NO_PASSWORD' });
    expect(JSON.parse(none.err).message).toContain('--from-password-file');
    const both = await run(['--json', '-r', target, 'copy', '--from-repo', source, '--from-password-file', pwFile, '--from-password-command', 'true'], base);
    expect(JSON.parse(both.err)).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  }, 60_000);

  it('a wrong source password is ERR_WRONG_PASSWORD (exit 12) naming the source repository; no --from-repo is ERR_NO_REPOSITORY', async () => {
    const target = await newTarget('t-wrong');
    const wrong = await run(['--json', '-r', target, 'copy', '--from-repo', source], { ...env, CAIRN_FROM_PASSWORD: 'not it' });
    expect(wrong.code).toBe(12);
    const err = JSON.parse(wrong.err) as { code: string; message: string; data: Record<string, unknown> };
    expect(err.code).toBe('ERR_WRONG_PASSWORD');
    expect(err.message).toContain('source repository (--from-repo)');
    expect(err.message).toContain(source);
    expect(err.data['repository']).toBe('source');
    expect(wrong.err).not.toContain('not it');
    expect(await readdir(join(target, 'snapshots'))).toEqual([]);

    const noRepo = await run(['--json', '-r', target, 'copy']);
    expect(noRepo.code).toBe(1);
    expect(JSON.parse(noRepo.err)).toMatchObject({ code: 'ERR_NO_REPOSITORY' });
    expect(JSON.parse(noRepo.err).message).toContain('--from-repo');

    const wrongTarget = await run(['--json', '-r', target, 'copy', '--from-repo', source], { ...env, CAIRN_PASSWORD: 'nope' });
    expect(wrongTarget.code).toBe(12);
    expect(JSON.parse(wrongTarget.err).message).not.toContain('source repository');
  }, 60_000);

  it('into a restic-made repository: restic check --read-data passes and restic restores identical files', async () => {
    const restic = await ResticRepo.create({ password: DST_PW });
    try {
      const r = await run(['--json', '-r', restic.dir, 'copy', '--from-repo', source, snapB]);
      expect(r.code, r.err).toBe(0);
      const [line] = jsonLines<CopyLine>(r.out);
      expect(line).toMatchObject({ source: snapB, skipped: false });
      await restic.run(['check', '--read-data']);
      const snaps = await restic.snapshots();
      expect(snaps).toHaveLength(1);
      expect(snaps[0]!.id).toBe(line!.target);
      expect(snaps[0]!['original']).toBe(snapB);
      const out = join(root, 'restic-restore');
      await restic.run(['restore', line!.target!, '--target', out]);
      expect(await listing(join(out, 'src'))).toEqual(filesB);
      // restic's own copy of the same source snapshot would be skipped too: cairn skips its own.
      const again = jsonLines<CopyLine>((await run(['--json', '-r', restic.dir, 'copy', '--from-repo', source, snapB])).out);
      expect(again[0]).toMatchObject({ skipped: true, target: line!.target });
    } finally {
      await restic.cleanup();
    }
  }, 120_000);

  it('from a restic-made repository into cairn: restores identical; restic-made copies are recognised', async () => {
    const restic = await ResticRepo.create({ password: SRC_PW });
    try {
      const data = join(restic.root, 'data');
      await writeTree(data, { 'r1.bin': randomBytes(1500 * 1024), 'd/r2.txt': 'restic made me' });
      const summary = await restic.backup(['data']);
      const full = (await restic.snapshots())[0]!.id!;
      expect(full.startsWith(summary.snapshot_id)).toBe(true);
      const target = await newTarget('t-from-restic');
      const r = await run(['--json', '-r', target, 'copy', '--from-repo', restic.dir]);
      expect(r.code, r.err).toBe(0);
      const [line] = jsonLines<CopyLine>(r.out);
      expect(line).toMatchObject({ source: full, skipped: false });
      const out = join(root, 'from-restic-restore');
      expect((await run(['-r', target, 'restore', line!.target!, '--target', out])).code).toBe(0);
      expect(await listing(join(out, 'data'))).toEqual(await listing(data));
      expect((await run(['-r', target, 'check', '--read-data'])).code).toBe(0);

      // restic's own copy into the cairn repository of the same snapshot is recognised as a copy.
      const target2 = await newTarget('t-restic-copied');
      await runRestic(['-r', target2, '--no-cache', 'copy', '--from-repo', restic.dir], DST_PW, { env: { RESTIC_FROM_PASSWORD: SRC_PW } });
      const viaCairn = jsonLines<CopyLine>((await run(['--json', '-r', target2, 'copy', '--from-repo', restic.dir])).out);
      expect(viaCairn[0]).toMatchObject({ source: full, skipped: true });
    } finally {
      await restic.cleanup();
    }
  }, 120_000);

  it('the v1 fixture repository (restic-made, uncompressed) as source and as target', async () => {
    const dir = tempDir('cairn-copy-fixture-');
    execFileSync('tar', ['xzf', join(FIXTURES_DIR, 'restic', 'small-repo.tar.gz'), '-C', dir]);
    const fixture = join(dir, 'repo');
    const target = await newTarget('t-from-fixture');
    const r = await run(['--json', '-r', target, 'copy', '--from-repo', fixture], { ...env, CAIRN_FROM_PASSWORD: 'geheim' });
    expect(r.code, r.err).toBe(0);
    const lines = jsonLines<CopyLine>(r.out);
    const n = lines.filter((l) => l.message_type === 'copy').length;
    expect(n).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ snapshots_copied: n });
    expect((await run(['-r', target, 'check', '--read-data'])).code).toBe(0);
    const ls = (id: string, repo: string, pw: string): Promise<string> => runRestic(['-r', repo, '--no-cache', 'ls', id], pw).then((x) => x.text().split('\n').slice(1).join('\n'));
    const first = lines[0]!;
    expect(await ls(first.target!, target, DST_PW)).toBe(await ls(first.source!, fixture, 'geheim'));

    // Into the v1 repository: blobs stored uncompressed, restic reads everything.
    const into = await run(['--json', '-r', fixture, 'copy', '--from-repo', source, snapA], { CAIRN_PASSWORD: 'geheim', CAIRN_FROM_PASSWORD: SRC_PW });
    expect(into.code, into.err).toBe(0);
    await runRestic(['-r', fixture, '--no-cache', 'check', '--read-data'], 'geheim');
  }, 120_000);
});
