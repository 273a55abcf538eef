/**
 * A file that changes while it is read is reported: a warning naming it (code CHANGED) and
 * `files_changed_during_read` in the summary; the snapshot is still saved and the exit code is 0,
 * as with restic, because what was read is a consistent prefix the user may still want.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from '../cli/helpers.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };

describe('a file changing while it is read', () => {
  let root: string;
  let writer: ChildProcess | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-changing-'));
    await mkdir(join(root, 'src'));
    // Large enough that reading it takes far longer than the writer's 2 ms between appends.
    await writeFile(join(root, 'src', 'growing.log'), pseudoRandomBytes(96 << 20, 5));
    await writeFile(join(root, 'src', 'still.txt'), 'unchanging');
    expect((await cairn(['-r', join(root, 'repo'), 'repo', 'init'], { env: ENV })).code).toBe(0);
  });

  afterAll(async () => {
    writer?.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('is reported in the summary and as a warning; the snapshot is saved, exit 0', { timeout: 60_000 }, async () => {
    const file = join(root, 'src', 'growing.log');
    writer = spawn('sh', ['-c', `while :; do echo line >> '${file}'; sleep 0.002; done`], { stdio: 'ignore' });
    const r = await cairn(['-r', join(root, 'repo'), 'snapshot', join(root, 'src'), '--json'], { env: ENV });
    writer.kill('SIGKILL');
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(summary).toMatchObject({ message_type: 'summary', files_new: 2, files_changed_during_read: 1 });
    const warnings = r.err.trim().split('\n').map((l) => JSON.parse(l) as { item: string; error: { code: string; message: string } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.item).toBe(file);
    expect(warnings[0]!.error.code).toBe('CHANGED');
    expect(warnings[0]!.error.message).toMatch(/changed while it was read/);
    const ls = await cairn(['-r', join(root, 'repo'), 'ls', 'latest'], { env: ENV });
    expect(ls.out).toContain('/src/growing.log');
  });

  it('an unchanged file gives no such report', async () => {
    const r = await cairn(['-r', join(root, 'repo'), 'snapshot', join(root, 'src', 'still.txt'), '--json'], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).not.toHaveProperty('files_changed_during_read');
  });
});
