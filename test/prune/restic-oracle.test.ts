/**
 * restic 0.14 as the oracle for prune's decisions: on restic's fixture repositories (v1, and
 * upgraded to v2) and on cairn-made ones (partly used packs, duplicates, many small packs,
 * unreferenced packs, missing unneeded packs), cairn's plan has the same statistics as
 * `restic prune --dry-run -v` prints — blob counts, sizes (in restic's rounding), pack counts —
 * and picks the same packs to repack and to delete.
 */
import { mkdir, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashId, initRepository, openRepository, parseMaxUnused, planPrune, snapshotStream, takeStdinSnapshot, type PruneOptions } from '../../src/index.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { runRestic } from '../helpers/restic.js';
import { cairn } from '../cli/helpers.js';
import { CHEAP_KDF, concat, ENV, makeSnapshots, PASSWORD, random, removeSnapshots, resticCheck, tar, withIndex } from './helpers.js';

const FIXTURE_PASSWORD = 'geheim';

/** restic 0.14's formatBytes. */
function resticBytes(c: number): string {
  const units: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [u, name] of units) if (c > u) return `${(c / u).toFixed(3)} ${name}`;
  return `${c} B`;
}

interface ResticPlan {
  readonly lines: Record<string, string>;
  readonly repack: string[];
  readonly remove: string[];
  readonly unreferenced: string[];
}

function parseResticPrune(out: string): ResticPlan {
  const lines: Record<string, string> = {};
  for (const raw of out.split('\n')) {
    const l = raw.trim();
    let m = /^(used|duplicates|unused|total|to repack|this removes|to delete|total prune|remaining):\s+(\d+) blobs \/ (.+)$/.exec(l);
    if (m) {
      lines[`${m[1]} blobs`] = `${m[2]} / ${m[3]}`;
      continue;
    }
    m = /^unreferenced:\s+(.+)$/.exec(l);
    if (m) lines['unreferenced'] = m[1]!;
    m = /^unused size after prune: (.+) \(/.exec(l);
    if (m) lines['unused after'] = m[1]!;
    m = /^(totally used packs|partly used packs|unused packs):\s+(\d+)$/.exec(l);
    if (m) lines[m[1]!] = m[2]!;
    m = /^(to keep|to repack|to delete):\s+(\d+) (packs|unreferenced packs)$/.exec(l);
    if (m) lines[`${m[1]} ${m[3]}`] = m[2]!;
  }
  const set = (title: string): string[] => {
    const m = new RegExp(`${title}:\\n\\{([^}]*)\\}`).exec(out);
    return m === null ? [] : m[1]!.split(' ').filter((x) => x !== '').sort();
  };
  return {
    lines,
    repack: set('Would have repacked and removed the following packs'),
    remove: set('Would have removed the following no longer used packs'),
    unreferenced: set('Would have removed the following unreferenced packs'),
  };
}

/** cairn's plan in restic's words. */
async function cairnPlan(dir: string, password: string, options: PruneOptions): Promise<ResticPlan> {
  const repo = await openRepository(dir, { password });
  try {
    const plan = await planPrune(repo, options);
    const s = plan.stats;
    const lines: Record<string, string> = {
      'used blobs': `${s.usedBlobs} / ${resticBytes(s.usedSize)}`,
      'unused blobs': `${s.unusedBlobs} / ${resticBytes(s.unusedSize)}`,
      'total blobs': `${s.totalBlobs} / ${resticBytes(s.totalSize)}`,
      'to repack blobs': `${s.repackBlobs} / ${resticBytes(s.repackSize)}`,
      'this removes blobs': `${s.repackRemovesBlobs} / ${resticBytes(s.repackRemovesSize)}`,
      'to delete blobs': `${s.deleteBlobs} / ${resticBytes(s.deleteSize + s.unreferencedSize)}`,
      'total prune blobs': `${s.pruneBlobs} / ${resticBytes(s.pruneSize)}`,
      'remaining blobs': `${s.remainingBlobs} / ${resticBytes(s.remainingSize)}`,
      'unused after': resticBytes(s.unusedSizeAfter),
      'totally used packs': String(s.packsUsed),
      'partly used packs': String(s.packsPartlyUsed),
      'unused packs': String(s.packsUnused),
      'to keep packs': String(s.packsKeep),
      'to repack packs': String(s.packsRepack),
      'to delete packs': String(s.packsDelete),
    };
    if (s.duplicateBlobs > 0) lines['duplicates blobs'] = `${s.duplicateBlobs} / ${resticBytes(s.duplicateSize)}`;
    if (s.unreferencedSize > 0) lines['unreferenced'] = resticBytes(s.unreferencedSize);
    if (s.packsUnreferenced > 0) lines['to delete unreferenced packs'] = String(s.packsUnreferenced);
    const short = (ids: readonly string[]): string[] => ids.map((i) => i.slice(0, 8)).sort();
    return { lines, repack: short(plan.repackPacks), remove: short(plan.removePacks), unreferenced: short(plan.unreferencedPacks) };
  } finally {
    await repo.close();
  }
}

/** Flags for restic and the same options for cairn. */
interface Case {
  readonly flags: readonly string[];
}

function optionsOf(flags: readonly string[]): PruneOptions {
  const o: { maxUnused?: ReturnType<typeof parseMaxUnused>; repackUncompressed?: boolean; maxRepackBytes?: number } = {};
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === '--max-unused') o.maxUnused = parseMaxUnused(flags[++i]!);
    else if (flags[i] === '--repack-uncompressed') o.repackUncompressed = true;
    else if (flags[i] === '--max-repack-size') o.maxRepackBytes = Number(flags[++i]);
  }
  return o;
}

async function expectSamePlan(dir: string, password: string, c: Case): Promise<ResticPlan> {
  const r = await runRestic(['--repo', dir, '--no-cache', 'prune', '--dry-run', '-v', ...c.flags], password);
  const theirs = parseResticPrune(r.text() + r.stderr);
  expect(Object.keys(theirs.lines).length, r.text()).toBeGreaterThan(10);
  const ours = await cairnPlan(dir, password, optionsOf(c.flags));
  const what = `restic prune --dry-run -v ${c.flags.join(' ')} on ${dir}:\n${r.text()}`;
  if (theirs.lines['duplicates blobs'] !== undefined) {
    // Which copy of a duplicate stays depends on the order restic walks its index (Go map order,
    // different from run to run): only the numbers must agree.
    expect(ours.lines, what).toEqual(theirs.lines);
    expect([ours.repack.length, ours.remove.length, ours.unreferenced], what).toEqual([theirs.repack.length, theirs.remove.length, theirs.unreferenced]);
  } else {
    expect(ours, what).toEqual(theirs);
  }
  return theirs;
}

describe('prune plans match restic 0.14', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-prune-oracle-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function fixture(name: string): Promise<string> {
    const into = join(root, `${name}-${Math.random().toString(36).slice(2)}`);
    await mkdir(into);
    tar(['xzf', join(FIXTURES_DIR, 'restic', `${name}.tar.gz`), '-C', into]);
    return join(into, 'repo');
  }

  it.each(['small-repo', 'repo-duplicates', 'repo-mixed', 'copy-unstable-json', 'repo-restore-permissions-test', 'repo-same-timestamps'])(
    'restic fixture %s: as is (v1), then upgraded to v2, with and without --repack-uncompressed',
    async (name) => {
      const dir = await fixture(name);
      await expectSamePlan(dir, FIXTURE_PASSWORD, { flags: [] });
      await expectSamePlan(dir, FIXTURE_PASSWORD, { flags: ['--max-unused', '0'] });
      await runRestic(['--repo', dir, '--no-cache', 'migrate', 'upgrade_repo_v2'], FIXTURE_PASSWORD);
      await expectSamePlan(dir, FIXTURE_PASSWORD, { flags: [] });
      await expectSamePlan(dir, FIXTURE_PASSWORD, { flags: ['--repack-uncompressed'] });
    },
  );

  it('cairn-made: a half-used pack under each --max-unused, and a repack size limit', async () => {
    const dir = join(root, 'half');
    const a = random(6, 11);
    const { ids } = await makeSnapshots(join(root, 'half-src'), dir, [
      { name: 'a', data: a },
      { name: 'b', data: random(3, 12) },
      { name: 'c', data: concat(a.subarray(0, 3 << 20), random(2, 13)) },
    ]);
    await removeSnapshots(dir, [ids[0]!]);
    for (const flags of [[], ['--max-unused', '0'], ['--max-unused', 'unlimited'], ['--max-unused', '50%'], ['--max-unused', '1M'], ['--max-unused', '20M'], ['--max-repack-size', '1000']]) {
      const theirs = await expectSamePlan(dir, PASSWORD, { flags });
      if (flags.length === 0) expect(theirs.repack.length).toBe(1);
    }
  });

  it('cairn-made: duplicates, unreferenced packs, a missing unneeded pack, and many small packs', async () => {
    const dir = join(root, 'small');
    const repo = await initRepository(dir, { password: PASSWORD, kdf: CHEAP_KDF });
    try {
      for (let i = 0; i < 14; i++) await snapshotStream(repo, { filename: `f${i}`, source: [random(0.1, 100 + i)] });
    } finally {
      await repo.close();
    }
    // 14 small data packs and 14 small tree packs, all used: restic repacks small packs once there are 10.
    expect((await expectSamePlan(dir, PASSWORD, { flags: [] })).repack.length).toBe(28);

    // Duplicates: the same blobs saved again by a second repository object that did not load the index.
    const again = await openRepository(dir, { password: PASSWORD });
    try {
      await takeStdinSnapshot(again, { filename: 'f0', source: [random(0.1, 100)] }); // index not loaded: no deduplication
    } finally {
      await again.close();
    }
    expect((await expectSamePlan(dir, PASSWORD, { flags: [] })).lines['duplicates blobs']).toMatch(/^[1-9]/);

    const snaps = (await readdir(join(dir, 'snapshots'))).sort();
    await removeSnapshots(dir, snaps.slice(0, 3));
    // An unreferenced pack: written, but no index names it (as after a crash between pack and index).
    const orphan = await openRepository(dir, { password: PASSWORD });
    try {
      const writer = orphan.createPackWriter();
      const plain = random(0.05, 999);
      await writer.add(orphan.sealBlob('data', hashId(plain), plain));
      expect((await writer.finish()).length).toBe(1);
    } finally {
      await orphan.close();
    }
    expect((await expectSamePlan(dir, PASSWORD, { flags: [] })).unreferenced.length).toBe(1);

    // A pack the index names, missing, holding nothing needed: dropped from the index.
    // (One without duplicates: restic assigns duplicates in Go map order and might need this copy.)
    const unusedPack = await withIndex(dir, async (r) => {
      const plan = await planPrune(r, {});
      const entries = [...r.index.entries()];
      return plan.removePacks.find((p) => entries.every((e) => e.entry.pack !== p || r.index.lookup(e.id, e.entry.type).length === 1))!;
    });
    await unlink(join(dir, 'data', unusedPack.slice(0, 2), unusedPack));
    await expectSamePlan(dir, PASSWORD, { flags: [] });

    // The real run: the missing pack is reported and dropped from the index; restic is content.
    const run = await cairn(['-r', dir, 'prune'], { env: ENV });
    expect(run.code, run.err).toBe(0);
    expect(run.err).toContain(`warning: pack ${unusedPack} is in the index but missing from storage`);
    await resticCheck(dir, true);
    expect((await expectSamePlan(dir, PASSWORD, { flags: [] })).lines['to repack packs']).toBe('0');
  });
});
