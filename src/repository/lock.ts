/**
 * Repository locks, compatible with restic's: `locks/<id>` files holding
 * `{"time","exclusive","hostname","username","pid","uid"?,"gid"?}` (encrypted like other unpacked
 * files). An exclusive lock conflicts with every lock; a shared lock conflicts only with an
 * exclusive one. Taking a lock: look for conflicting locks, write ours, wait 200 ms, look again
 * (two processes racing both see each other), and on conflict remove ours and fail. A held lock is
 * refreshed every 5 minutes (new file, then the old one removed), so others can tell it is live.
 * Like restic 0.14, a stale lock (older than 30 minutes, or from a dead process on this host) still
 * blocks: the message says how to remove it.
 */
import { CairnError, messageOf } from '../errors.js';
import type { Id } from '../model/index.js';
import { formatTime, nowTime, parseTime } from '../tree/index.js';
import { currentUser } from './keys.js';

export interface LockInfo {
  readonly time: string;
  readonly exclusive: boolean;
  readonly hostname: string;
  readonly username: string;
  readonly pid: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** The repository operations locking needs. */
export interface LockStore {
  list(type: 'lock'): AsyncIterable<Id>;
  saveUnpacked(type: 'lock', json: Uint8Array): Promise<Id>;
  loadUnpacked(type: 'lock', id: Id): Promise<Uint8Array>;
  readonly backend: { remove(h: { type: 'lock'; name: string }): Promise<void>; readonly location: string };
}

export interface RepoLock {
  readonly id: Id;
  readonly exclusive: boolean;
  /** Removes the lock (and stops refreshing it). Safe to call twice. */
  release(): Promise<void>;
}

export const LOCK_WAIT_MS = 200;
export const LOCK_REFRESH_MS = 5 * 60 * 1000;
export const LOCK_STALE_MS = 30 * 60 * 1000;

export function encodeLock(l: LockInfo): Uint8Array {
  const doc: Record<string, unknown> = { time: l.time, exclusive: l.exclusive, hostname: l.hostname, username: l.username, pid: l.pid };
  if (l.uid) doc['uid'] = l.uid;
  if (l.gid) doc['gid'] = l.gid;
  return new TextEncoder().encode(JSON.stringify(doc));
}

export function decodeLock(bytes: Uint8Array, what: string): LockInfo {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (e) {
    throw new CairnError('ERR_CORRUPT', `${what}: not valid JSON`, { cause: e });
  }
  if (typeof d !== 'object' || d === null || typeof d['time'] !== 'string' || typeof d['exclusive'] !== 'boolean') {
    throw new CairnError('ERR_CORRUPT', `${what}: not a lock (time and exclusive are required)`);
  }
  return {
    time: d['time'],
    exclusive: d['exclusive'],
    hostname: typeof d['hostname'] === 'string' ? d['hostname'] : '',
    username: typeof d['username'] === 'string' ? d['username'] : '',
    pid: typeof d['pid'] === 'number' ? d['pid'] : 0,
    ...(typeof d['uid'] === 'number' ? { uid: d['uid'] } : {}),
    ...(typeof d['gid'] === 'number' ? { gid: d['gid'] } : {}),
  };
}

/** True when a lock looks abandoned: older than 30 minutes, or from a dead process on this host. */
export function isStale(l: LockInfo, host: string, now = Date.now()): boolean {
  const t = parseTime(l.time);
  if (now - (t.sec * 1000 + t.nsec / 1e6) > LOCK_STALE_MS) return true;
  if (l.hostname !== host) return false;
  try {
    process.kill(l.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function describe(id: Id, l: LockInfo, host: string): string {
  const stale = isStale(l, host);
  return `${l.exclusive ? 'an exclusive' : 'a'} lock ${id.slice(0, 8)} held by PID ${l.pid} on ${l.hostname || '?'} by ${l.username || '?'} since ${l.time}${stale ? ' (stale: if no cairn or restic is still running there, remove it with `restic unlock`)' : ''}`;
}

async function conflicts(store: LockStore, own: Id | undefined, exclusive: boolean, host: string): Promise<string[]> {
  const found: string[] = [];
  for await (const id of store.list('lock')) {
    if (id === own) continue;
    let l: LockInfo;
    try {
      l = decodeLock(await store.loadUnpacked('lock', id), `locks/${id}`);
    } catch (e) {
      // restic 0.14 skips locks it cannot read; a vanished lock was just released.
      void messageOf(e);
      continue;
    }
    if (exclusive || l.exclusive) found.push(describe(id, l, host));
  }
  return found;
}

export async function lockRepository(store: LockStore, options: { readonly exclusive: boolean }): Promise<RepoLock> {
  const user = currentUser();
  const { exclusive } = options;
  const info = (): LockInfo => ({ time: formatTime(nowTime()), exclusive, hostname: user.hostname, username: user.username, pid: process.pid, uid: user.uid, gid: user.gid });
  const fail = (found: string[]): CairnError =>
    new CairnError('ERR_REPO_LOCKED', `the repository at ${store.backend.location} is locked: ${found.join('; ')}`, { data: { locks: found.length } });

  const before = await conflicts(store, undefined, exclusive, user.hostname);
  if (before.length > 0) throw fail(before);
  let id = await store.saveUnpacked('lock', encodeLock(info()));
  await new Promise((r) => setTimeout(r, LOCK_WAIT_MS));
  const after = await conflicts(store, id, exclusive, user.hostname);
  if (after.length > 0) {
    await store.backend.remove({ type: 'lock', name: id }).catch(() => undefined);
    throw fail(after);
  }

  let released = false;
  let refreshing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    refreshing = (async () => {
      const fresh = await store.saveUnpacked('lock', encodeLock(info()));
      const old = id;
      id = fresh;
      await store.backend.remove({ type: 'lock', name: old }).catch(() => undefined);
    })().catch(() => undefined);
  }, LOCK_REFRESH_MS);
  timer.unref();
  return {
    get id() {
      return id;
    },
    exclusive,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await refreshing;
      await store.backend.remove({ type: 'lock', name: id }).catch((e: unknown) => {
        if (!(e instanceof CairnError && e.code === 'ERR_NOT_FOUND')) throw e;
      });
    },
  };
}
