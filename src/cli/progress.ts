/**
 * The status line of snapshot, restore, check and prune (spec/cli.md "Progress"). The core
 * updates a plain `Progress` counters object (util/progress.ts); this file samples it on a timer
 * and shows it:
 *
 * - stdout is a terminal, no `--json`, no `--quiet`: one line redrawn in place (`\r` + clear
 *   line), at most CAIRN_PROGRESS_FPS (default 10) times a second, cut to the terminal's width;
 *   cleared before any other output of the command and at the end.
 * - `--json` (and no `--quiet`): `{"message_type":"status",…}` lines on stdout at the same rate,
 *   terminal or not (as restic's `backup --json`), and one last one when the work is done,
 *   before the command's summary.
 * - otherwise nothing, and the command runs without counters (a snapshot then skips the totals
 *   scan).
 */
import { createProgress, formatSize, type Progress } from '../index.js';
import type { CliIo, CommandContext, StatusClock } from './context.js';
import { formatDuration } from './format.js';
import { toJsonLine } from './output.js';

/** Which command the status is of: it names the items counted in the text line. */
export type StatusKind = 'snapshot' | 'restore' | 'check' | 'prune';

/** One sample of the counters, as the JSON status line carries it (spec/cli.md "Progress"). */
export interface StatusLine {
  readonly message_type: 'status';
  /** What the command is doing now (check and prune have phases; '' for one-phase commands). */
  readonly phase?: string;
  readonly seconds_elapsed: number;
  /** Only when the totals are known and something is done. */
  readonly seconds_remaining?: number;
  /** 0…1: bytes done / total bytes (items when there are no bytes); 0 while the totals are unknown. */
  readonly percent_done: number;
  /** 0 while unknown. */
  readonly total_files: number;
  readonly files_done: number;
  /** 0 while unknown. */
  readonly total_bytes: number;
  readonly bytes_done: number;
  readonly error_count: number;
  readonly current_files: readonly string[];
}

const DEFAULT_FPS = 10;
const MAX_FPS = 60;
const CLEAR = '\r\x1b[2K';

const realClock: StatusClock = {
  now: () => performance.now(),
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
};

/** Redraws per second: CAIRN_PROGRESS_FPS, else RESTIC_PROGRESS_FPS, else 10; at most 60. */
export function statusFps(env: CliIo['env']): number {
  for (const name of ['CAIRN_PROGRESS_FPS', 'RESTIC_PROGRESS_FPS']) {
    const v = Number.parseFloat(env[name] ?? '');
    if (Number.isFinite(v) && v > 0) return Math.min(v, MAX_FPS);
  }
  return DEFAULT_FPS;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const itemText = (item: Uint8Array | string): string => (typeof item === 'string' ? item : decoder.decode(item));

/** The JSON status line for the counters `p` after `elapsedMs`. */
export function statusLine(p: Progress, elapsedMs: number): StatusLine {
  const totalKnown = p.itemsTotal >= 0 && p.bytesTotal >= 0;
  const fraction = !totalKnown ? 0
    : p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal)
    : p.itemsTotal > 0 ? Math.min(1, p.itemsDone / p.itemsTotal)
    : 1;
  const seconds = elapsedMs / 1000;
  const remaining = totalKnown && fraction > 0 && fraction < 1 ? Math.round((seconds * (1 - fraction)) / fraction) : undefined;
  return {
    message_type: 'status',
    ...(p.phase !== '' ? { phase: p.phase } : {}),
    seconds_elapsed: Math.floor(seconds),
    ...(remaining !== undefined ? { seconds_remaining: remaining } : fraction === 1 && totalKnown ? { seconds_remaining: 0 } : {}),
    percent_done: fraction,
    total_files: Math.max(0, p.itemsTotal),
    files_done: p.itemsDone,
    total_bytes: Math.max(0, p.bytesTotal),
    bytes_done: p.bytesDone,
    error_count: p.errors,
    current_files: [...p.current].map(itemText),
  };
}

const UNITS: Record<StatusKind, string> = { snapshot: 'files', restore: 'files', check: 'items', prune: 'items' };

/** The text status line, e.g. `[0:12] 45.30%  1234 files 2.1 GiB, total 4567 files 4.6 GiB, 0 errors, 12 MiB/s ETA 0:14 /path`. */
export function statusText(kind: StatusKind, s: StatusLine): string {
  const unit = kind === 'check' && s.phase === 'read-data' ? 'packs' : kind === 'check' && s.phase === 'structure' ? 'trees' : UNITS[kind];
  const known = s.total_files > 0 || s.total_bytes > 0 || s.percent_done > 0;
  const rate = s.seconds_elapsed > 0 && s.bytes_done > 0 ? `, ${formatSize(Math.round(s.bytes_done / s.seconds_elapsed))}/s` : '';
  let text = `[${formatDuration(s.seconds_elapsed)}]`;
  if (s.phase !== undefined) text += ` ${s.phase}`;
  if (known) text += ` ${(s.percent_done * 100).toFixed(2)}%`;
  text += `  ${s.files_done} ${unit}${s.bytes_done > 0 || s.total_bytes > 0 ? ` ${formatSize(s.bytes_done)}` : ''}`;
  if (known) text += `, total ${s.total_files} ${unit}${s.total_bytes > 0 ? ` ${formatSize(s.total_bytes)}` : ''}`;
  text += `, ${s.error_count} errors${rate}`;
  if (s.seconds_remaining !== undefined) text += ` ETA ${formatDuration(s.seconds_remaining)}`;
  if (s.current_files.length > 0) text += ` ${s.current_files[0]!}`;
  return text;
}

/** Cuts `text` to `width` characters (code points), leaving the last column free. */
function fit(text: string, width: number): string {
  const max = Math.max(1, width - 1);
  const chars = [...text.replace(/[\u0000-\u001f\u007f]/g, '?')];
  return chars.length <= max ? chars.join('') : chars.slice(0, max).join('');
}

/** A running status display; `finish` must be called (it stops the timer). */
export interface StatusReporter {
  /** The counters to hand to the core, or undefined when nothing is shown (the core then skips its bookkeeping). */
  readonly progress: Progress | undefined;
  /** The command's context with stdout and stderr clearing the status line before each write. */
  readonly ctx: CommandContext;
  /** Samples and shows the counters now if the rate allows (the timer calls it). */
  tick(): void;
  /**
   * The work is done: stops the timer and clears the line (terminal) or writes the last status
   * line (`--json`). Call it before printing the summary, so that the summary comes last.
   */
  finish(): void;
  /** Stops the timer and clears the line, writing nothing more (a failure). Idempotent, as finish. */
  stop(): void;
}

/**
 * Starts the status display of `kind` for the command running in `ctx` (see the file comment);
 * `none` shows nothing (a snapshot of a stream, whose size is unknown).
 */
export function startStatus(ctx: CommandContext, kind: StatusKind | 'none'): StatusReporter {
  const g = ctx.globals();
  const io = ctx.io;
  const mode = kind === 'none' || g.quiet ? 'off' : g.json ? 'json' : io.isTTY.stdout ? 'tty' : 'off';
  if (mode === 'off') return { progress: undefined, ctx, tick: () => undefined, finish: () => undefined, stop: () => undefined };
  const clock = io.clock ?? realClock;
  const fps = statusFps(io.env);
  const minGap = 1000 / fps;
  const progress = createProgress();
  const started = clock.now();
  let last = -Infinity;
  let shown = false;
  let done = false;
  const clear = (): void => {
    if (shown) {
      io.stdout.write(CLEAR);
      shown = false;
    }
  };
  const draw = (now: number): void => {
    const s = statusLine(progress, now - started);
    if (mode === 'json') {
      io.stdout.write(toJsonLine(s) + '\n');
      return;
    }
    const width = io.columns?.() ?? (Number.parseInt(io.env['COLUMNS'] ?? '', 10) || 80);
    io.stdout.write(CLEAR + fit(statusText(kind as StatusKind, s), width));
    shown = true;
  };
  const tick = (): void => {
    if (done) return;
    const now = clock.now();
    if (now - last < minGap - 1e-6) return;
    last = now;
    draw(now);
  };
  const wrapped: CliIo = {
    ...io,
    stdout: { write: (c) => { clear(); io.stdout.write(c); } },
    stderr: { write: (c) => { clear(); io.stderr.write(c); } },
  };
  const handle = clock.setInterval(tick, minGap);
  const end = (final: boolean): void => {
    if (done) return;
    done = true;
    clock.clearInterval(handle);
    if (mode === 'json' && final) draw(clock.now());
    else clear();
  };
  if (mode === 'tty') tick(); // at once, so that even a short run shows that it started
  return {
    progress,
    ctx: { ...ctx, io: wrapped },
    tick,
    finish: () => end(true),
    stop: () => end(false),
  };
}

/**
 * Runs `fn` with a status display of `kind`: `fn` gets the context to print through (it clears
 * the status line first), the counters to hand to the core (undefined when nothing is shown) and
 * the reporter, whose `finish()` it calls before printing its summary. The display is stopped
 * before `fn`'s error is thrown.
 */
export async function withStatus<T>(ctx: CommandContext, kind: StatusKind | 'none', fn: (ctx: CommandContext, progress: Progress | undefined, status: StatusReporter) => Promise<T>): Promise<T> {
  const status = startStatus(ctx, kind);
  try {
    return await fn(status.ctx, status.progress, status);
  } finally {
    status.stop();
  }
}
