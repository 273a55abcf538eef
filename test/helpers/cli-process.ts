/**
 * The built CLI (`node dist/cli/cairn.js`) as a real process, for crash and concurrency tests:
 * run a command to its end, or SIGKILL it at a chosen moment — when a stdout line appears (as
 * `-v` progress lines say a step is done), a fixed time after that line or after the start, or at
 * a file operation of the repository (the preload `crash-hook.mjs`: `rename:data#2:after`…).
 *
 * With `repo` (and optionally `target`) set, every run records the file events it got through
 * (`events`, each with its wall-clock time), so a test can tell where a timed kill landed, and a
 * probe run lists the events kill points can be chosen from ({@link pickEventKillPoints}).
 *
 * Needs the built CLI: `npm run build` (npm test builds first).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../dist/cli/cairn.js', import.meta.url));
export const CRASH_HOOK = fileURLToPath(new URL('./crash-hook.mjs', import.meta.url));

/** Throws unless the built CLI (with these command modules) is there. */
export function requireBuiltCli(...commands: readonly string[]): void {
  for (const c of ['', ...commands]) {
    const file = c === '' ? BIN : join(BIN, '..', 'commands', `${c}.js`);
    if (!existsSync(file)) throw new Error(`${file} is missing or outdated: run \`npm run build\` first`);
  }
}

/** When to SIGKILL the process (at most one of `line`, `delayMs`, `event`). */
export interface KillPoint {
  /** Kill when the `nth` (default 1st) stdout line matching this appears, or `afterMs` later. */
  readonly line?: RegExp;
  readonly nth?: number;
  readonly afterMs?: number;
  /** Kill this many ms after the process was spawned. */
  readonly delayMs?: number;
  /**
   * Kill at a repository file operation: `<op>:<dir>#<n>:<before|after|mid>`, or a time after one:
   * `<op>:<dir>#<n>:after+<ms>ms` (see crash-hook.mjs).
   */
  readonly event?: string;
}

/** One file operation a run completed (see crash-hook.mjs). */
export interface FileEvent {
  /** `rename:data`, `unlink:index`, `write:target`… */
  readonly event: string;
  /** Wall-clock time (ms since the epoch) when it completed. */
  readonly at: number;
}

export interface CliRun {
  readonly pid: number;
  /** True when the process ended by SIGKILL. */
  readonly killed: boolean;
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** Wall-clock times (ms since the epoch) of the spawn and of the exit. */
  readonly started: number;
  readonly ended: number;
  /** The file events the process completed, in order (only when `repo` or `target` was given). */
  readonly events: readonly FileEvent[];
  /**
   * The file events it began, in order: a superset of `events`. An operation that began but was
   * not seen to complete may or may not have taken effect when the process was killed.
   */
  readonly begun: readonly FileEvent[];
}

export interface CliRunOptions {
  /** Environment on top of the test process's (password, CAIRN_KDF…). */
  readonly env?: Readonly<Record<string, string>>;
  readonly kill?: KillPoint;
  /** The repository directory: file events under it are traced (and `kill.event` counted). */
  readonly repo?: string;
  /** A restore target: file events under it are traced as `<op>:target`. */
  readonly target?: string;
  /** Stop (SIGSTOP) at `kill.event` instead of dying; see {@link startCli}. */
  readonly stop?: boolean;
  readonly cwd?: string;
}

/** A started CLI process: the child, and a promise of how it ended. */
export interface StartedCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly done: Promise<CliRun>;
  /** Resolves with the first stdout line matching `re` (at once if one came already). */
  line(re: RegExp): Promise<string>;
}

/**
 * Spawns the built CLI with `args`. With `stop`, the process stops itself (SIGSTOP) at
 * `kill.event`; wait for that with {@link waitStopped}, continue it with `child.kill('SIGCONT')`.
 */
export function startCli(args: readonly string[], options: CliRunOptions = {}): StartedCli {
  const hooked = options.repo !== undefined || options.target !== undefined;
  const point = options.kill;
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...options.env };
  const dir = hooked ? mkdtempSync(join(tmpdir(), 'cairn-trace-')) : undefined;
  const trace = dir === undefined ? undefined : join(dir, 'trace');
  if (options.repo !== undefined) env['CAIRN_CRASH_REPO'] = options.repo;
  if (options.target !== undefined) env['CAIRN_CRASH_TARGET'] = options.target;
  if (trace !== undefined) env['CAIRN_CRASH_TRACE'] = trace;
  if (point?.event !== undefined) {
    if (!hooked) throw new Error('a kill at a file event needs options.repo (or target)');
    env['CAIRN_CRASH_AT'] = point.event;
    if (options.stop === true) env['CAIRN_CRASH_SIGNAL'] = 'SIGSTOP';
  }
  const started = Date.now();
  const child = spawn(process.execPath, [...(hooked ? ['--import', CRASH_HOOK] : []), BIN, ...args], { env, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const lines: string[] = [];
  let out = '';
  let err = '';
  let pending = '';
  let seen = 0;
  let killed = false;
  const kill = (): void => {
    if (!killed) killed = child.kill('SIGKILL');
  };
  let timer: NodeJS.Timeout | undefined;
  if (point?.delayMs !== undefined) timer = setTimeout(kill, point.delayMs);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    pending += d;
    const got = pending.split('\n');
    pending = got.pop()!;
    for (const l of got) {
      lines.push(l);
      for (const w of waiters.filter((x) => x.re.test(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
      if (point?.line !== undefined && point.line.test(l) && ++seen === (point.nth ?? 1)) {
        if (point.afterMs === undefined) kill();
        else timer = setTimeout(kill, point.afterMs);
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => void (err += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const ended = Date.now();
      const finish = async (): Promise<CliRun> => {
        const events: FileEvent[] = [];
        const begun: FileEvent[] = [];
        if (trace !== undefined) {
          const text = await readFile(trace, 'utf8').catch(() => '');
          for (const l of text.split('\n')) {
            if (l === '') continue;
            const [event, at] = l.split(' ');
            // Worker events begin as `+<event>@<thread>.<seq>` (see crash-hook.mjs).
            if (event!.startsWith('+')) begun.push({ event: event!.slice(1).replace(/@.*$/, ''), at: Number(at) });
            else events.push({ event: event!, at: Number(at) });
          }
        }
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
        return { pid: child.pid!, killed: signal === 'SIGKILL', code, out, err, started, ended, events, begun };
      };
      finish().then(resolve, reject);
    });
  });
  return {
    child,
    done,
    line: (re) =>
      new Promise<string>((resolve) => {
        const hit = lines.find((l) => re.test(l));
        if (hit !== undefined) resolve(hit);
        else waiters.push({ re, resolve });
      }),
  };
}

/** Runs the built CLI to its end (or to `kill`). */
export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return startCli(args, options).done;
}

/** Resolves once the process is stopped (state T in /proc), e.g. at a `stop` event; rejects if it ends first. */
export async function waitStopped(run: StartedCli, ms = 20_000): Promise<void> {
  const { child } = run;
  let ended = false;
  void run.done.then(() => (ended = true), () => (ended = true));
  const until = Date.now() + ms;
  for (;;) {
    const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => '');
    // The state is the field after the parenthesised command name.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't') return;
    if (ended) throw new Error(`process ${child.pid} ended before it stopped: ${JSON.stringify(await run.done)}`);
    if (Date.now() > until) throw new Error(`process ${child.pid} did not stop within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The op of an event name: `rename` of `rename:data`. */
function opOf(event: string): string {
  return event.slice(0, event.indexOf(':'));
}

/**
 * The distinct states a SIGKILL can leave, per file event (a killed process's page cache is kept,
 * so `fsync` makes no difference, and a created temporary file is either empty or partly written,
 * which `mid` covers): in the middle of a write (a partial temporary file; `spill` is a blob
 * worker's write to its pack in progress), just after a rename (the file in place, the next step
 * not begun), just after an unlink.
 */
const PHASES: Readonly<Record<string, readonly string[]>> = { write: ['mid'], spill: ['mid'], rename: ['after'], unlink: ['after'] };

/**
 * Kill points (`<event>#<n>:<phase>`) chosen from the events of a probe run: every event kind's
 * first and last occurrence, then evenly spaced others, `budget` in all (in trace order). When
 * the first-and-last ones alone exceed the budget, evenly spaced ones among them.
 */
export function pickEventKillPoints(events: readonly FileEvent[], budget: number, phases: Readonly<Record<string, readonly string[]>> = PHASES): string[] {
  const total = new Map<string, number>();
  const all: { point: string; must: boolean }[] = [];
  for (const { event } of events) total.set(event, (total.get(event) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const { event } of events) {
    const n = (seen.get(event) ?? 0) + 1;
    seen.set(event, n);
    for (const phase of phases[opOf(event)] ?? []) all.push({ point: `${event}#${n}:${phase}`, must: n === 1 || n === total.get(event) });
  }
  const spread = <T>(xs: readonly T[], k: number): T[] => {
    if (k >= xs.length) return [...xs];
    if (k <= 0) return [];
    if (k === 1) return [xs[0]!];
    return Array.from({ length: k }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (k - 1))]!);
  };
  const must = all.filter((c) => c.must);
  if (must.length >= budget) return spread(must, budget).map((c) => c.point);
  const extra = new Set(spread(all.filter((c) => !c.must), budget - must.length));
  return all.filter((c) => c.must || extra.has(c)).map((c) => c.point);
}

/** A seeded PRNG (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Where a killed run got to, against a complete run's events: the last event it completed, and
 * how many of each kind of rename and unlink it did (`rename:data 1/2 rename:index 0/1 …`).
 */
export function landing(events: readonly FileEvent[], complete: readonly FileEvent[]): string {
  const count = (es: readonly FileEvent[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const { event } of es) if (/^(rename|unlink):/.test(event) && !event.endsWith(':target')) m.set(event, (m.get(event) ?? 0) + 1);
    return m;
  };
  const got = count(events);
  const all = count(complete);
  const writes = events.filter((e) => e.event === 'write:target').length;
  const allWrites = complete.filter((e) => e.event === 'write:target').length;
  const last = events.at(-1);
  const progress = [...all].map(([k, n]) => `${k} ${got.get(k) ?? 0}/${n}`);
  if (allWrites > 0) progress.push(`write:target ${writes}/${allWrites}`);
  return `${last === undefined ? 'before any file event' : `after ${last.event}#${events.filter((e) => e.event === last.event).length}`} [${progress.join(', ')}]`;
}
