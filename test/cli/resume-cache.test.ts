/**
 * The resume journal's place in the cache directory (`<cache>/<repository ID>/resume/`) is made
 * by every snapshot; once the snapshot is saved and its journal removed, the empty directories go
 * too, so that a cache does not gather an empty pair for every repository ever written to. A
 * journal that stays (another host's or paths' interrupted run) keeps them; so does the directory
 * cache (`<cache>/<repository ID>/dirs`), unless the snapshot keeps none (--no-dir-cache).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from './helpers.js';

describe('the resume journal in the cache directory', () => {
  let root: string;
  const env = (): Record<string, string> => ({ CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1', CAIRN_CACHE_DIR: join(root, 'cache') });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-resume-cache-'));
    await mkdir(join(root, 'src'));
    await writeFile(join(root, 'src', 'f'), 'f');
    const init = await cairn(['-r', join(root, 'repo'), 'repo', 'init'], { env: env() });
    expect(init.code, init.err).toBe(0);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('leaves no empty directories once the snapshot is saved, and keeps another run\'s journal', async () => {
    const snap = async (): Promise<void> => {
      const r = await cairn(['-r', join(root, 'repo'), 'snapshot', 'src'], { env: env(), cwd: root });
      expect(r.code, r.err).toBe(0);
      expect(r.err).toBe('');
    };
    const id = (JSON.parse((await cairn(['-r', join(root, 'repo'), 'cat', 'config'], { env: env() })).out) as { id: string }).id;
    await snap();
    // The repository's directory holds the directory cache, and no empty resume directory.
    expect(await readdir(join(root, 'cache'))).toEqual([id]);
    expect(await readdir(join(root, 'cache', id))).toEqual(['dirs']);

    // Another run's journal (other paths, interrupted) stays, and so does its directory.
    const other = join(root, 'cache', id, 'resume', 'other.jsonl');
    await mkdir(join(root, 'cache', id, 'resume'), { recursive: true });
    await writeFile(other, '');
    await snap();
    expect(await readdir(join(root, 'cache', id, 'resume'))).toEqual(['other.jsonl']);
    // Without the directory cache, nothing is left but the journal.
    await rm(join(root, 'cache', id, 'resume'), { recursive: true });
    await rm(join(root, 'cache', id, 'dirs'));
    const r = await cairn(['-r', join(root, 'repo'), 'snapshot', 'src', '--no-dir-cache'], { env: env(), cwd: root });
    expect(r.code, r.err).toBe(0);
    expect(await readdir(join(root, 'cache'))).toEqual([]);
  });
});
