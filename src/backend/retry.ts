/**
 * The retry decorator: `withRetry(backend, options)` is a Backend that tries an operation again
 * when it failed with a transient storage fault (a CairnError `ERR_BACKEND` with `retryable:
 * true`), waiting between attempts with exponential backoff and "full jitter" (AWS's name): the
 * n-th wait (n = 1, 2, …) is a uniformly random time in [0, min(maxDelayMs, baseDelayMs·2^(n-1))).
 * It gives up after `maxAttempts` attempts or once the next wait would pass `budgetMs` since the
 * first attempt, and then throws the last error (its message says how often it was tried).
 * Every other error (not found, permission, invalid argument, corrupt data, a bug) passes
 * through at once: a retry cannot help, and hiding it would only make the user wait.
 *
 * Per operation:
 * - `save` sends the whole body again (the caller's bytes; a backend never keeps a partial file).
 * - `load` also treats a result shorter or longer than the `length` asked for as a transient
 *   short read (MUST rule 2 says the backend throws; this is a second line of defence).
 * - `list` restarts the listing from the beginning and skips names it already yielded, so a
 *   consumer sees each file once however often the listing broke; an attempt that yielded new
 *   names counts as progress and starts the attempt count afresh (the time budget still holds).
 * - `remove` of a file that is gone is ERR_NOT_FOUND as usual, except after an earlier attempt of
 *   the same call failed transiently: that attempt may have removed it before its answer was
 *   lost, so the file being gone is the success the caller asked for.
 * - `create` is retried like any other call; `close` is not.
 * The contract has no per-call AbortSignal; `options.signal` (the CLI's SIGINT signal) cuts a
 * wait short with ERR_INTERRUPTED and stops further attempts.
 */
import { CairnError, isCairnError, messageOf } from '../errors.js';
import type { FileType } from '../model/index.js';
import type { Backend, FileInfo, Handle } from './types.js';

/** The operations the decorator retries. */
export type RetryOperation = 'create' | 'save' | 'load' | 'stat' | 'list' | 'remove';

/** One retry about to happen (for `-v` output). */
export interface RetryEvent {
  readonly operation: RetryOperation;
  /** The file (for `list`, `{ type, name: '' }`; for `create`, undefined). */
  readonly handle: Handle | undefined;
  /** The attempt that just failed, from 1. */
  readonly attempt: number;
  /** How long the decorator waits before the next attempt. */
  readonly delayMs: number;
  readonly error: CairnError;
}

export interface RetryOptions {
  /** Attempts per operation, the first included (1 = no retries). @default 8 */
  readonly maxAttempts?: number;
  /** The first wait's upper bound; each later one doubles it. @default 250 */
  readonly baseDelayMs?: number;
  /** No wait is longer than this. @default 10000 */
  readonly maxDelayMs?: number;
  /** No retry starts more than this long after the first attempt began. @default 120000 */
  readonly budgetMs?: number;
  /** Called before each wait. @default none */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Aborting it stops waiting and retrying (ERR_INTERRUPTED). @default none */
  readonly signal?: AbortSignal;
  /** Uniform random numbers in [0, 1), for the jitter (tests pass a seeded one). @default Math.random */
  readonly random?: () => number;
  /** Waits `ms` milliseconds (tests pass a fake). @default a timer that `signal` can cut short */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds on some clock (tests pass a fake that `sleep` advances). @default Date.now */
  readonly now?: () => number;
}

export const RETRY_DEFAULTS = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 10_000, budgetMs: 120_000 } as const;

/** True for an error that trying the same operation again may cure. */
export function isRetryable(e: unknown): e is CairnError {
  return isCairnError(e, 'ERR_BACKEND') && e.retryable;
}

function interrupted(location: string): CairnError {
  return new CairnError('ERR_INTERRUPTED', `stopped retrying a storage operation on ${location}: interrupted`, { data: { location } });
}

/** A function, so TypeScript does not keep a narrowed `aborted` across an await. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function positive(name: string, v: number | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `retry option ${name} must be a number of at least ${min}, not ${String(v)}`, { data: { option: name, value: v } });
  }
  return v;
}

interface Settings {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly budgetMs: number;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly random: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now: () => number;
}

function settings(o: RetryOptions): Settings {
  return {
    maxAttempts: Math.floor(positive('maxAttempts', o.maxAttempts, RETRY_DEFAULTS.maxAttempts, 1)),
    baseDelayMs: positive('baseDelayMs', o.baseDelayMs, RETRY_DEFAULTS.baseDelayMs, 0),
    maxDelayMs: positive('maxDelayMs', o.maxDelayMs, RETRY_DEFAULTS.maxDelayMs, 0),
    budgetMs: positive('budgetMs', o.budgetMs, RETRY_DEFAULTS.budgetMs, 0),
    onRetry: o.onRetry,
    signal: o.signal,
    random: o.random ?? Math.random,
    sleep: o.sleep ?? realSleep,
    now: o.now ?? Date.now,
  };
}

/** The upper bound of the wait after failed attempt `attempt` (1-based). */
export function backoffCeiling(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt - 1, 52));
}

/** A retrying view of `backend`. */
export function withRetry(backend: Backend, options: RetryOptions = {}): Backend {
  return new RetryBackend(backend, settings(options));
}

class RetryBackend implements Backend {
  readonly location: string;
  readonly #inner: Backend;
  readonly #s: Settings;

  constructor(inner: Backend, s: Settings) {
    this.#inner = inner;
    this.#s = s;
    this.location = inner.location;
  }

  /**
   * After failed attempt `attempt` (the backoff step; `total` counts every attempt of the call,
   * which began at `start`): rethrows what must not or cannot be retried, else reports the retry,
   * waits and returns.
   */
  async #afterFailure(e: unknown, op: RetryOperation, h: Handle | undefined, attempt: number, start: number, total: number): Promise<void> {
    if (!isRetryable(e)) throw e;
    const s = this.#s;
    if (isAborted(s.signal)) throw interrupted(this.location);
    const delayMs = s.random() * backoffCeiling(attempt, s.baseDelayMs, s.maxDelayMs);
    const elapsed = s.now() - start;
    if (attempt >= s.maxAttempts || elapsed + delayMs > s.budgetMs) {
      const secs = (elapsed / 1000).toFixed(1);
      throw new CairnError('ERR_BACKEND', `${e.message} (tried ${total} times over ${secs} s; giving up)`, {
        data: { ...e.data, attempts: total },
        cause: e,
        retryable: true,
      });
    }
    s.onRetry?.({ operation: op, handle: h, attempt: total, delayMs, error: e });
    try {
      await s.sleep(delayMs, s.signal);
    } catch (err) {
      if (isAborted(s.signal)) throw interrupted(this.location);
      throw new CairnError('ERR_INTERNAL', `waiting to retry on ${this.location} failed: ${messageOf(err)}`, { cause: err });
    }
    if (isAborted(s.signal)) throw interrupted(this.location);
  }

  async #run<T>(op: RetryOperation, h: Handle | undefined, fn: (attempt: number, earlierFailed: boolean) => Promise<T>): Promise<T> {
    const start = this.#s.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt, attempt > 1);
      } catch (e) {
        await this.#afterFailure(e, op, h, attempt, start, attempt);
      }
    }
  }

  create(): Promise<void> {
    return this.#run('create', undefined, () => this.#inner.create());
  }

  save(h: Handle, data: Uint8Array): Promise<void> {
    return this.#run('save', h, () => this.#inner.save(h, data));
  }

  load(h: Handle, offset?: number, length?: number): Promise<Uint8Array> {
    return this.#run('load', h, async () => {
      const out = await this.#inner.load(h, offset, length);
      if (length !== undefined && out.length !== length) {
        throw new CairnError('ERR_BACKEND', `${this.location}: reading ${h.type} ${h.name} returned ${out.length} bytes instead of ${length}`, {
          data: { type: h.type, name: h.name, offset: offset ?? 0, length, got: out.length },
          retryable: true,
        });
      }
      return out;
    });
  }

  stat(h: Handle): Promise<FileInfo> {
    return this.#run('stat', h, () => this.#inner.stat(h));
  }

  remove(h: Handle): Promise<void> {
    return this.#run('remove', h, async (_attempt, earlierFailed) => {
      try {
        await this.#inner.remove(h);
      } catch (e) {
        // An earlier attempt failed transiently, so it may have removed the file: gone is done.
        if (earlierFailed && isCairnError(e, 'ERR_NOT_FOUND')) return;
        throw e;
      }
    });
  }

  async *list(type: FileType): AsyncIterable<FileInfo> {
    const h: Handle = { type, name: '' };
    const seen = new Set<string>();
    const start = this.#s.now();
    let total = 0;
    let attempt = 0;
    for (;;) {
      total++;
      attempt++;
      const before = seen.size;
      try {
        for await (const fi of this.#inner.list(type)) {
          if (seen.has(fi.name)) continue;
          seen.add(fi.name);
          yield fi;
        }
        return;
      } catch (e) {
        if (seen.size > before) attempt = 1; // progress: this listing is moving, keep going
        await this.#afterFailure(e, 'list', h, attempt, start, total);
      }
    }
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
