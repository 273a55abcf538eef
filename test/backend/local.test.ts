/**
 * The local backend: the shared conformance suite, then what only a directory can show — restic's
 * layout and modes on disk, listings that skip stray files, no temporary file left by a failed
 * save, no partial file after a SIGKILL mid-write. (local-restic.test.ts runs restic itself.)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend, PACK_PREFIXES, type Handle, type LocalFaultPoint } from '../../src/backend/index.js';
import type { FileType } from '../../src/model/index.js';
import { backendConformance, collect, expectBytes, expectCode, handleFor, listing, sha256Hex } from './conformance.js';
import { perm, walk } from './disk.js';


async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cairn-local-'));
}

backendConformance('local', async () => {
  const root = await tempRoot();
  return { backend: new LocalBackend(join(root, 'repo')), cleanup: () => rm(root, { recursive: true, force: true }) };
});

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('local backend on disk', () => {
  let root: string;
  beforeEach(async () => {
    root = await tempRoot();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("create() makes restic's layout: keys, index, snapshots, locks, data/00…ff, all 0700, missing parents too", async () => {
    const dir = join(root, 'a', 'b', 'repo');
    const b = new LocalBackend(dir);
    await b.create();
    const tree = await walk(join(root, 'a'));
    const want = ['b', 'b/repo', ...['keys', 'index', 'snapshots', 'locks', 'data'].map((d) => `b/repo/${d}`), ...PACK_PREFIXES.map((p) => `b/repo/data/${p}`)];
    expect([...tree.keys()].sort()).toEqual(want.sort());
    for (const [p, mode] of tree) expect(perm(mode), p).toBe(0o700);
    expect(b.location).toBe(dir);
  });

  it("files land at restic's paths, read-only 0400, and no temporary file is left", async () => {
    const dir = join(root, 'repo');
    const b = new LocalBackend(dir);
    await b.create();
    const paths: Record<FileType, string> = { config: 'config', key: 'keys/', pack: 'data/', index: 'index/', snapshot: 'snapshots/', lock: 'locks/', audit: 'cairn-log/' };
    for (const t of Object.keys(paths) as FileType[]) {
      const data = bytes(100 + t.length);
      const h: Handle = t === 'config' ? { type: 'config', name: 'config' } : handleFor(t, data);
      await b.save(h, data);
      const rel = t === 'config' ? 'config' : t === 'pack' ? `data/${h.name.slice(0, 2)}/${h.name}` : paths[t] + h.name;
      expect(b.filename(h)).toBe(join(dir, rel));
      const st = await stat(join(dir, rel));
      expect(perm(st.mode), rel).toBe(0o400);
      expect(Buffer.compare(await readFile(join(dir, rel)), data)).toBe(0);
      // overwriting restic's read-only file works
      await b.save(h, data.subarray(1));
      expect((await stat(join(dir, rel))).size).toBe(data.length - 1);
    }
    const names = [...(await walk(dir)).keys()];
    expect(names.filter((n) => n.includes('.tmp-') || n.includes('-tmp-'))).toEqual([]);
  });

  it('a group-readable config switches to 0440 files and 0770 directories (less the umask), as restic does', async () => {
    const dir = join(root, 'repo');
    await new LocalBackend(dir).create();
    await new LocalBackend(dir).save({ type: 'config', name: 'config' }, bytes(155));
    await chmod(join(dir, 'config'), 0o440);
    await rm(join(dir, 'data', 'ab'), { recursive: true });
    const b = new LocalBackend(dir);
    expect((await b.modes()).file).toBe(0o660);
    const name = 'ab' + 'c'.repeat(62);
    await b.save({ type: 'pack', name }, bytes(10));
    await b.save({ type: 'index', name }, bytes(10));
    expect(perm((await stat(join(dir, 'data', 'ab', name))).mode)).toBe(0o440);
    expect(perm((await stat(join(dir, 'index', name))).mode)).toBe(0o440);
    const dirMode = perm((await stat(join(dir, 'data', 'ab'))).mode);
    expect(dirMode & 0o750).toBe(0o750); // group gets at least r-x with any usual umask
    expect(dirMode & 0o007).toBe(0);
  });

  it('list skips what is not a file of the type: temporary files (ours and restic’s), wrong case, wrong data/xx, directories, junk', async () => {
    const dir = join(root, 'repo');
    const b = new LocalBackend(dir);
    await b.create();
    const good = bytes(77);
    const h = handleFor('pack', good);
    await b.save(h, good);
    const k = handleFor('key', good);
    await b.save(k, good);
    const other = 'ff' + h.name.slice(2);
    const sub = join(dir, 'data', h.name.slice(0, 2));
    await writeFile(join(sub, `.tmp-${other}-0123`), 'partial');
    await writeFile(join(sub, `${h.name}-tmp-123456`), 'restic temp');
    await writeFile(join(sub, h.name.toUpperCase()), 'upper');
    await writeFile(join(dir, 'data', '00', other), 'wrong prefix dir');
    await writeFile(join(dir, 'data', other), 'flat in data/');
    await mkdir(join(dir, 'data', 'zz'));
    await writeFile(join(dir, 'data', 'zz', 'zz' + other.slice(2)), 'odd dir');
    await writeFile(join(dir, 'data', 'README'), 'junk');
    await writeFile(join(dir, 'keys', 'README'), 'junk');
    await mkdir(join(dir, 'keys', other));
    await writeFile(join(dir, 'keys', `.tmp-${other}-1`), 'partial');
    await writeFile(join(dir, '.tmp-config-1'), 'partial config');
    await rm(join(dir, 'data', '01'), { recursive: true });
    await writeFile(join(dir, 'data', '01'), 'a file where a directory should be');
    expect(await listing(b, 'pack')).toEqual([`${h.name}:77`]);
    expect(await listing(b, 'key')).toEqual([`${k.name}:77`]);
    expect(await listing(b, 'config')).toEqual([]);
  });

  it('a missing type directory lists as empty (restic), and save recreates a missing data/xx', async () => {
    const dir = join(root, 'repo');
    const b = new LocalBackend(dir);
    await b.create();
    await rm(join(dir, 'snapshots'), { recursive: true });
    await rm(join(dir, 'data'), { recursive: true });
    expect(await listing(b, 'snapshot')).toEqual([]);
    expect(await listing(b, 'pack')).toEqual([]);
    const data = bytes(5);
    const h = handleFor('pack', data);
    await b.save(h, data);
    expect(perm((await stat(join(dir, 'data', h.name.slice(0, 2)))).mode)).toBe(0o700);
    expect(await listing(b, 'pack')).toEqual([`${h.name}:5`]);
  });

  it('save does not recreate a missing repository directory (an unmounted disk): ERR_BACKEND', async () => {
    const b = new LocalBackend(join(root, 'gone'));
    const e = await expectCode(b.save(handleFor('key', bytes(3)), bytes(3)), 'ERR_BACKEND');
    expect(e.message).toContain(join(root, 'gone'));
    expect(await readdir(root)).toEqual([]);
  });

  describe('a failed save leaves no temporary file and the old file untouched', () => {
    const points: LocalFaultPoint[] = ['save:open', 'save:write', 'save:sync', 'save:rename'];
    for (const point of points) {
      it(`failing at ${point}`, async () => {
        const dir = join(root, 'repo');
        let armed = false;
        const b = new LocalBackend(dir, {
          fault: (p) => {
            if (armed && p === point) throw Object.assign(new Error(`injected EIO at ${p}`), { code: 'EIO' });
          },
        });
        await b.create();
        const old = bytes(1000, 1);
        const h: Handle = { type: 'snapshot', name: sha256Hex(old) };
        const fresh: Handle = { type: 'pack', name: sha256Hex(bytes(9)) };
        await b.save(h, old);
        armed = true;
        const e = await expectCode(b.save(h, bytes(2000, 2)), 'ERR_BACKEND');
        expect(e.retryable).toBe(true);
        expect(e.message).toContain(join(dir, 'snapshots'));
        expect(e.data).toMatchObject({ type: 'snapshot', name: h.name, errno: 'EIO' });
        await expectCode(b.save(fresh, bytes(2000, 3)), 'ERR_BACKEND');
        expectBytes(await b.load(h), old);
        await expectCode(b.stat(fresh), 'ERR_NOT_FOUND');
        const leftovers = [...(await walk(dir)).keys()].filter((n) => n.includes('.tmp-'));
        expect(leftovers).toEqual([]);
      });
    }

    it('a non-transient failure (ENOSPC) is not retryable and says what to do', async () => {
      const b = new LocalBackend(join(root, 'repo'), {
        fault: (p) => {
          if (p === 'save:write') throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        },
      });
      await b.create();
      const e = await expectCode(b.save(handleFor('index', bytes(4)), bytes(4)), 'ERR_BACKEND');
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/free some space/);
    });
  });

  it('real OS failures are ERR_BACKEND naming the path: a file where data/xx should be, a directory where a file should be', async () => {
    const dir = join(root, 'repo');
    const b = new LocalBackend(dir);
    await b.create();
    const data = bytes(50);
    const h = handleFor('pack', data);
    const sub = join(dir, 'data', h.name.slice(0, 2));
    await rm(sub, { recursive: true });
    await writeFile(sub, 'in the way');
    const e = await expectCode(b.save(h, data), 'ERR_BACKEND');
    expect(e.message).toContain(sub);
    expect(e.retryable).toBe(false);
    const k = handleFor('key', data);
    await mkdir(join(dir, 'keys', k.name));
    const e2 = await expectCode(b.load(k), 'ERR_BACKEND');
    expect(e2.message).toContain(join(dir, 'keys', k.name));
    await expectCode(b.stat(k), 'ERR_BACKEND');
    // create() on a path that is a file
    await writeFile(join(root, 'plain-file'), 'x');
    await expectCode(new LocalBackend(join(root, 'plain-file')).create(), 'ERR_BACKEND');
  });

  it('a file that shrinks while it is read is a retryable short read, never short data', async () => {
    const dir = join(root, 'repo');
    const b = new LocalBackend(dir, {
      fault: async (p, path) => {
        if (p === 'load:read') await truncate(path, 10);
      },
    });
    await b.create();
    const data = bytes(5000);
    const h = handleFor('pack', data);
    await b.save(h, data);
    const e = await expectCode(b.load(h, 100, 200), 'ERR_BACKEND');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/short read/);
    await b.close();
  });

  it('a pack that failed to read is opened again on the next load: a pack put back whole (a new file) reads whole', async () => {
    const dir = join(root, 'repo');
    let shrink = true;
    const b = new LocalBackend(dir, {
      fault: async (p, path) => {
        if (p === 'load:read' && shrink) await truncate(path, 10);
      },
    });
    await b.create();
    const data = bytes(5000);
    const h = handleFor('pack', data);
    await b.save(h, data);
    await expectCode(b.load(h, 100, 200), 'ERR_BACKEND');
    // Put back from a copy, as a new file (rename), as a user restoring a damaged pack would.
    shrink = false;
    const path = join(dir, 'data', h.name.slice(0, 2), h.name);
    await writeFile(`${path}.copy`, data);
    await rename(`${path}.copy`, path);
    expectBytes(await b.load(h, 100, 200), data.subarray(100, 300));
    await b.close();
  });

  it('a SIGKILL mid-write never leaves a partial file under a final name', async () => {
    const dir = join(root, 'repo');
    await new LocalBackend(dir).create();
    const here = fileURLToPath(new URL('.', import.meta.url));
    const runOnce = (delayMs: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', join(here, 'fixtures', 'ts-register.mjs'), join(here, 'fixtures', 'crash-child.ts'), dir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        let killing = false;
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          // Kill once the second save has started writing (the first one is then complete).
          if (!killing && (out.match(/^writing /gm) ?? []).length >= 2) {
            killing = true;
            setTimeout(() => child.kill('SIGKILL'), delayMs);
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (_code, signal) => {
          const ready = /^ready (\d+)$/m.exec(out);
          if (signal !== 'SIGKILL' || ready === null) reject(new Error(`crash child ended without being killed (signal ${String(signal)}): ${err}`));
          else resolve(Number(ready[1]));
        });
      });
    const sizes = await Promise.all([0, 5].map((d) => runOnce(d)));
    const size = sizes[0]!;
    // Every final name holds its whole file (named by its SHA-256, as restic names packs);
    // temporary files may survive a kill but are never listed.
    const all = await walk(join(dir, 'data'));
    const finals = [...all.keys()].filter((p) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(p));
    expect(finals.length).toBeGreaterThanOrEqual(2); // each child finished its first save
    for (const p of finals) {
      const content = await readFile(join(dir, 'data', p));
      expect(content.length, p).toBe(size);
      expect(createHash('sha256').update(content).digest('hex'), p).toBe(p.slice(3));
    }
    const leftovers = [...all.keys()].filter((p) => p.includes('/.tmp-'));
    expect(leftovers.length).toBeGreaterThan(0); // the kills did land mid-save
    const listed = await collect(new LocalBackend(dir).list('pack'));
    expect(listed.map((f) => f.name).sort()).toEqual(finals.map((p) => p.slice(3)).sort());
    for (const f of listed) expect(f.size).toBe(size);
  });
});
