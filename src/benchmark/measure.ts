/**
 * Runs one program as a child process and measures it: wall time (spawn to exit) and peak
 * resident memory. Peak RSS is the kernel's high-water mark `VmHWM` from /proc/PID/status, read
 * every 10 ms while the process lives: the kernel keeps the maximum itself, so a poll only has to
 * land after the peak, not on it; only growth in the last ≤ 10 ms before exit can be missed.
 * Threads (cairn's workers) share the process and count; child processes of the child would not
 * (none of the measured tools starts any). Where /proc is missing, the peak is null.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CairnError } from '../errors.js';

export interface Measured {
  readonly seconds: number;
  /** Peak resident set size in bytes, or null when it could not be read. */
  readonly peakRssBytes: number | null;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last 64 KiB of the output streams. */
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
}

const TAIL = 64 * 1024;
const POLL_MS = 10;

function readHwm(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined; // the process has just exited (or there is no /proc): keep the last reading
  }
}

/** Runs `command args` to completion; rejects only if it cannot start or is interrupted. */
export function runMeasured(command: string, args: readonly string[], options: RunOptions): Promise<Measured> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let peak: number | null = null;
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const poll = (): void => {
      if (child.pid === undefined) return;
      const hwm = readHwm(child.pid);
      if (hwm !== undefined) peak = Math.max(peak ?? 0, hwm);
    };
    const timer = setInterval(poll, POLL_MS);
    poll();
    child.stdout.setEncoding('utf8').on('data', (s: string) => void (stdout = (stdout + s).slice(-TAIL)));
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr = (stderr + s).slice(-TAIL)));
    const onAbort = (): void => void child.kill('SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let seconds = 0;
    child.on('exit', () => {
      seconds = (performance.now() - started) / 1000;
      clearInterval(timer);
    });
    child.on('error', (e) => {
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new CairnError('ERR_BENCH_FAILED', `cannot run ${command}: ${e.message}`, { cause: e, data: { command } }));
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted === true) {
        reject(new CairnError('ERR_INTERRUPTED', `interrupted while running ${command}`));
        return;
      }
      resolve({ seconds, peakRssBytes: peak, code, signal, stdout, stderr });
    });
  });
}

/**
 * Writes every file system's dirty pages to disk (`sync`, coreutils) and waits for it, so that a
 * timed step does not pay for the writeback of the steps before it (on a VM that can add seconds
 * of system time to whatever writes next). Throws ERR_BENCH_FAILED if `sync` cannot run or fails.
 */
export async function flushWrites(signal?: AbortSignal): Promise<void> {
  const m = await runMeasured('sync', [], { env: { PATH: process.env.PATH }, ...(signal !== undefined ? { signal } : {}) });
  if (m.code !== 0) {
    throw new CairnError('ERR_BENCH_FAILED', `\`sync\` (flushing earlier writes before a timed phase) failed (${m.signal !== null ? `killed by ${m.signal}` : `exit ${m.code}`}): ${m.stderr.trim()}; the benchmark needs coreutils' sync on PATH`, {
      data: { command: 'sync', code: m.code, signal: m.signal },
    });
  }
}
