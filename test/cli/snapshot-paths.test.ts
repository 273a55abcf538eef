/**
 * Paths given to `snapshot` that are not there: restic 0.14 skips each with a warning and fails
 * only when none is left. cairn does the same, but exits 3 (the snapshot lacks something asked
 * for), and records only the paths it backed up, so that the next run with the same arguments
 * finds its parent.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from './helpers.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };

describe('snapshot of paths that are missing', () => {
  let root: string;
  let repo: string;
  const run = (args: string[]) => cairn(['-r', repo, ...args], { env: ENV, cwd: root });
  const snapshots = async (): Promise<Array<{ id: string; paths: string[]; parent?: string }>> => JSON.parse((await run(['snapshots', '--json'])).out) as Array<{ id: string; paths: string[]; parent?: string }>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-paths-'));
    repo = join(root, 'repo');
    await mkdir(join(root, 'here'));
    await writeFile(join(root, 'here', 'f.txt'), 'present');
    expect((await run(['repo', 'init'])).code).toBe(0);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('skips a missing path with a warning, saves the rest, exits 3, and records only what it saved', async () => {
    const r = await run(['snapshot', 'here', 'gone', '--json']);
    expect(r.code, r.err).toBe(3);
    const warnings = r.err.trim().split('\n').map((l) => JSON.parse(l) as { message_type: string; item?: string; error?: { message: string } });
    expect(warnings.find((w) => w.item === join(root, 'gone'))?.error?.message).toMatch(/ENOENT|no such file/);
    const [s] = await snapshots();
    expect(s?.paths).toEqual([join(root, 'here')]);
    expect((await run(['ls', 'latest'])).out).toContain('/here/f.txt');
  });

  it('the same arguments again find that snapshot as parent', async () => {
    const before = await snapshots();
    const r = await run(['snapshot', 'here', 'gone', '--json']);
    expect(r.code).toBe(3);
    const summary = JSON.parse(r.out.trim().split('\n').pop()!) as { files_unmodified: number; snapshot_id: string };
    expect(summary.files_unmodified).toBe(1);
    const after = await snapshots();
    expect(after.find((s) => s.id === summary.snapshot_id)?.parent).toBe(before[before.length - 1]!.id);
  });

  it('fails when no path is left, saving nothing and leaving no lock', async () => {
    const count = (await snapshots()).length;
    const r = await run(['snapshot', 'gone', 'also-gone']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nothing to back up/);
    expect(r.err).toContain(join(root, 'also-gone'));
    expect(await snapshots()).toHaveLength(count);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
  });
});
