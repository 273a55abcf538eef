/**
 * A storage failure while a snapshot stores its data ends the snapshot with that error: it is not
 * mistaken for an unreadable file (a warning, and a snapshot missing the file's content), and no
 * snapshot is written. Small files' blobs are sealed on worker threads in batches and their
 * packs stored after the files are "done", so the failure arrives late; it must still surface.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { isCairnError } from '../../src/errors.js';
import { Repository, snapshot, takeSnapshot, type ArchiverWarning, type Selector } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const KDF = { N: 1024, r: 8, p: 1 };

describe('a pack that cannot be saved', () => {
  it.each([
    ['small files (batched to the workers)', 300, 3_000],
    ['a large file (storeFile)', 1, 24 << 20],
  ])('fails the snapshot with the storage error, no warning per file, no snapshot: %s', async (_what, files, size) => {
    const src = tempDir('cairn-storefail-');
    mkdirSync(join(src, 'd'));
    for (let i = 0; i < files; i++) writeFileSync(join(src, 'd', `f${i}`), pseudoRandomBytes(size, i));
    const backend = new MemoryBackend();
    const repo = await Repository.init(backend, 'pw', { kdf: KDF, packSize: 256 << 10 });
    backend.fault = (op, h) => {
      if (op === 'save' && h?.type === 'pack') throw Object.assign(new Error('disk on fire (simulated)'), { code: 'EIO' });
    };
    const warnings: ArchiverWarning[] = [];
    let error: unknown;
    try {
      await snapshot(repo, [src], { onWarning: (w) => warnings.push(w) });
    } catch (e) {
      error = e;
    } finally {
      backend.fault = undefined;
      await repo.close();
    }
    expect(error, 'the snapshot must fail').toBeDefined();
    expect(String((error as Error).message)).toContain('disk on fire');
    expect(isCairnError(error, 'ERR_INTERNAL')).toBe(false);
    expect(warnings.filter((w) => w.code === 'ERR_FILE_READ')).toEqual([]);
    expect(backend.files().filter((f) => f.handle.type === 'snapshot')).toEqual([]);
  });

  it('a fatal error stops the whole walk at once, and the snapshot fails only when nothing it started is still running', async () => {
    // Many directories, so that visits run beside the walk when the failure comes.
    const src = tempDir('cairn-storefail-settle-');
    for (let d = 0; d < 40; d++) {
      mkdirSync(join(src, `d${d}`, 'sub'), { recursive: true });
      for (let i = 0; i < 6; i++) writeFileSync(join(src, `d${d}`, 'sub', `f${i}`), pseudoRandomBytes(2_000, d * 100 + i));
    }
    const repo = await Repository.init(new MemoryBackend(), 'pw', { kdf: KDF });
    // A selector that fails (a bug, or an error it cannot turn into a warning) inside d1 (the second directory in name order).
    let looked = 0;
    const selector: Selector = {
      async excludes(path) {
        looked++;
        await new Promise((r) => setTimeout(r, 1));
        if (path.toString().includes('/d1/sub/')) throw new Error('selector exploded (simulated)');
        return false;
      },
      async enter() {
        return { entered: false };
      },
      leave() {},
    };
    let error: unknown;
    try {
      await takeSnapshot(repo, { paths: [src], selector });
    } catch (e) {
      error = e;
    }
    const atFailure = looked;
    await new Promise((r) => setTimeout(r, 200));
    await repo.close();
    expect(String((error as Error | undefined)?.message)).toContain('selector exploded');
    expect(looked, 'entries looked at after the snapshot failed').toBe(atFailure);
    // Stopped at once: far fewer than the 40 × 8 entries of the whole tree were looked at.
    expect(atFailure).toBeLessThan(40 * 8 / 2);
  });
});
