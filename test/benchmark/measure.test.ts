/**
 * The bench's child-process measurement and the `sync` it runs (untimed) before each timed phase.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flushWrites, runMeasured } from '../../src/benchmark/measure.js';

describe('bench measurement', () => {
  const savedPath = process.env.PATH;
  let dir: string | undefined;
  afterEach(async () => {
    process.env.PATH = savedPath;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('measures a child: exit code, wall time and a peak RSS from /proc', async () => {
    const m = await runMeasured(process.execPath, ['-e', 'const b = Buffer.alloc(64 << 20, 1); setTimeout(() => process.exit(b[5] + 6), 150)'], { env: { PATH: process.env.PATH } });
    expect(m.code).toBe(7);
    expect(m.seconds).toBeGreaterThanOrEqual(0.15);
    expect(m.peakRssBytes).toBeGreaterThan(64 << 20);
  });

  it('flushes writes with sync before a phase, and stops the bench with a clear error when sync fails', async () => {
    await expect(flushWrites()).resolves.toBeUndefined();
    dir = await mkdtemp(join(tmpdir(), 'cairn-sync-'));
    await writeFile(join(dir, 'sync'), '#!/bin/sh\necho "sync: disk gone" >&2\nexit 1\n');
    await chmod(join(dir, 'sync'), 0o755);
    process.env.PATH = dir;
    const e = await flushWrites().catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ERR_BENCH_FAILED' });
    expect((e as Error).message).toMatch(/`sync` .* failed \(exit 1\): sync: disk gone; the benchmark needs coreutils' sync on PATH/);
  });
});
