/**
 * Repository locks, compatible with restic's: `locks/<id>` files holding
 * `{"time","exclusive","hostname","username","pid","uid"?,"gid"?}` (encrypted like other unpacked
 * files). An exclusive lock conflicts with every lock; a shared lock conflicts only with an
 * exclusive one. Taking a lock: look for conflicting locks, write ours, wait for the storage to
 * settle, look again (two processes racing both see each other), and on conflict remove ours and
 * fail with ERR_REPO_LOCKED naming each holder (PID, host, user, age). The wait is restic's 200 ms
 * where listings may lag behind writes, none on a local file system (Backend.lockSettleMs): each
 * side looks after its own lock file is in place, so of two racing processes the later one to
 * write sees the other's lock in its second look.
 *
 * A held lock is refreshed every 5 minutes (a new file, then the old one removed), so others can
 * tell it is live. A refresh that fails, or that finds our old lock file already gone (someone
 * removed it: `unlock --remove-all`), is reported through `onWarning` — never dropped — and makes
 * `check()` fail, so an operation that must not run unlocked (prune) stops before its next
 * destructive step.
 *
 * Like restic 0.14, a stale lock (older than 30 minutes, or from a dead process on this host) still
 * blocks: only `cairn unlock` (or `restic unlock`) removes it, because a process on another
 * machine (or in another PID namespace with the same host name) may look dead from here.
 *
 * Like restic >= 0.15, a lock file that cannot be loaded or decoded (it fails its hash or MAC
 * check, or is not a lock) blocks every lock, shared or exclusive, in both looks: nobody can tell
 * whether the process that wrote it is still working (it could be a prune). Taking a lock then
 * fails with ERR_LOCK_UNREADABLE naming the file; only `unlock --remove-all` removes it. A lock
 * file the storage cannot read (ERR_BACKEND) blocks too, with that error. Two exceptions, as in
 * restic: a file that vanishes between the listing and its loading was released (not an error),
 * and an empty (0-byte) file is ignored, silently (restic 0.15.1: some backends leave one behind
 * when an upload is interrupted; it cannot hold a lock).
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

/**
 * The repository operations locking needs. Lock files are listed through the backend, which gives
 * their sizes (an empty lock file is ignored, restic's rule).
 */
export interface LockStore {
  saveUnpacked(type: 'lock', json: Uint8Array): Promise<Id>;
  loadUnpacked(type: 'lock', id: Id): Promise<Uint8Array>;
  readonly backend: {
    list(type: 'lock'): AsyncIterable<{ readonly name: string; readonly size: number }>;
    remove(h: { type: 'lock'; name: string }): Promise<void>;
    readonly location: string;
    /** The wait before the second look (see Backend.lockSettleMs). @default LOCK_WAIT_MS */
    lockSettleMs?(): Promise<number>;
  };
}

/** Something that went wrong with a held lock, reported while the operation goes on. */
export interface LockWarning {
  /**
   * `LOCK_REFRESH_FAILED`: the new lock file could not be written, or the old one not removed.
   * `LOCK_REMOVED`: the old lock file had vanished when the refresh went to remove it.
   * `LOCK_RELEASE_FAILED`: (reported by callers) the lock could not be removed after a failure.
   */
  readonly code: 'LOCK_REFRESH_FAILED' | 'LOCK_REMOVED' | 'LOCK_RELEASE_FAILED';
  readonly message: string;
  readonly cause?: unknown;
}

export interface LockOptions {
  readonly exclusive: boolean;
  /**
   * Problems while the lock is held (a failed refresh). @default process.emitWarning, so that a
   * caller that passes nothing still sees them on stderr
   */
  readonly onWarning?: ((w: LockWarning) => void) | undefined;
  /** Refresh interval in ms; tests shorten it. @default LOCK_REFRESH_MS (5 minutes) */
  readonly refreshMs?: number;
  /**
   * Return as soon as our lock file is written, instead of after the 200 ms wait and the second
   * look for conflicting locks: that look then runs meanwhile and settles `RepoLock.verified`
   * (rejected: a conflict, and our lock file was withdrawn). For operations that only read until
   * they commit something, and that wait for `verified` before their first write (see withLock).
   * @default false
   */
  readonly overlap?: boolean;
}

export interface RepoLock {
  /** The current lock file (it changes at each refresh). */
  readonly id: Id;
  readonly exclusive: boolean;
  /**
   * Throws ERR_LOCK_LOST when the lock cannot be trusted any more: its file is gone, a refresh
   * found it removed, or no refresh succeeded for so long that others may think it stale. Call it
   * before each step that would be unsafe without the lock.
   */
  check(): Promise<void>;
  /** Removes the lock (and stops refreshing it). Safe to call twice. */
  release(): Promise<void>;
  /**
   * Settles once the second look for conflicting locks is done: resolved, the lock holds;
   * rejected (ERR_REPO_LOCKED…), the lock file was withdrawn. Already resolved unless taken with
   * `overlap`.
   */
  readonly verified: Promise<void>;
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

/** Milliseconds since the lock's time (negative when its clock is ahead of ours). */
export function lockAge(l: LockInfo, now = Date.now()): number {
  const t = parseTime(l.time, 'lock time');
  return now - (t.sec * 1000 + t.nsec / 1e6);
}

/** True when a process with this PID exists on this machine (EPERM: it exists, not ours). */
function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * True when a lock looks abandoned (restic's rule): older than 30 minutes, or made on this host
 * by a process that no longer exists. A lock from another host is stale only by age.
 */
export function isStale(l: LockInfo, host: string, now = Date.now()): boolean {
  let age: number;
  try {
    age = lockAge(l, now);
  } catch {
    return false; // an unreadable time: restic would not have loaded it; do not call it stale
  }
  if (age > LOCK_STALE_MS) return true;
  if (l.hostname !== host) return false;
  return !processExists(l.pid);
}

/** An age as Go prints durations, to the second: 45s, 3m12s, 2h0m5s. */
export function formatAge(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** One lock file as found in the repository. */
export interface LockEntry {
  readonly id: Id;
  /** Undefined when the file is empty, or could not be loaded or decoded (`error` says why). */
  readonly lock?: LockInfo;
  readonly error?: string;
  /**
   * Why `lock` is undefined: `empty`, a 0-byte file (ignored by every lock, restic's rule);
   * `damaged`, it fails its hash or MAC check or does not decrypt; `not-a-lock`, it decrypts but is
   * not a lock (bad JSON, no time or exclusive); `unreadable`, the storage failed to read it.
   */
  readonly problem?: 'empty' | 'damaged' | 'not-a-lock' | 'unreadable';
  /** The error that made it unusable (to rethrow a storage failure as it is). */
  readonly cause?: unknown;
  readonly stale: boolean;
  /** Milliseconds since the lock's time; undefined when unknown. */
  readonly ageMs?: number;
}

/**
 * Every lock file, loaded and judged (stale or not). A file that vanishes between the listing and
 * its loading was released by its owner and is skipped; one that cannot be used is listed with a
 * `problem` (an empty one is not loaded at all).
 */
export async function listLocks(store: LockStore, options: { readonly host?: string; readonly now?: number; readonly except?: Id } = {}): Promise<LockEntry[]> {
  const host = options.host ?? currentUser().hostname;
  const now = options.now ?? Date.now();
  const out: LockEntry[] = [];
  for await (const f of store.backend.list('lock')) {
    const id = f.name as Id;
    if (id === options.except) continue;
    if (f.size === 0) {
      out.push({ id, problem: 'empty', error: '0 bytes', stale: false });
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await store.loadUnpacked('lock', id);
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_NOT_FOUND') continue; // released meanwhile
      const problem = e instanceof CairnError && e.code === 'ERR_BACKEND' ? 'unreadable' : 'damaged';
      out.push({ id, problem, error: messageOf(e), cause: e, stale: false });
      continue;
    }
    let lock: LockInfo;
    try {
      lock = decodeLock(bytes, `locks/${id}`);
    } catch (e) {
      out.push({ id, problem: 'not-a-lock', error: messageOf(e), cause: e, stale: false });
      continue;
    }
    let ageMs: number | undefined;
    try {
      ageMs = lockAge(lock, now);
    } catch {
      ageMs = undefined;
    }
    out.push({ id, lock, stale: isStale(lock, host, now), ...(ageMs === undefined ? {} : { ageMs }) });
  }
  return out;
}

/** True when the entry is a lock file that blocks every lock because it cannot be read (see listLocks). */
export function isUnusableLock(e: LockEntry): boolean {
  return e.lock === undefined && e.problem !== 'empty';
}

const PROBLEM_TEXT = {
  empty: 'empty lock file',
  damaged: 'damaged lock file',
  'not-a-lock': 'lock file that is not a lock',
  unreadable: 'lock file that cannot be read',
} as const;

/** "PID 1234 on host web1 by ann, since 3m12s (exclusive lock 1a2b3c4d)": for messages. */
export function describeLock(e: LockEntry): string {
  if (e.lock === undefined) {
    const why = (e.error ?? 'unknown error').replace(`locks/${e.id}: `, '');
    return `${PROBLEM_TEXT[e.problem ?? 'damaged']} locks/${e.id} (${why})`;
  }
  const l = e.lock;
  const age = e.ageMs === undefined ? `at ${l.time}` : `since ${formatAge(e.ageMs)}`;
  return `PID ${l.pid} on host ${l.hostname || '?'} by ${l.username || '?'}, ${age} (${l.exclusive ? 'exclusive' : 'shared'} lock ${e.id.slice(0, 8)})`;
}

function lockJson(e: LockEntry): Record<string, unknown> {
  return {
    id: e.id,
    ...(e.lock === undefined ? { problem: e.problem ?? 'damaged', error: e.error ?? '' } : { exclusive: e.lock.exclusive, hostname: e.lock.hostname, username: e.lock.username, pid: e.lock.pid, time: e.lock.time }),
    ...(e.ageMs === undefined ? {} : { age_seconds: Math.floor(e.ageMs / 1000) }),
    stale: e.stale,
  };
}

const removeAllAdvice = (one: boolean): string =>
  `if no cairn or restic process is using this repository, remove ${one ? 'it' : 'them'} with \`cairn unlock --remove-all\` (or \`restic unlock --remove-all\`; both remove every lock file, live ones too), then try again`;

/** Conflicting locks (and, alongside them, unusable lock files): ERR_REPO_LOCKED, exit 11. */
function lockedError(location: string, exclusive: boolean, found: readonly LockEntry[], unusable: readonly LockEntry[]): CairnError {
  const stale = found.some((e) => e.stale);
  const holders = found.map((e) => describeLock(e) + (e.stale ? ' [stale]' : '')).join('; ');
  let advice = stale
    ? 'a stale lock is left by a process that died or stopped refreshing it: if no cairn or restic is still working on this repository, remove it with `cairn unlock` (or `restic unlock`), then try again'
    : 'wait for that operation to finish, then try again';
  if (unusable.length > 0) {
    const one = unusable.length === 1;
    advice += `; besides, ${unusable.map(describeLock).join('; ')} ${one ? 'blocks' : 'block'} every lock until removed: once nothing runs, \`cairn unlock --remove-all\` (or \`restic unlock --remove-all\`) removes ${one ? 'it' : 'them'}`;
  }
  return new CairnError(
    'ERR_REPO_LOCKED',
    `the repository at ${location} is locked${exclusive ? '' : ' exclusively'}: ${holders}; ${advice}`,
    { data: { locks: [...found, ...unusable].map(lockJson) } },
  );
}

/**
 * Lock files that cannot be read, and no conflicting lock: ERR_LOCK_UNREADABLE naming each file,
 * or, when the storage failed to read one, that failure (ERR_BACKEND, `retryable` kept) naming it.
 */
function unusableError(location: string, unusable: readonly LockEntry[]): CairnError {
  const failed = unusable.find((e) => e.problem === 'unreadable');
  if (failed !== undefined && failed.cause instanceof CairnError) {
    const c = failed.cause;
    return new CairnError(c.code, `cannot lock the repository at ${location}: the lock file locks/${failed.id} cannot be read (${c.message}), so cairn cannot tell whether another process holds the repository; fix the storage problem, then try again`, {
      data: { ...c.data, locks: unusable.map(lockJson) },
      cause: c,
      retryable: c.retryable,
    });
  }
  const files = unusable.map(describeLock).join('; ');
  const one = unusable.length === 1;
  return new CairnError(
    'ERR_LOCK_UNREADABLE',
    `cannot lock the repository at ${location}: ${files}; cairn cannot tell whether the process that wrote ${one ? 'it' : 'them'} is still working on the repository (it could be a prune), so no command may lock it while ${one ? 'it is' : 'they are'} there; ${removeAllAdvice(one)}`,
    { data: { locks: unusable.map(lockJson) }, cause: unusable[0]?.cause },
  );
}

/**
 * The second half of both looks: throws when taking a lock (`exclusive` or shared) must fail —
 * on a conflicting lock (ERR_REPO_LOCKED), or on a lock file that cannot be read, whose owner and
 * kind nobody can know (ERR_LOCK_UNREADABLE; restic >= 0.15 refuses too). Empty lock files and
 * files released while we looked do not count (see listLocks).
 */
async function checkConflicts(store: LockStore, own: Id | undefined, exclusive: boolean, host: string): Promise<void> {
  const all = await listLocks(store, { host, ...(own === undefined ? {} : { except: own }) });
  const found = all.filter((e) => e.lock !== undefined && (exclusive || e.lock.exclusive));
  const unusable = all.filter(isUnusableLock);
  if (found.length > 0) throw lockedError(store.backend.location, exclusive, found, unusable);
  if (unusable.length > 0) throw unusableError(store.backend.location, unusable);
}

function defaultWarning(w: LockWarning): void {
  process.emitWarning(w.message, { code: `CAIRN_${w.code}` });
}

export async function lockRepository(store: LockStore, options: LockOptions): Promise<RepoLock> {
  const user = currentUser();
  const { exclusive } = options;
  const warn = options.onWarning ?? defaultWarning;
  const refreshMs = options.refreshMs ?? LOCK_REFRESH_MS;
  const info = (): LockInfo => ({ time: formatTime(nowTime()), exclusive, hostname: user.hostname, username: user.username, pid: process.pid, uid: user.uid, gid: user.gid });

  await checkConflicts(store, undefined, exclusive, user.hostname);
  let id = await store.saveUnpacked('lock', encodeLock(info()));
  /** Removes our lock file after a failed attempt; says so when even that fails. */
  const withdraw = async (e: CairnError | unknown): Promise<never> => {
    try {
      await store.backend.remove({ type: 'lock', name: id });
    } catch (removal) {
      const note = `; also, this attempt's own lock file ${id} could not be removed (${messageOf(removal)}): remove it with \`cairn unlock\``;
      if (e instanceof CairnError) throw new CairnError(e.code, e.message + note, { data: e.data, cause: e });
      throw new CairnError('ERR_BACKEND', messageOf(e) + note, { cause: e });
    }
    throw e;
  };
  let released = false;
  const verify = async (): Promise<void> => {
    const settle = (await store.backend.lockSettleMs?.()) ?? LOCK_WAIT_MS;
    if (settle > 0) await new Promise((r) => setTimeout(r, settle));
    try {
      await checkConflicts(store, id, exclusive, user.hostname);
    } catch (e) {
      released = true;
      return withdraw(e);
    }
  };
  const verified = verify();
  if (options.overlap === true) verified.catch(() => undefined); // the caller awaits it
  else await verified;

  let lastRefresh = Date.now();
  let lost: string | undefined;
  let refreshing: Promise<void> = Promise.resolve();
  const refresh = async (): Promise<void> => {
    let fresh: Id;
    try {
      fresh = await store.saveUnpacked('lock', encodeLock(info()));
    } catch (e) {
      const silentFor = formatAge(Date.now() - lastRefresh);
      warn({
        code: 'LOCK_REFRESH_FAILED',
        message: `could not refresh the lock ${id.slice(0, 8)} on ${store.backend.location} (last refreshed ${silentFor} ago): ${messageOf(e)}; after 30 minutes without a refresh other processes may treat the lock as stale`,
        cause: e,
      });
      return;
    }
    const old = id;
    id = fresh;
    lastRefresh = Date.now();
    try {
      await store.backend.remove({ type: 'lock', name: old });
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_NOT_FOUND') {
        lost = `the lock file ${old.slice(0, 8)} was removed by another process (\`unlock --remove-all\`?) while this operation held it`;
        warn({ code: 'LOCK_REMOVED', message: `${lost}; a new lock file ${fresh.slice(0, 8)} was written, but others may have started in between`, cause: e });
      } else {
        warn({ code: 'LOCK_REFRESH_FAILED', message: `refreshed the lock (new file ${fresh.slice(0, 8)}) but could not remove the old file ${old.slice(0, 8)}: ${messageOf(e)}; remove it with \`cairn unlock\` once this operation is done`, cause: e });
      }
    }
  };
  const timer = setInterval(() => {
    if (released) return;
    refreshing = refreshing.then(refresh).catch((e: unknown) => {
      // Only a throwing onWarning gets here; the refresh itself reports through it.
      defaultWarning({ code: 'LOCK_REFRESH_FAILED', message: `lock refresh warning handler failed: ${messageOf(e)}`, cause: e });
    });
  }, refreshMs);
  timer.unref();
  return {
    get id() {
      return id;
    },
    exclusive,
    verified,
    async check() {
      if (released) throw new CairnError('ERR_INTERNAL', 'the lock was checked after it was released');
      await refreshing;
      const lostReason = lost ?? (Date.now() - lastRefresh > LOCK_STALE_MS - refreshMs ? `the lock was last refreshed ${formatAge(Date.now() - lastRefresh)} ago, so other processes may treat it as stale` : undefined);
      let reason = lostReason;
      if (reason === undefined) {
        try {
          await store.loadUnpacked('lock', id);
        } catch (e) {
          if (!(e instanceof CairnError && e.code === 'ERR_NOT_FOUND')) throw e;
          reason = `the lock file ${id.slice(0, 8)} was removed by another process (\`unlock --remove-all\`?)`;
        }
      }
      if (reason !== undefined) {
        throw new CairnError('ERR_LOCK_LOST', `the lock on ${store.backend.location} cannot be trusted any more: ${reason}; stopped before the next change (the repository is consistent); check that no other operation runs, then run the command again`, { data: { lock: id } });
      }
    },
    async release() {
      clearInterval(timer);
      if (released) return;
      released = true;
      await refreshing;
      await store.backend.remove({ type: 'lock', name: id }).catch((e: unknown) => {
        if (!(e instanceof CairnError && e.code === 'ERR_NOT_FOUND')) throw e;
      });
    },
  };
}

/** What `removeLocks` did. */
export interface UnlockResult {
  readonly removed: readonly LockEntry[];
  /** Locks left in place (live ones, and unreadable or empty files unless `all`). */
  readonly kept: readonly LockEntry[];
}

/**
 * `unlock`: removes stale locks (restic's rule, see isStale), or with `all` every lock file,
 * readable or not. Locks that are not stale, and (without `all`) unreadable and empty files, are
 * kept: whether an unreadable lock is stale cannot be known (restic's `unlock` keeps them too).
 */
export async function removeLocks(store: LockStore, options: { readonly all?: boolean; readonly host?: string; readonly now?: number } = {}): Promise<UnlockResult> {
  const entries = await listLocks(store, options);
  const removed: LockEntry[] = [];
  const kept: LockEntry[] = [];
  for (const e of entries) {
    if (options.all === true || e.stale) {
      try {
        await store.backend.remove({ type: 'lock', name: e.id });
      } catch (err) {
        if (!(err instanceof CairnError && err.code === 'ERR_NOT_FOUND')) throw err;
        continue; // released by its owner meanwhile: nothing left to remove
      }
      removed.push(e);
    } else {
      kept.push(e);
    }
  }
  return { removed, kept };
}

/** How an operation locks the repository for its duration (see {@link withLock}). */
export interface LockUse extends LockOptions {
  /** A lock the caller already holds: used as is, neither taken nor released here. */
  readonly held?: RepoLock | undefined;
  /** False: run without a lock (the caller guarantees it is safe). @default true */
  readonly take?: boolean;
}

/**
 * Runs `fn` under a lock of the repository, released on every path out. When `fn` fails, that
 * failure is what is thrown; a lock that then cannot be removed is reported as a
 * LOCK_RELEASE_FAILED warning (it is left stale: `cairn unlock` removes it).
 *
 * With `overlap`, `fn` starts as soon as the lock file is written, while the lock protocol's
 * 200 ms wait and second look run; the store's writes wait for that look (`gateWrites`), so
 * nothing is written under a lock that turns out to conflict (or finds an unreadable lock file),
 * and that is what is thrown. The gate then stays closed until the store is next locked, so a
 * write `fn` left running in the background fails too instead of landing afterwards.
 */
export async function withLock<T>(store: LockStore & { gateWrites?(gate: Promise<void>): void }, use: LockUse, fn: (lock: RepoLock | undefined) => Promise<T>): Promise<T> {
  if (use.held !== undefined) return fn(use.held);
  if (use.take === false) {
    store.gateWrites?.(Promise.resolve()); // the caller vouches for safety: no gate a refused lock left closed
    return fn(undefined);
  }
  const overlap = use.overlap === true && store.gateWrites !== undefined;
  const lock = await lockRepository(store, { ...use, overlap });
  // A new lock holds (or, with overlap, is being checked): the gate a refused lock left closed
  // (below) opens again, or waits for this lock's check.
  store.gateWrites?.(overlap ? lock.verified : Promise.resolve());
  const [verified, ran] = await Promise.allSettled([lock.verified, fn(lock)]);
  if (verified.status === 'rejected') {
    // The gate stays closed (rejected): a write `fn` left running in the background (a packer's
    // last pack) fails with the lock error instead of landing in a repository we do not hold.
    throw verified.reason; // our lock file is withdrawn already
  }
  if (overlap) store.gateWrites!(Promise.resolve());
  if (ran.status === 'rejected') {
    await lock.release().catch((r: unknown) => {
      (use.onWarning ?? defaultWarning)({ code: 'LOCK_RELEASE_FAILED', message: `could not remove the lock ${lock.id.slice(0, 8)} after the failure: ${messageOf(r)}; remove it with \`cairn unlock\``, cause: r });
    });
    throw ran.reason;
  }
  await lock.release();
  return ran.value;
}
