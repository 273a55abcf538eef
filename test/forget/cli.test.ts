/**
 * `cairn forget` through the CLI on a real repository, with restic 0.14 as the oracle: a real
 * (not dry-run) forget removes exactly the snapshots it lists and `restic snapshots` agrees
 * afterwards; the decisions equal restic's dry run on the same snapshots; the text output is
 * restic's; named snapshots are removed; invalid values, a held lock and unknown IDs fail before
 * anything is removed; no lock is left behind.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockRepository, openRepository, type Repository } from '../../src/index.js';
import { hashId, type SnapshotId, type TreeId } from '../../src/model/index.js';
import type { Snapshot } from '../../src/snapshot/index.js';
import { parseTime } from '../../src/tree/index.js';
import { runRestic } from '../helpers/restic.js';
import { cairn, scratchRepository } from '../cli/helpers.js';

const PASSWORD = 'forget-cli';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };
const TREE_BYTES = new TextEncoder().encode('{"nodes":[]}\n');
const TREE = hashId(TREE_BYTES) as TreeId;

const roots: string[] = [];

/** A fresh repository with these snapshots (time, host, tags); returns its location and IDs. */
async function repoWith(list: readonly [string, string, string[]?, string[]?][]): Promise<{ location: string; ids: SnapshotId[] }> {
  const { root, repo: location } = await scratchRepository('cairn-forget-cli-', ENV);
  roots.push(root);
  const repo = await openRepository(location, { password: PASSWORD });
  try {
    await repo.saveBlob('tree', TREE, TREE_BYTES);
    await repo.flush();
    const ids: SnapshotId[] = [];
    for (const [time, hostname, tags, paths] of list) {
      const s: Snapshot = { time: parseTime(time), tree: TREE, paths: paths ?? ['/srv/data'], hostname, username: 'ann', ...(tags && tags.length > 0 ? { tags } : {}) };
      ids.push(await repo.saveSnapshot(s));
    }
    return { location, ids };
  } finally {
    await repo.close();
  }
}

function restic(location: string, args: string[]) {
  return runRestic(['--repo', location, '--no-cache', ...args], PASSWORD);
}

async function resticIds(location: string): Promise<string[]> {
  const list = JSON.parse((await restic(location, ['snapshots', '--json'])).text()) as { id: string }[];
  return list.map((s) => s.id).sort();
}

async function locks(location: string): Promise<string[]> {
  return readdir(join(location, 'locks'));
}

function errorCode(err: string): string {
  return (JSON.parse(err.trim().split('\n').pop()!) as { code: string }).code;
}

const HISTORY: [string, string, string[]?, string[]?][] = [
  ['2022-01-01T10:00:00Z', 'web', ['a']],
  ['2022-01-02T10:00:00+02:00', 'web'],
  ['2022-01-02T21:00:00-05:00', 'web', ['b', 'a']],
  ['2022-01-05T08:00:00Z', 'web'],
  ['2022-01-09T08:00:00Z', 'web', [], ['/srv/z', '/srv/data']],
  ['2022-01-03T10:00:00Z', 'db'],
  ['2022-01-04T10:00:00Z', 'db', ['a']],
];

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe('cairn forget', () => {
  it('removes exactly the snapshots it lists, as restic would decide; restic snapshots agrees', async () => {
    const { location, ids } = await repoWith(HISTORY);
    const flags = ['--keep-daily', '2', '--keep-tag', 'a,b'];
    const oracle = JSON.parse((await restic(location, ['--no-lock', 'forget', '--dry-run', '--json', ...flags])).text()) as { host: string; paths: string[]; keep: { id: string }[] | null; remove: { id: string }[] | null }[];
    const r = await cairn(['-r', location, '--json', 'forget', ...flags], { env: ENV });
    expect(r.code, r.err).toBe(0);
    const groups = JSON.parse(r.out) as typeof oracle;
    const key = (g: { host: string; paths: string[] }): string => JSON.stringify([g.host, g.paths]);
    expect([...groups].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...oracle].sort((a, b) => key(a).localeCompare(key(b))));
    const removed = groups.flatMap((g) => (g.remove ?? []).map((s) => s.id)).sort();
    const kept = groups.flatMap((g) => (g.keep ?? []).map((s) => s.id)).sort();
    expect(removed.length).toBeGreaterThan(0);
    expect([...removed, ...kept].sort()).toEqual([...ids].sort());
    expect(await resticIds(location)).toEqual(kept);
    expect(await locks(location)).toEqual([]);
  });

  it('prints restic\'s text, and a dry run removes nothing', async () => {
    const { location, ids } = await repoWith(HISTORY);
    for (const flags of [['--keep-last', '2', '--keep-tag', 'a', '--group-by', ''], ['--keep-weekly', '1', '--group-by', '', '--compact'], ['--keep-within', '3d', '--host', 'web', '--group-by', '']]) {
      const theirs = (await restic(location, ['forget', '--dry-run', ...flags])).text();
      const ours = await cairn(['-r', location, 'forget', '--dry-run', ...flags], { env: ENV });
      expect(ours.code, ours.err).toBe(0);
      expect(ours.out).toBe(theirs);
    }
    const grouped = await cairn(['-r', location, 'forget', '--dry-run', '--keep-last', '1'], { env: ENV });
    expect(grouped.out).toContain('snapshots for (host [db], paths [/srv/data]):\nkeep 1 snapshots:\n');
    expect(grouped.out).toMatch(/Would have removed the following snapshots:\n\{[0-9a-f]{8}( [0-9a-f]{8})+\}\n/);
    expect(await resticIds(location)).toEqual([...ids].sort());
    expect(await locks(location)).toEqual([]);
  });

  it('removes the snapshots named by ID, unique prefix or latest; --json prints nothing then, as restic', async () => {
    const { location, ids } = await repoWith(HISTORY);
    const latestDb = ids[6]!;
    const r = await cairn(['-r', location, '--json', 'forget', ids[0]!.slice(0, 8), ids[1]!, ids[0]!, 'latest', '--host', 'db'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('');
    expect(await resticIds(location)).toEqual(ids.filter((id) => ![ids[0], ids[1], latestDb].includes(id)).sort());
    const text = await cairn(['-r', location, 'forget', ids[2]!.slice(0, 10), '--host', 'web'], { env: ENV });
    expect(text.code, text.err).toBe(0);
    expect(text.err).toContain('ignored');
    expect(text.out).toBe(`removed 1 snapshots: {${ids[2]!.slice(0, 8)}}\n`);
    expect(await locks(location)).toEqual([]);
  });

  it('fails before removing anything on an unknown ID, an invalid value, or IDs with a policy', async () => {
    const { location, ids } = await repoWith(HISTORY.slice(0, 3));
    const cases: [string[], string][] = [
      [[ids[0]!, 'deadbeef'], 'ERR_SNAPSHOT_NOT_FOUND'],
      [['--keep-last', '-1'], 'ERR_INVALID_ARGUMENT'],
      [['--keep-daily', 'seven'], 'ERR_INVALID_ARGUMENT'],
      [['--keep-weekly', '1.5'], 'ERR_INVALID_ARGUMENT'],
      [['--keep-within', '5'], 'ERR_INVALID_ARGUMENT'],
      [['--keep-within-daily', '-1d'], 'ERR_INVALID_ARGUMENT'],
      [['--keep-within', '1w'], 'ERR_INVALID_ARGUMENT'],
      [['--keep-last', '1', '--group-by', 'host,colour'], 'ERR_INVALID_ARGUMENT'],
      [[ids[0]!, '--keep-last', '1'], 'ERR_USAGE'],
    ];
    for (const [args, code] of cases) {
      const r = await cairn(['-r', location, '--json', 'forget', ...args], { env: ENV });
      expect([r.code, errorCode(r.err)], args.join(' ')).toEqual([1, code]);
    }
    const text = await cairn(['-r', location, 'forget', '--keep-within', '2x'], { env: ENV });
    expect(text.err).toMatch(/--keep-within: "2x" is not a duration/);
    expect(await resticIds(location)).toEqual([...ids].sort());
    expect(await locks(location)).toEqual([]);
  });

  it('an empty policy removes nothing (and prints no JSON, as restic)', async () => {
    const { location, ids } = await repoWith(HISTORY.slice(0, 3));
    const text = await cairn(['-r', location, 'forget'], { env: ENV });
    expect([text.code, text.out]).toEqual([0, 'no policy was specified, no snapshots will be removed\n']);
    const json = await cairn(['-r', location, '--json', 'forget', '--keep-within', '0d'], { env: ENV });
    expect([json.code, json.out]).toEqual([0, '']);
    expect(await resticIds(location)).toEqual([...ids].sort());
  });

  it('needs an exclusive lock to remove; a dry run shares the repository', async () => {
    const { location, ids } = await repoWith(HISTORY.slice(0, 3));
    let holder: Repository | undefined = await openRepository(location, { password: PASSWORD });
    const lock = await lockRepository(holder, { exclusive: false });
    try {
      const real = await cairn(['-r', location, '--json', 'forget', '--keep-last', '1'], { env: ENV });
      expect([real.code, errorCode(real.err)]).toEqual([11, 'ERR_REPO_LOCKED']);
      const dry = await cairn(['-r', location, '--json', 'forget', '--dry-run', '--keep-last', '1'], { env: ENV });
      expect(dry.code, dry.err).toBe(0);
      expect(await resticIds(location)).toEqual([...ids].sort());
      expect(await locks(location)).toEqual([lock.id]);
    } finally {
      await lock.release();
      await holder.close();
      holder = undefined;
    }
    const after = await cairn(['-r', location, 'forget', '--keep-last', '1'], { env: ENV });
    expect(after.code, after.err).toBe(0);
    expect(await resticIds(location)).toHaveLength(1);
  });
});
