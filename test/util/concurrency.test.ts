import { describe, expect, it } from 'vitest';
import { createLimiter, mapConcurrent } from '../../src/util/index.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

describe('createLimiter', () => {
  it('never runs more than n at once, even when callers arrive as slots free up, and runs all in order', async () => {
    const limit = createLimiter(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (i: number) => async (): Promise<number> => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
      return i * 2;
    };
    const first = Array.from({ length: 10 }, (_, i) => limit(task(i)));
    // More callers while the first ones finish: a freed slot must go to a waiter, not to them too.
    await tick();
    const later = Array.from({ length: 10 }, (_, i) => limit(task(10 + i)));
    expect(await Promise.all([...first, ...later])).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(started.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a failure is the caller\'s and frees the slot', async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await limit(async () => 'next')).toBe('next');
  });
});

describe('mapConcurrent', () => {
  it('keeps the input order', async () => {
    expect(await mapConcurrent([5, 1, 3], 2, async (x) => { await tick(); return x + 1; })).toEqual([6, 2, 4]);
  });
});
