/**
 * Extended attributes across snapshots. With a parent tree the directory scan no longer asks
 * every entry for its attribute list: an entry whose inode and ctime are the parent's keeps the
 * parent's attributes (setting or removing one moves the ctime), any other has them read. A
 * snapshot must still record what is on disk: unchanged attributes carried over, changed or new
 * ones read again, for files and directories alike.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setXattr } from '../../src/fs/native.js';
import { cairn } from '../cli/helpers.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };

interface TreeNode {
  name: string;
  type: string;
  subtree?: string;
  extended_attributes?: Array<{ name: string; value: string }>;
}

describe('extended attributes in incremental snapshots', () => {
  let root: string;
  const repo = (): string => join(root, 'repo');
  const src = (...p: string[]): string => join(root, 'src', ...p);
  const set = (path: string, name: string, value: string): void => setXattr(Buffer.from(path), Buffer.from(name), Buffer.from(value));

  async function blob(id: string): Promise<{ nodes: TreeNode[] }> {
    const r = await cairn(['-r', repo(), 'cat', 'blob', id], { env: ENV });
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as { nodes: TreeNode[] };
  }

  /** Snapshots src, checks it succeeded, and returns its root tree ID. */
  async function snapshot(): Promise<string> {
    const r = await cairn(['-r', repo(), 'snapshot', 'src', '--json'], { env: ENV, cwd: root });
    expect(r.code, r.err).toBe(0);
    const id = (JSON.parse(r.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id;
    const snap = JSON.parse((await cairn(['-r', repo(), 'cat', 'snapshot', id], { env: ENV })).out) as { tree: string };
    return snap.tree;
  }

  /** name → "attr=value,…" of every entry under src/, as the snapshot with root `tree` records them. */
  async function recorded(tree: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const visit = async (id: string, prefix: string): Promise<void> => {
      for (const n of (await blob(id)).nodes) {
        const path = `${prefix}${n.name}`;
        if (prefix !== '') out[path] = (n.extended_attributes ?? []).map((x) => `${x.name}=${Buffer.from(x.value, 'base64').toString()}`).join(',');
        if (n.type === 'dir') await visit(n.subtree!, `${path}/`);
      }
    };
    await visit(tree, '');
    return out;
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-xattr-'));
    await mkdir(src('d'), { recursive: true });
    await mkdir(src('e'));
    await writeFile(src('d', 'f'), 'f');
    await writeFile(src('d', 'g'), 'g');
    await writeFile(src('h'), 'h');
    set(src('d', 'f'), 'user.k', 'v1');
    set(src('e'), 'user.dir', '1');
    const init = await cairn(['-r', repo(), 'repo', 'init'], { env: ENV });
    expect(init.code, init.err).toBe(0);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('carries unchanged attributes over and reads changed or new ones again', async () => {
    const first = await snapshot();
    const before = { 'src/d': '', 'src/d/f': 'user.k=v1', 'src/d/g': '', 'src/e': 'user.dir=1', 'src/h': '' };
    expect(await recorded(first)).toEqual(before);

    // Nothing changed: the same trees, attributes taken from the parent.
    expect(await snapshot()).toBe(first);

    // A changed value, a new attribute on a file that had none, a directory's changed value.
    set(src('d', 'f'), 'user.k', 'v2');
    set(src('d', 'g'), 'user.new', 'n');
    set(src('e'), 'user.dir', '2');
    const third = await snapshot();
    expect(third).not.toBe(first);
    expect(await recorded(third)).toEqual({ ...before, 'src/d/f': 'user.k=v2', 'src/d/g': 'user.new=n', 'src/e': 'user.dir=2' });

    // And unchanged again after that.
    expect(await snapshot()).toBe(third);
  });
});
