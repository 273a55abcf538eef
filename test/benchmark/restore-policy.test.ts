/**
 * Which restored trees the benchmark keeps until a dataset's last round: those of a dataset of
 * many files when the disk has room (a restore right after a large delete of many files would
 * pay for the file system's cleanup), never those of a dataset of a few large files (kept, their
 * bytes fill the page cache, and every later restore pays for fresh memory).
 */
import { describe, expect, it } from 'vitest';
import { KEEP_RESTORES_MIN_FILES, restorePolicy } from '../../src/benchmark/run.js';

describe('the benchmark\'s restored trees', () => {
  it('are kept for many files when there is room, and removed, saying why, when there is not', () => {
    expect(restorePolicy(49_463, 10e9, 3e9)).toEqual({ keep: true });
    const tight = restorePolicy(KEEP_RESTORES_MIN_FILES, 2e9, 3e9);
    expect(tight.keep).toBe(false);
    expect(tight.why).toMatch(/not enough free space to keep the restores \(3\.0 GB\)/);
  });

  it('are removed once checked for a few large files, room or not, silently', () => {
    expect(restorePolicy(2, 100e9, 3e9)).toEqual({ keep: false });
    expect(restorePolicy(KEEP_RESTORES_MIN_FILES - 1, 100e9, 3e9)).toEqual({ keep: false });
  });
});
