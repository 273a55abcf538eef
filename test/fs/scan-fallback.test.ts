/**
 * Without the addon (not built), scanDir and readWhole fall back to Node's fs and give the same
 * answers: names in byte order with their lstat, whole small files with the stat after the read,
 * Node-style errors whose `syscall` tells opening from reading.
 */
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('../../src/fs/native.js', async (original) => ({ ...(await original<typeof import('../../src/fs/native.js')>()), nativeAvailable: () => false }));
const { readWhole, scanDir } = await import('../../src/fs/read.js');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-scan-fallback-'));
  for (const n of ['b', 'a', 'B', 'a0']) writeFileSync(join(dir, n), n.repeat(3));
  mkdirSync(join(dir, 'sub'));
  symlinkSync('a', join(dir, 'link'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('without the native addon', () => {
  it('scanDir lists names in byte order, each with its lstat', async () => {
    const scan = await scanDir(Buffer.from(dir));
    expect(scan.names.map(String)).toEqual(['B', 'a', 'a0', 'b', 'link', 'sub']);
    scan.names.forEach((n, i) => {
      const want = lstatSync(join(dir, String(n)), { bigint: true });
      expect((scan.stat(i) as { ino: bigint }).ino).toBe(want.ino);
      expect(scan.isDirectory(i)).toBe(want.isDirectory());
    });
  });

  it('readWhole reads the file and stats it after; errors name the call', async () => {
    const r = await readWhole(Buffer.from(join(dir, 'a0')), 100);
    expect(Buffer.from(r.data).toString()).toBe('a0a0a0');
    expect(r.stat.size).toBe(6n);
    await expect(readWhole(Buffer.from(join(dir, 'link')), 1)).rejects.toMatchObject({ code: 'ELOOP', syscall: 'open' });
    await expect(readWhole(Buffer.from(join(dir, 'sub')), 1)).rejects.toMatchObject({ code: 'EISDIR', syscall: 'read' });
  });
});
