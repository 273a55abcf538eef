/**
 * `cairn diff` on real snapshots (test/cli/inspect-fixture.ts): added, removed, modified and
 * type-changed entries with restic's markers and order; content compared by blobs, so an mtime
 * change alone is no `M` (it is `U` with --metadata); the summary's counts, blobs and bytes
 * checked against the snapshots' own trees; restic 0.14's `diff --json` as the oracle where it
 * applies (no type change: restic does not list what is inside a directory that replaced a file).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../helpers/json.js';
import { runRestic } from '../helpers/restic.js';
import { fixtureDir, makeFixture, PASSWORD, type Fixture } from './inspect-fixture.js';

interface TreeJson {
  nodes: { name: string; type: string; subtree?: string; content?: string[] | null }[];
}

describe('cairn diff', () => {
  const root = fixtureDir('cairn-diff-');
  let f: Fixture;

  beforeAll(async () => {
    f = await makeFixture(root);
  });

  /** Loads a blob's plaintext through `cairn cat blob`. */
  async function blob(id: string): Promise<string> {
    const r = await f.run(['cat', 'blob', id]);
    expect(r.code, r.err).toBe(0);
    return r.out;
  }

  /** Every tree blob (ID → plaintext length) and data blob (ID → length) a snapshot refers to. */
  async function blobsOf(snapshot: string): Promise<Map<string, number>> {
    const s = JSON.parse((await f.run(['cat', 'snapshot', snapshot])).out) as { tree: string };
    const out = new Map<string, number>();
    const walk = async (tree: string): Promise<void> => {
      const text = await blob(tree);
      out.set(`t${tree}`, Buffer.byteLength(text));
      for (const n of (JSON.parse(text) as TreeJson).nodes) {
        for (const d of n.content ?? []) out.set(`d${d}`, Buffer.byteLength(await blob(d)));
        if (n.subtree !== undefined) await walk(n.subtree);
      }
    };
    await walk(s.tree);
    return out;
  }

  it('lists added, removed, modified and type-changed entries in path order, and restic\'s summary', async () => {
    const r = await f.run(['diff', f.a.slice(0, 8), f.b.slice(0, 8)]);
    expect(r.code, r.err).toBe(0);
    const [head, changes, summary] = r.out.split('\n\n');
    expect(head).toBe(`comparing snapshot ${f.a.slice(0, 8)} to ${f.b.slice(0, 8)}:`);
    expect(changes!.split('\n')).toEqual([
      'T    /src/becomes/',
      '+    /src/becomes/inner.txt',
      '-    /src/gone.txt',
      'M    /src/mod.txt',
      '+    /src/new.txt',
      '+    /src/newdir/',
      '+    /src/newdir/n.txt',
      '-    /src/olddir/',
      '-    /src/olddir/x.txt',
      '-    /src/olddir/y.txt',
    ]);
    // touched.txt: new mtime, same content: not modified. same/: identical subtree: silent.
    const lines = summary!.trimEnd().split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'Files:           3 new,     4 removed,     1 changed',
      'Dirs:            2 new,     1 removed',
      'Others:          0 new,     0 removed',
      'Data Blobs:      4 new,     5 removed',
      'Tree Blobs:      4 new,     3 removed',
    ]);
    expect(lines[5]).toMatch(/^ {2}Added: {3}\d/);
    expect(lines[6]).toMatch(/^ {2}Removed: \d/);
  });

  it('--json: restic\'s change lines and statistics; blobs and bytes are what only one snapshot refers to', async () => {
    const r = await f.run(['diff', '--json', f.a, f.b]);
    expect(r.code, r.err).toBe(0);
    const msgs = jsonLines(r.out);
    const changes = msgs.filter((m) => m['message_type'] === 'change');
    expect(changes.map((c) => `${String(c['modifier'])} ${String(c['path'])}`)).toEqual([
      'T /src/becomes/', '+ /src/becomes/inner.txt', '- /src/gone.txt', 'M /src/mod.txt', '+ /src/new.txt',
      '+ /src/newdir/', '+ /src/newdir/n.txt', '- /src/olddir/', '- /src/olddir/x.txt', '- /src/olddir/y.txt',
    ]);
    expect(changes.find((c) => c['path'] === '/src/mod.txt')).toMatchObject({ type: 'file', size_before: 6, size_after: 17 });
    expect(changes.find((c) => c['path'] === '/src/becomes/')).toMatchObject({ type: 'dir', size_before: 14 });
    const stats = msgs.at(-1)!;
    expect(stats['message_type']).toBe('statistics');

    const before = await blobsOf(f.a);
    const after = await blobsOf(f.b);
    const side = (mine: Map<string, number>, other: Map<string, number>) => {
      const only = [...mine].filter(([k]) => !other.has(k));
      return {
        data_blobs: only.filter(([k]) => k.startsWith('d')).length,
        tree_blobs: only.filter(([k]) => k.startsWith('t')).length,
        bytes: only.reduce((s, [, n]) => s + n, 0),
      };
    };
    expect(stats).toEqual({
      message_type: 'statistics',
      source_snapshot: f.a,
      target_snapshot: f.b,
      changed_files: 1,
      added: { files: 3, dirs: 2, others: 0, ...side(after, before) },
      removed: { files: 4, dirs: 1, others: 0, ...side(before, after) },
      source_id: f.a,
      target_id: f.b,
    });
  });

  it('--metadata adds U for metadata-only changes (an mtime), TU for a type change; -l shows sizes', async () => {
    const r = await f.run(['diff', '--metadata', '-l', f.a, f.b]);
    expect(r.code, r.err).toBe(0);
    const changes = r.out.split('\n\n')[1]!.split('\n');
    expect(changes).toContain('U    /src/touched.txt (12 B)');
    expect(changes).toContain('TU   /src/becomes/ (14 B)');
    expect(changes).toContain('M    /src/mod.txt (6 B → 17 B)');
    expect(changes).toContain('U    /src/');
    expect(changes.filter((l) => l.includes('/src/same') || l.includes('keep.txt') || l.includes('link'))).toEqual([]);
  });

  it('a snapshot compared with itself: no changes, all zero', async () => {
    const r = await f.run(['diff', '--json', f.b, f.b]);
    expect(r.code, r.err).toBe(0);
    const msgs = jsonLines(r.out);
    expect(msgs).toHaveLength(1);
    const zero = { files: 0, dirs: 0, others: 0, data_blobs: 0, tree_blobs: 0, bytes: 0 };
    expect(msgs[0]).toMatchObject({ message_type: 'statistics', changed_files: 0, added: zero, removed: zero });
  });

  it('agrees with restic 0.14\'s diff --json when no entry changes type', async () => {
    const ours = jsonLines((await f.run(['diff', '--json', f.b, f.c])).out);
    const theirs = jsonLines((await runRestic(['-r', f.repo, '--no-cache', 'diff', '--json', f.b, f.c], PASSWORD)).text());
    const strip = (m: Record<string, unknown>) =>
      m['message_type'] === 'change'
        ? { message_type: m['message_type'], path: m['path'], modifier: m['modifier'] }
        : { ...m, source_id: undefined, target_id: undefined };
    expect(ours.map(strip)).toEqual(theirs.map((m) => ({ ...m, ...(m['message_type'] === 'statistics' ? { source_id: undefined, target_id: undefined } : {}) })));
    expect(ours.filter((m) => m['message_type'] === 'change').map((m) => `${String(m['modifier'])} ${String(m['path'])}`)).toEqual([
      'M /src/keep.txt', '- /src/new.txt', '+ /src/newdir/later.txt',
    ]);
  });

  it('a snapshot that does not exist: ERR_SNAPSHOT_NOT_FOUND, exit 1, nothing on stdout', async () => {
    const r = await f.run(['diff', '--json', f.a, 'abcdef12']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(JSON.parse(r.err)).toMatchObject({ message_type: 'error', code: 'ERR_SNAPSHOT_NOT_FOUND' });
  });
});
