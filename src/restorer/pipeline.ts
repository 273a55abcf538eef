import { Fifo } from '../util/index.js';

/**
 * A producer that hands items to `emit` as it finds them (the restorer's walk over the snapshot's
 * trees) and `fn` run on those items, at most `limit` at once, in the order they were emitted.
 * `emit` waits while `ahead` items are queued and not started yet, so the producer runs only a
 * bounded distance ahead of the work and what is held at once stays bounded, however many items
 * there are (a plan of every file first held ~70 MB for /usr/share's 49k files).
 *
 * Failures end it as mapConcurrent's do: after the first failure of `fn` no new call starts,
 * `emit` throws that failure (so the producer stops), the running calls finish, then it is
 * thrown. A failure of the producer stops new calls the same way and is thrown once the running
 * ones finished.
 */
export async function pipeline<T>(produce: (emit: (item: T) => Promise<void>) => Promise<void>, limit: number, ahead: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = new Fifo<T>();
  let running = 0;
  let failed = false;
  let failure: unknown;
  /** Wakes the producer waiting for room in the queue. */
  let room: (() => void) | undefined;
  /** Wakes run() waiting for the running calls to finish. */
  let idle: (() => void) | undefined;

  const fail = (e: unknown): void => {
    if (!failed) failure = e;
    failed = true;
  };
  const wake = (): void => {
    const r = room;
    room = undefined;
    r?.();
  };
  const start = (): void => {
    while (!failed && running < limit && queue.length > 0) {
      const item = queue.shift() as T; // not kept once started
      running++;
      void fn(item).then(finished, (e: unknown) => {
        fail(e);
        finished();
      });
    }
    if (failed || queue.length < ahead) wake();
  };
  const finished = (): void => {
    running--;
    start();
    if (running === 0) {
      const i = idle;
      idle = undefined;
      i?.();
    }
  };
  const emit = async (item: T): Promise<void> => {
    if (failed) throw failure;
    queue.push(item);
    start();
    while (!failed && queue.length >= ahead) await new Promise<void>((go) => (room = go));
    if (failed) throw failure;
  };

  try {
    await produce(emit);
  } catch (e) {
    fail(e);
  }
  // What was emitted (all of it, unless something failed) runs to its end.
  start();
  while (running > 0 || (!failed && queue.length > 0)) await new Promise<void>((go) => (idle = go));
  if (failed) throw failure;
}
