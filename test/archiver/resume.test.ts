/**
 * Resumable first snapshot: a snapshot interrupted late does not store again what already reached
 * the repository. Index files are written while the snapshot runs (every few packs), so the next
 * run finds those blobs in the index and reuses them; only what was not indexed yet is stored
 * again. The resumed snapshot restores byte for byte, and the repository checks clean.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { isCairnError } from '../../src/errors.js';
import { checkRepository, Repository, restoreSnapshot, snapshot } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const KDF = { N: 1024, r: 8, p: 1 };
const PACK = 512 << 10;

describe('an interrupted first snapshot, run again', () => {
  it('reuses the blobs of the packs indexed before the interruption: stores well under half again', async () => {
    const src = tempDir('cairn-resume-');
    mkdirSync(join(src, 'd'));
    // 40 MiB in files of 1 MiB (no deduplication between them).
    const files = 40;
    for (let i = 0; i < files; i++) writeFileSync(join(src, 'd', `f${i}`), pseudoRandomBytes(1 << 20, 1000 + i));
    const backend = new MemoryBackend();
    // An index file for every 8 packs, whatever the time (the default waits at least 5 s).
    const options = { kdf: KDF, packSize: PACK, blobWorkers: 1, indexIntervalMs: 0 };
    const first = await Repository.init(backend, 'pw', options);

    // Interrupt once ~80% of the data has reached the repository in packs.
    const stop = new AbortController();
    let packBytes = 0;
    const save = backend.save.bind(backend);
    backend.save = async (h, data) => {
      await save(h, data);
      if (h.type === 'pack') {
        packBytes += data.length;
        if (packBytes >= 0.8 * files * (1 << 20)) stop.abort();
      }
    };
    let error: unknown;
    try {
      await snapshot(first, [src], { signal: stop.signal });
    } catch (e) {
      error = e;
    } finally {
      await first.close().catch(() => undefined);
    }
    expect(isCairnError(error, 'ERR_INTERRUPTED'), String(error)).toBe(true);
    expect(backend.files().filter((f) => f.handle.type === 'snapshot')).toEqual([]);
    expect(backend.files().filter((f) => f.handle.type === 'index').length).toBeGreaterThan(0);

    backend.save = save;
    const again = await Repository.open(backend, 'pw', options);
    try {
      const s = await snapshot(again, [src]);
      expect(s.files_new).toBe(files);
      // Everything indexed before the interruption is reused: well under half is stored again.
      expect(s.data_added).toBeLessThan(0.5 * files * (1 << 20));
      const target = tempDir('cairn-resume-restore-');
      await restoreSnapshot(again, s.snapshot_id, { target });
      for (let i = 0; i < files; i++) {
        expect(readFileSync(join(target, src, 'd', `f${i}`)).equals(Buffer.from(pseudoRandomBytes(1 << 20, 1000 + i)))).toBe(true);
      }
      const report = await checkRepository(again, { readData: { kind: 'all' } });
      expect(report.errors).toBe(0);
    } finally {
      await again.close();
    }
  });
});
