/**
 * The retry decorator over the memory backend: it still keeps every MUST rule (conformance),
 * transient faults are retried until they pass, permanent ones fail at once, a listing that
 * breaks part-way yields each file once, and the waits follow capped exponential backoff with
 * full jitter. A fake clock and sleep keep the tests instant and deterministic.
 */
import { describe, expect, it } from 'vitest';
import { CairnError } from '../../src/errors.js';
import { MemoryBackend, withRetry, backoffCeiling, type Backend, type FileInfo, type Handle, type MemoryOperation, type RetryEvent, type RetryOptions } from '../../src/backend/index.js';
import type { FileType } from '../../src/model/index.js';
import { backendConformance, collect, expectBytes, expectCode, handleFor, rng } from './conformance.js';

/** A fake clock: sleep() records the wait and moves the clock on, at once. */
function fakeTime(): { sleeps: number[]; options: Pick<RetryOptions, 'sleep' | 'now'> } {
  let t = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    },
  };
}

/** A seeded uniform [0, 1) source. */
function uniform(seed: number): () => number {
  const r = rng(seed);
  return () => r(1_000_000) / 1_000_000;
}

const transient = (what: string): CairnError => new CairnError('ERR_BACKEND', `injected transient fault: ${what}`, { retryable: true });

/** Counts the calls the memory backend's fault hook sees, per operation. */
function counting(b: MemoryBackend, fail: (op: MemoryOperation, h: Handle | undefined) => void = () => undefined): Record<string, number> {
  const calls: Record<string, number> = {};
  b.fault = (op, h) => {
    calls[op] = (calls[op] ?? 0) + 1;
    fail(op, h);
  };
  return calls;
}

backendConformance('memory behind withRetry', async () => ({
  backend: withRetry(new MemoryBackend({ location: 'memory:retry' }), { ...fakeTime().options }),
  cleanup: async () => undefined,
}));

describe('withRetry', () => {
  it('retries transient faults until every save, load, stat, list and remove succeeds (seeded 40% fault rate)', async () => {
    const mem = new MemoryBackend();
    const r = rng(7);
    const calls = counting(mem, (op) => {
      // Every operation's first call fails (so each kind is retried), then 40% at random.
      if (calls[op] === 1 || r(100) < 40) throw transient(op);
    });
    const events: RetryEvent[] = [];
    const b = withRetry(mem, { ...fakeTime().options, random: uniform(1), maxAttempts: 30, onRetry: (e) => events.push(e) });
    await b.create();
    const files = Array.from({ length: 40 }, (_, i) => new Uint8Array(100 + i).fill(i));
    await Promise.all(files.map((d) => b.save(handleFor('pack', d), d)));
    for (const d of files) {
      expectBytes(await b.load(handleFor('pack', d)), d);
      expectBytes(await b.load(handleFor('pack', d), 10, 20), d.subarray(10, 30));
      expect((await b.stat(handleFor('pack', d))).size).toBe(d.length);
    }
    const listed = await collect(b.list('pack'));
    expect(listed.length).toBe(40);
    for (const d of files.slice(0, 10)) await b.remove(handleFor('pack', d));
    expect((await collect(b.list('pack'))).length).toBe(30);
    // Faults really happened, and each one was reported before its retry.
    const attempts = Object.values(calls).reduce((a, n) => a + n, 0);
    expect(events.length).toBeGreaterThan(40);
    expect(attempts).toBe(1 + 40 + 120 + 2 + 10 + events.length);
    expect(new Set(events.map((e) => e.operation))).toEqual(new Set(['create', 'save', 'load', 'stat', 'list', 'remove']));
  });

  it('save sends the whole body again: the stored file is whole after failures', async () => {
    const mem = new MemoryBackend();
    let fails = 2;
    const calls = counting(mem, (op) => {
      if (op === 'save' && fails-- > 0) throw transient('save');
    });
    const b = withRetry(mem, fakeTime().options);
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const h = handleFor('pack', data);
    await b.save(h, data);
    expect(calls['save']).toBe(3);
    expectBytes(mem.get(h)!, data);
  });

  it('permanent errors fail at once: not retryable ERR_BACKEND, ERR_NOT_FOUND, ERR_INVALID_ARGUMENT', async () => {
    const mem = new MemoryBackend();
    const time = fakeTime();
    const b = withRetry(mem, time.options);
    const h = handleFor('pack', Uint8Array.of(1));

    let calls = counting(mem);
    await expectCode(b.load(h), 'ERR_NOT_FOUND');
    await expectCode(b.stat(h), 'ERR_NOT_FOUND');
    await expectCode(b.remove(h), 'ERR_NOT_FOUND');
    expect(calls).toEqual({ load: 1, stat: 1, remove: 1 });

    calls = counting(mem, () => {
      throw new CairnError('ERR_BACKEND', 'access denied (403)', { retryable: false });
    });
    const e = await expectCode(b.save(h, Uint8Array.of(1)), 'ERR_BACKEND');
    expect(e.message).toBe('access denied (403)');
    await expectCode(collect(b.list('pack')), 'ERR_BACKEND');
    expect(calls).toEqual({ save: 1, list: 1 });

    calls = counting(mem);
    await expectCode(b.load({ type: 'pack', name: '../../etc/passwd' }), 'ERR_INVALID_ARGUMENT');
    await expectCode(b.load(h, -1), 'ERR_INVALID_ARGUMENT');
    expect(calls).toEqual({});

    // A foreign error (a bug) is not a storage fault either.
    calls = counting(mem, () => {
      throw new TypeError('x is undefined');
    });
    await expect(b.stat(h)).rejects.toThrow(TypeError);
    expect(calls).toEqual({ stat: 1 });
    expect(time.sleeps).toEqual([]);
  });

  it('gives up after maxAttempts with the last error, saying how often it tried', async () => {
    const mem = new MemoryBackend({ location: 'memory:flaky' });
    const calls = counting(mem, () => {
      throw new CairnError('ERR_BACKEND', 'memory:flaky: loading pack x failed: 503 SlowDown', { retryable: true, data: { type: 'pack', name: 'x' } });
    });
    const time = fakeTime();
    const b = withRetry(mem, { ...time.options, random: uniform(3) });
    const e = await expectCode(b.load(handleFor('pack', Uint8Array.of(1))), 'ERR_BACKEND');
    expect(calls['load']).toBe(8);
    expect(time.sleeps.length).toBe(7);
    expect(e.message).toMatch(/^memory:flaky: loading pack x failed: 503 SlowDown \(tried 8 times over [\d.]+ s; giving up\)$/);
    expect(e.data).toMatchObject({ type: 'pack', name: 'x', attempts: 8 });
    expect(((e as CairnError).cause as CairnError).message).toContain('503 SlowDown');
  });

  it('waits with full jitter under a doubling, capped ceiling', async () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 60].map((n) => backoffCeiling(n, 250, 10_000))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    // The largest possible random number: each wait is just under its ceiling.
    let time = fakeTime();
    let mem = new MemoryBackend();
    mem.fault = () => {
      throw transient('stat');
    };
    await expectCode(withRetry(mem, { ...time.options, random: () => 0.999999, maxAttempts: 9, budgetMs: 1e9 }).stat(handleFor('pack', Uint8Array.of(1))), 'ERR_BACKEND');
    expect(time.sleeps.map((ms) => Math.round(ms))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    // Seeded jitter: every wait within [0, ceiling), and they are spread, not all at the top.
    for (const seed of [1, 2, 3, 4, 5]) {
      time = fakeTime();
      await expectCode(withRetry(mem, { ...time.options, random: uniform(seed), maxAttempts: 12, budgetMs: 1e9, baseDelayMs: 100, maxDelayMs: 2000 }).stat(handleFor('pack', Uint8Array.of(1))), 'ERR_BACKEND');
      expect(time.sleeps.length).toBe(11);
      time.sleeps.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThan(backoffCeiling(i + 1, 100, 2000));
      });
      expect(time.sleeps.some((ms, i) => ms < backoffCeiling(i + 1, 100, 2000) / 2)).toBe(true);
    }
    // The time budget ends the retries before maxAttempts does.
    time = fakeTime();
    mem = new MemoryBackend();
    const calls = counting(mem, () => {
      throw transient('stat');
    });
    await expectCode(withRetry(mem, { ...time.options, random: () => 0.999999, maxAttempts: 100, budgetMs: 5000 }).stat(handleFor('pack', Uint8Array.of(1))), 'ERR_BACKEND');
    // Waits 250 + 500 + 1000 + 2000 = 3750 ms; the next (4000) would pass 5000.
    expect(calls['stat']).toBe(5);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5000);
  });

  it('a listing that breaks part-way is restarted and yields each file once', async () => {
    const mem = new MemoryBackend();
    const files = Array.from({ length: 50 }, (_, i) => Uint8Array.of(i, i + 1));
    for (const d of files) await mem.save(handleFor('index', d), d);
    // The storage lists in a different order each time and breaks after 7, then 20, then 35 files.
    const breaks = [7, 20, 35];
    let listings = 0;
    const flaky: Backend = {
      location: mem.location,
      create: () => mem.create(),
      save: (h, d) => mem.save(h, d),
      load: (h, o, l) => mem.load(h, o, l),
      stat: (h) => mem.stat(h),
      remove: (h) => mem.remove(h),
      close: () => mem.close(),
      async *list(type: FileType): AsyncIterable<FileInfo> {
        const all = await collect(mem.list(type));
        const order = listings % 2 === 0 ? all : [...all].reverse();
        const stopAt = breaks[listings++];
        let n = 0;
        for (const fi of order) {
          if (stopAt !== undefined && n++ === stopAt) throw transient('list page');
          yield fi;
        }
      },
    };
    const events: RetryEvent[] = [];
    // maxAttempts 2: it only succeeds because each broken listing made progress.
    const b = withRetry(flaky, { ...fakeTime().options, maxAttempts: 2, onRetry: (e) => events.push(e) });
    const names = (await collect(b.list('index'))).map((f) => f.name);
    expect(names.length).toBe(50);
    expect(new Set(names).size).toBe(50);
    expect(listings).toBe(4);
    expect(events.map((e) => [e.operation, e.handle?.type])).toEqual([['list', 'index'], ['list', 'index'], ['list', 'index']]);
  });

  it('a load shorter than the range asked for is retried', async () => {
    const mem = new MemoryBackend();
    const data = new Uint8Array(1000).fill(5);
    const h = handleFor('pack', data);
    await mem.save(h, data);
    let short = 2;
    const lying: Backend = {
      location: mem.location,
      create: () => mem.create(),
      save: (x, d) => mem.save(x, d),
      load: async (x, o, l) => {
        const out = await mem.load(x, o, l);
        return short-- > 0 ? out.slice(0, out.length - 1) : out;
      },
      stat: (x) => mem.stat(x),
      remove: (x) => mem.remove(x),
      list: (t) => mem.list(t),
      close: () => mem.close(),
    };
    const events: RetryEvent[] = [];
    const got = await withRetry(lying, { ...fakeTime().options, onRetry: (e) => events.push(e) }).load(h, 100, 500);
    expectBytes(got, data.subarray(100, 600));
    expect(events.map((e) => e.error.message)).toEqual([expect.stringContaining('returned 499 bytes instead of 500'), expect.stringContaining('499 bytes')]);
  });

  it('a remove whose answer was lost is done when the retry finds the file gone', async () => {
    const mem = new MemoryBackend();
    const data = Uint8Array.of(9);
    const h = handleFor('lock', data);
    await mem.save(h, data);
    let lose = 1;
    const lossy: Backend = {
      location: mem.location,
      create: () => mem.create(),
      save: (x, d) => mem.save(x, d),
      load: (x, o, l) => mem.load(x, o, l),
      stat: (x) => mem.stat(x),
      list: (t) => mem.list(t),
      close: () => mem.close(),
      remove: async (x) => {
        await mem.remove(x);
        if (lose-- > 0) throw transient('connection reset after DELETE');
      },
    };
    const b = withRetry(lossy, fakeTime().options);
    await b.remove(h);
    expect(mem.get(h)).toBeUndefined();
    // Without an earlier failure, a missing file is still ERR_NOT_FOUND.
    await expectCode(b.remove(h), 'ERR_NOT_FOUND');
  });

  it('an aborted signal stops the wait with ERR_INTERRUPTED', async () => {
    const mem = new MemoryBackend();
    const calls = counting(mem, () => {
      throw transient('load');
    });
    const controller = new AbortController();
    // The real timer: a long wait that the abort must cut short.
    const b = withRetry(mem, { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.5, signal: controller.signal });
    const started = Date.now();
    const p = b.load(handleFor('pack', Uint8Array.of(1)));
    setTimeout(() => controller.abort(), 20);
    await expectCode(p, 'ERR_INTERRUPTED');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(calls['load']).toBe(1);
    // Already aborted: no retry starts.
    await expectCode(b.load(handleFor('pack', Uint8Array.of(1))), 'ERR_INTERRUPTED');
    expect(calls['load']).toBe(2);
  });

  it('refuses nonsense options', () => {
    const mem = new MemoryBackend();
    expect(() => withRetry(mem, { maxAttempts: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => withRetry(mem, { baseDelayMs: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(withRetry(mem).location).toBe('memory:');
  });
});
