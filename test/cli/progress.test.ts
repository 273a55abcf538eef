/**
 * The status line (src/cli/progress.ts, spec/cli.md "Progress"): redrawn in place on a terminal
 * at a bounded rate and cleared before other output and at the end; nothing when stdout is not a
 * terminal or with --quiet; with --json, status lines of the documented schema before the
 * summary, for snapshot, restore, check and prune.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandContext, StatusClock } from '../../src/cli/context.js';
import { startStatus, statusFps, statusLine, statusText } from '../../src/cli/progress.js';
import { createProgress } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { cairn, makeIo, scratchRepository, type TestIoOptions } from './helpers.js';

const ENV = { CAIRN_PASSWORD: 'progress-test', CAIRN_KDF: '1024:8:1' };
const CLEAR = '\r\x1b[2K';

/** A clock that moves only when told to; its timer never fires on its own. */
function fakeClock(): StatusClock & { advance(ms: number): void; timers: number } {
  let t = 1000;
  let timers = 0;
  return {
    now: () => t,
    setInterval: () => {
      timers++;
      return timers;
    },
    clearInterval: () => {
      timers--;
    },
    advance(ms) {
      t += ms;
    },
    get timers() {
      return timers;
    },
  };
}

function context(options: TestIoOptions & { json?: boolean; quiet?: boolean }): { ctx: CommandContext; io: ReturnType<typeof makeIo> } {
  const io = makeIo(options);
  const ctx: CommandContext = {
    io,
    globals: () => ({ json: options.json === true, quiet: options.quiet === true, verbose: 0 }),
    recordMetrics: () => undefined,
  };
  return { ctx, io };
}

/** The status lines (JSON) among stdout's lines, and the lines themselves. */
function jsonLines(out: string): Array<Record<string, unknown>> {
  return out.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Every documented field of a status line, with its type (spec/cli.md "Progress"). */
function expectStatusSchema(s: Record<string, unknown>): void {
  expect(s['message_type']).toBe('status');
  for (const k of ['seconds_elapsed', 'percent_done', 'total_files', 'files_done', 'total_bytes', 'bytes_done', 'error_count']) {
    expect(typeof s[k], k).toBe('number');
    expect(s[k] as number, k).toBeGreaterThanOrEqual(0);
  }
  expect(s['percent_done'] as number).toBeLessThanOrEqual(1);
  expect(Array.isArray(s['current_files'])).toBe(true);
  if ('seconds_remaining' in s) expect(typeof s['seconds_remaining']).toBe('number');
  if ('phase' in s) expect(typeof s['phase']).toBe('string');
  const known = new Set(['message_type', 'phase', 'seconds_elapsed', 'seconds_remaining', 'percent_done', 'total_files', 'files_done', 'total_bytes', 'bytes_done', 'error_count', 'current_files']);
  for (const k of Object.keys(s)) expect(known.has(k), `undocumented field ${k}`).toBe(true);
}

describe('the status reporter', () => {
  it('on a terminal, redraws one line at most 10 times a second and clears it at the end', () => {
    const clock = fakeClock();
    const { ctx, io } = context({ stdoutIsTTY: true, clock, columns: 200 });
    const status = startStatus(ctx, 'snapshot');
    expect(status.progress).toBeDefined();
    const p = status.progress!;
    p.itemsTotal = 100;
    p.bytesTotal = 100 << 20;
    // Two seconds of run, sampled every 20 ms (the platform timer may fire that often).
    for (let i = 0; i < 100; i++) {
      clock.advance(20);
      p.itemsDone = i;
      p.bytesDone = i << 20;
      status.tick();
    }
    status.finish();
    const out = io.out();
    const draws = out.split(CLEAR).filter((s) => s.startsWith('['));
    expect(draws.length).toBeGreaterThanOrEqual(10);
    expect(draws.length).toBeLessThanOrEqual(2 * 10 + 1); // 2 s at 10/s, plus the first draw
    expect(out.endsWith(CLEAR)).toBe(true);
    expect(out).not.toContain('\n');
    expect(clock.timers).toBe(0);
    expect(draws.at(-1)).toMatch(/^\[0:02\] 99\.00%  99 files 99.00 MiB, total 100 files 100.00 MiB, 0 errors, [\d.]+ MiB\/s ETA 0:00$/);
  });

  it('clears the line before a warning, and cuts it to the terminal width', () => {
    const clock = fakeClock();
    const { ctx, io } = context({ stdoutIsTTY: true, clock, columns: 30 });
    const status = startStatus(ctx, 'restore');
    status.progress!.current.add('/a/very/long/path/name/that/does/not/fit/on/the/line');
    clock.advance(200);
    status.tick();
    status.ctx.io.stderr.write('warning: x\n');
    const lines = io.out().split(CLEAR).filter((s) => s.length > 0);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(29);
    expect(io.out().endsWith(CLEAR)).toBe(true); // cleared before the warning went out
    expect(io.err()).toBe('warning: x\n');
    status.finish();
  });

  it('shows nothing, and asks the core for no counters, when stdout is not a terminal or with --quiet', () => {
    for (const options of [{ stdoutIsTTY: false }, { stdoutIsTTY: true, quiet: true }, { json: true, quiet: true }]) {
      const clock = fakeClock();
      const { ctx, io } = context({ ...options, clock });
      const status = startStatus(ctx, 'check');
      expect(status.progress).toBeUndefined();
      clock.advance(5000);
      status.tick();
      status.finish();
      expect(io.out()).toBe('');
      expect(clock.timers).toBe(0);
    }
  });

  it('with --json, writes status lines at the rate of CAIRN_PROGRESS_FPS and one last line', () => {
    const clock = fakeClock();
    const { ctx, io } = context({ json: true, clock, env: { CAIRN_PROGRESS_FPS: '2' } });
    const status = startStatus(ctx, 'snapshot');
    for (let i = 0; i < 40; i++) {
      clock.advance(100);
      status.tick();
    }
    status.finish();
    const lines = jsonLines(io.out());
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.length).toBeLessThanOrEqual(4 * 2 + 2);
    for (const l of lines) expectStatusSchema(l);
  });

  it('reads the rate from CAIRN_PROGRESS_FPS, then RESTIC_PROGRESS_FPS, capped at 60', () => {
    expect(statusFps({})).toBe(10);
    expect(statusFps({ RESTIC_PROGRESS_FPS: '0.5' })).toBe(0.5);
    expect(statusFps({ CAIRN_PROGRESS_FPS: '4', RESTIC_PROGRESS_FPS: '0.5' })).toBe(4);
    expect(statusFps({ CAIRN_PROGRESS_FPS: '1000' })).toBe(60);
    expect(statusFps({ CAIRN_PROGRESS_FPS: 'fast' })).toBe(10);
  });

  it('computes percent and ETA from bytes, and leaves them out while the totals are unknown', () => {
    const p = createProgress();
    p.itemsDone = 3;
    p.bytesDone = 300;
    const unknown = statusLine(p, 10_000);
    expect(unknown).toMatchObject({ percent_done: 0, total_files: 0, total_bytes: 0, files_done: 3, bytes_done: 300, seconds_elapsed: 10 });
    expect(unknown.seconds_remaining).toBeUndefined();
    expect(statusText('snapshot', unknown)).toBe('[0:10]  3 files 300 B, 0 errors, 30 B/s');
    p.itemsTotal = 12;
    p.bytesTotal = 1200;
    const known = statusLine(p, 10_000);
    expect(known).toMatchObject({ percent_done: 0.25, seconds_remaining: 30, total_files: 12, total_bytes: 1200 });
  });
});

describe('status lines of the commands', () => {
  const root = tempDir('cairn-progress-');
  const src = join(root, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i} `.repeat(100 + i));
  writeFileSync(join(src, 'sub', 'big.bin'), Buffer.alloc(3 << 20, 7)); // chunked on this thread
  writeFileSync(join(src, 'sub', 'large.bin'), Buffer.alloc(5 << 20, 9)); // stored by storeFile's workers

  async function repoWithSnapshot(): Promise<string> {
    const { repo } = await scratchRepository('cairn-progress-repo-', ENV);
    const r = await cairn(['-r', repo, 'snapshot', src], { env: ENV });
    expect(r.code, r.err).toBe(0);
    return repo;
  }

  /** Runs a command with --json: the status lines, all valid, come before the summary, which is last. */
  async function jsonRun(args: string[]): Promise<{ status: Array<Record<string, unknown>>; summary: Record<string, unknown> }> {
    const r = await cairn(['--json', ...args], { env: ENV });
    expect(r.code, r.err).toBe(0);
    const lines = jsonLines(r.out);
    const summary = lines.at(-1)!;
    expect(summary['message_type']).toBe('summary');
    const status = lines.filter((l) => l['message_type'] === 'status');
    expect(status.length).toBeGreaterThanOrEqual(1);
    for (const s of status) expectStatusSchema(s);
    return { status, summary };
  }

  it('snapshot --json: status lines with the scan totals, then the summary', async () => {
    const { repo } = await scratchRepository('cairn-progress-repo-', ENV);
    const { status, summary } = await jsonRun(['-r', repo, 'snapshot', src]);
    const last = status.at(-1)!;
    expect(last).toMatchObject({ files_done: 7, bytes_done: summary['total_bytes_processed'], error_count: 0, current_files: [] });
    expect(last['total_files']).toBe(7);
    expect(last['total_bytes']).toBe(summary['total_bytes_processed']);
    expect(last['percent_done']).toBe(1);
  });

  it('restore --json: totals from the plan, files and bytes restored', async () => {
    const repo = await repoWithSnapshot();
    const { status, summary } = await jsonRun(['-r', repo, 'restore', 'latest', '--target', join(tempDir('cairn-progress-target-'), 't')]);
    expect(status.at(-1)).toMatchObject({ total_files: 7, files_done: 7, total_bytes: summary['bytes_restored'], bytes_done: summary['bytes_restored'], percent_done: 1 });
  });

  it('check --read-data --json: packs read of the packs selected, phase read-data', async () => {
    const repo = await repoWithSnapshot();
    const { status, summary } = await jsonRun(['-r', repo, 'check', '--read-data']);
    expect(status.at(-1)).toMatchObject({ phase: 'read-data', files_done: summary['read_packs'], total_files: summary['read_packs'], bytes_done: summary['read_bytes'], percent_done: 1 });
  });

  it('prune --json: phases with their counts', async () => {
    const repo = await repoWithSnapshot();
    const { status } = await jsonRun(['-r', repo, 'prune']);
    expect(typeof status.at(-1)!['phase']).toBe('string');
  });

  it('on a terminal the snapshot shows the line and clears it before the summary; not a terminal or --quiet: none', async () => {
    const { repo } = await scratchRepository('cairn-progress-repo-', ENV);
    const tty = await cairn(['-r', repo, 'snapshot', src], { env: ENV, stdoutIsTTY: true, columns: 120 });
    expect(tty.code, tty.err).toBe(0);
    expect(tty.out.startsWith(CLEAR + '[0:00]')).toBe(true);
    const summaryAt = tty.out.indexOf('Files:');
    expect(tty.out.slice(0, summaryAt).endsWith(CLEAR)).toBe(true);
    expect(tty.out.slice(summaryAt)).not.toContain('\r');

    const plain = await cairn(['-r', repo, 'snapshot', src], { env: ENV });
    expect(plain.out).not.toContain('\r');
    expect(plain.out).toContain('Files:');

    const quiet = await cairn(['-q', '-r', repo, 'snapshot', src], { env: ENV, stdoutIsTTY: true });
    expect(quiet.code).toBe(0);
    expect(quiet.out).toBe('');
  });
});
