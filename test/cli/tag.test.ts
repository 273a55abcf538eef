/**
 * `cairn tag` on real snapshots (test/cli/inspect-fixture.ts): --add, --remove (restic's order:
 * the last tag takes a removed one's place), --set and --set ""; each change saves the snapshot
 * under a new ID with `original` naming the first ID, removes the old file, and restic 0.14 lists
 * the result with its tags and `original` and reads its tree; unchanged snapshots are left alone;
 * filters, --json, usage errors, and the exclusive lock.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend, lockRepository, Repository } from '../../src/index.js';
import { jsonLines } from '../helpers/json.js';
import { runRestic } from '../helpers/restic.js';
import { fixtureDir, makeFixture, PASSWORD, type Fixture } from './inspect-fixture.js';

interface SnapshotJson {
  id: string;
  tree: string;
  hostname: string;
  tags?: string[];
  original?: string;
}

describe('cairn tag', () => {
  const root = fixtureDir('cairn-tag-');
  let f: Fixture;

  beforeAll(async () => {
    f = await makeFixture(root);
  });

  const files = async (): Promise<string[]> => (await readdir(join(f.repo, 'snapshots'))).sort();
  const resticSnapshots = async (): Promise<SnapshotJson[]> =>
    JSON.parse((await runRestic(['-r', f.repo, '--no-cache', 'snapshots', '--json'], PASSWORD)).text()) as SnapshotJson[];
  /** The one snapshot (per restic) whose original or ID is `first`. */
  const descendant = async (first: string): Promise<SnapshotJson> => {
    const all = (await resticSnapshots()).filter((s) => s.id === first || s.original === first);
    expect(all).toHaveLength(1);
    return all[0]!;
  };

  it('--add: a new snapshot file with the tags and `original`, the old one gone; restic lists and reads it', async () => {
    const before = await files();
    const { tree } = JSON.parse((await f.run(['cat', 'snapshot', f.a])).out) as { tree: string };
    const r = await f.run(['tag', '--add', 'keep, x', '--add', 'y', f.a.slice(0, 8)]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('modified tags on 1 snapshot\n');
    const after = await files();
    expect(after).not.toContain(f.a);
    expect(after).toHaveLength(before.length);
    const s = await descendant(f.a);
    expect(s.id).not.toBe(f.a);
    expect(s.tags).toEqual(['keep', 'x', 'y']);
    expect(s.original).toBe(f.a);
    const ls = await runRestic(['-r', f.repo, '--no-cache', 'ls', s.id], PASSWORD);
    expect(ls.text()).toContain('/src/olddir/x.txt');
    expect(s.tree).toBe(tree);
  });

  it('--remove: restic\'s order (the last tag takes the removed one\'s place); `original` stays the first ID', async () => {
    const r = await f.run(['tag', '--remove', 'x', '--tag', 'keep']);
    expect(r.code, r.err).toBe(0);
    const s = await descendant(f.a);
    expect(s.tags).toEqual(['keep', 'y']);
    expect(s.original).toBe(f.a);
  });

  it('a change that changes nothing rewrites nothing', async () => {
    const before = await files();
    const r = await f.run(['tag', '--add', 'keep', '--remove', 'absent', '--tag', 'keep']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('no snapshots were modified\n');
    expect(await files()).toEqual(before);
  });

  it('--set with --host, --json: restic\'s changed lines and summary; --set "" removes every tag', async () => {
    const r = await f.run(['tag', '--json', '--set', 'a,b', '--host', 'other']);
    expect(r.code, r.err).toBe(0);
    const [changed, summary] = jsonLines(r.out);
    expect(changed).toMatchObject({ message_type: 'changed', old_snapshot_id: f.c });
    expect(summary).toEqual({ message_type: 'summary', changed_snapshots: 1 });
    const c = await descendant(f.c);
    expect(c.id).toBe(changed!['new_snapshot_id']);
    expect(c.tags).toEqual(['a', 'b']);
    expect(c.hostname).toBe('other');

    expect((await f.run(['tag', '--set', '', c.id.slice(0, 12)])).code).toBe(0);
    const cleared = await descendant(f.c);
    expect(cleared.tags).toBeUndefined();
    expect(cleared.original).toBe(f.c);
    // Untouched: B.
    expect((await descendant(f.b)).id).toBe(f.b);
  });

  it('usage errors change nothing: no tags given, --set with --add, an unknown snapshot', async () => {
    const before = await files();
    for (const args of [['tag', f.b], ['tag', '--set', 'a', '--add', 'b', f.b], ['tag', '--add', ',', f.b]]) {
      const r = await f.run(['--json', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(JSON.parse(r.err)).toMatchObject({ code: 'ERR_USAGE' });
    }
    const missing = await f.run(['--json', 'tag', '--add', 'z', '0000000']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.err)).toMatchObject({ code: 'ERR_SNAPSHOT_NOT_FOUND' });
    expect(await files()).toEqual(before);
  });

  it('takes the exclusive lock: another process\'s lock makes it fail with exit 11, changing nothing', async () => {
    const opened = await Repository.open(new LocalBackend(f.repo), PASSWORD);
    const lock = await lockRepository(opened, { exclusive: false });
    try {
      const before = await files();
      const r = await f.run(['tag', '--add', 'locked', f.b]);
      expect(r.code, r.err).toBe(11);
      expect(await files()).toEqual(before);
    } finally {
      await lock.release();
      await opened.close();
    }
    expect((await readdir(join(f.repo, 'locks')))).toEqual([]);
  });
});
