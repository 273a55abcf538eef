/**
 * A preload for the built CLI (`node --import …/crash-hook.mjs dist/cli/cairn.js …`) that makes
 * deterministic SIGKILL points out of the file operations a command does in a repository (and in a
 * restore target), without a hook in the product: it wraps `fs.promises` open, rename and unlink
 * and `FileHandle#write` on the main thread, and `fs.openSync`/`fs.writeSync` on worker threads
 * (the blob workers write their packs in progress to `data/.tmp-pack-…` themselves), and updates
 * the ESM named exports (`syncBuiltinESMExports`), so modules that
 * `import { rename } from 'node:fs/promises'` call the wrappers too. Workers get the hook by a
 * wrapped `Worker` constructor (Node does not run `--import` modules in workers).
 *
 * Each operation on a path under CAIRN_CRASH_REPO is an event `<op>:<dir>` — `create:data` (a file
 * opened for writing in data/), `write:index`, `rename:snapshots`, `unlink:locks`, and `spill:data`
 * (a worker's write to its pack in progress); under CAIRN_CRASH_TARGET it is `<op>:target`.
 * Directory creation, stat and reads are not events.
 *
 * - CAIRN_CRASH_TRACE=FILE: appends `+<event> <epoch ms>` when an event begins and `<event> <epoch
 *   ms>` when it completed. (Operations run concurrently: one that began may have taken effect on
 *   disk when a kill comes although its completion was not seen yet.)
 * - CAIRN_CRASH_AT=`<event>#<n>:<phase>`: SIGKILLs the process itself at the n-th such event —
 *   `before` it, `after` it completed, or (writes only) `mid`: after half of the bytes were
 *   written. `process.kill(process.pid, 'SIGKILL')` ends the process as an outside SIGKILL would:
 *   no handler, no cleanup, nothing flushed. Worker events are numbered across all workers in the
 *   order they reach the trace file (so they need CAIRN_CRASH_TRACE). `<event>#<n>:after+<ms>ms`
 *   kills that many milliseconds after the event instead (a timed kill measured from a known
 *   moment, e.g. the lock being taken); a process that ends first ends normally.
 * - CAIRN_CRASH_SIGNAL=SIGSTOP: stop there instead (the test continues the process with SIGCONT),
 *   to hold the command at a known point while another one runs (`before` or `after`; `mid` is for
 *   SIGKILL only).
 */
import fs, { appendFileSync, readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import wt, { isMainThread, threadId } from 'node:worker_threads';

const repo = process.env.CAIRN_CRASH_REPO;
const target = process.env.CAIRN_CRASH_TARGET;
const trace = process.env.CAIRN_CRASH_TRACE;
const at = /^([a-z]+:[a-z-]+)#(\d+):(before|after|mid)(?:\+(\d+)ms)?$/.exec(process.env.CAIRN_CRASH_AT ?? '');
/** `…:after+<ms>ms`: the kill comes that long after the event (main thread only), if still running. */
const delayMs = at?.[4] === undefined ? undefined : Number(at[4]);
const signal = process.env.CAIRN_CRASH_SIGNAL === 'SIGSTOP' ? 'SIGSTOP' : 'SIGKILL';

const pathText = (p) => (typeof p === 'string' ? p : Buffer.isBuffer(p) ? p.toString('utf8') : p instanceof URL ? p.pathname : String(p));
const under = (root, p) => {
  if (root === undefined) return undefined;
  const r = relative(root, pathText(p));
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : undefined;
};
/** The event for an operation on path `p`, or undefined when it is outside both roots. */
const eventOf = (op, p) => {
  const r = under(repo, p);
  if (r !== undefined) return `${op}:${r.split(sep)[0]}`;
  return under(target, p) !== undefined ? `${op}:target` : undefined;
};
const note = (line) => {
  if (trace !== undefined) appendFileSync(trace, `${line} ${(performance.timeOrigin + performance.now()).toFixed(1)}\n`);
};
const die = () => {
  process.kill(process.pid, signal);
};
const writing = (flags) => (typeof flags === 'number' ? (flags & 3) !== 0 : typeof flags === 'string' && /[wa+]/.test(flags));

if (repo !== undefined || target !== undefined) {
  if (isMainThread) await hookMainThread();
  else hookWorker();
}

async function hookMainThread() {
  const counts = new Map();
  /** Counts the event; returns the phase to kill at when this occurrence is the chosen one. */
  const arm = (event) => {
    note(`+${event}`);
    const n = (counts.get(event) ?? 0) + 1;
    counts.set(event, n);
    return at !== null && at[1] === event && Number(at[2]) === n ? at[3] : undefined;
  };
  const wrap = async (event, call) => {
    if (event === undefined) return call();
    const phase = arm(event);
    if (phase === 'before') die();
    const result = await call();
    note(event);
    if (phase === 'after') {
      if (delayMs === undefined) die();
      else setTimeout(die, delayMs).unref();
    }
    return result;
  };

  const { open, rename, unlink } = fsp;
  const paths = new WeakMap();
  fsp.open = async (p, flags, mode) => {
    // Opening for writing is an event (`create`); opening to read is not.
    const w = writing(flags);
    const fh = await wrap(w ? eventOf('create', p) : undefined, () => open(p, flags, mode));
    if (w) paths.set(fh, p);
    return fh;
  };
  fsp.rename = (from, to) => wrap(eventOf('rename', to), () => rename(from, to));
  fsp.unlink = (p) => wrap(eventOf('unlink', p), () => unlink(p));

  await hookFileHandleWrite(paths, arm);

  // Workers load this hook first, then their own module.
  const Base = wt.Worker;
  const self = import.meta.url;
  wt.Worker = class HookedWorker extends Base {
    constructor(filename, options = {}) {
      if (options.eval === true) {
        super(filename, options);
        return;
      }
      const url = filename instanceof URL ? filename.href : pathToFileURL(String(filename)).href;
      super(`import(${JSON.stringify(self)}).then(() => import(${JSON.stringify(url)}))`, { ...options, eval: true });
    }
  };
  syncBuiltinESMExports();
}

/** Wraps FileHandle#write for handles opened (for writing) through the hooked `open`. */
async function hookFileHandleWrite(paths, arm) {
  // The FileHandle prototype, from a handle opened once.
  const h = await fsp.open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(h);
  await h.close();
  const write = proto.write;
  proto.write = async function (buffer, offset, length, position) {
    const p = paths.get(this);
    const event = p === undefined ? undefined : eventOf('write', p);
    if (event === undefined) return write.apply(this, arguments);
    const phase = arm(event);
    if (phase === 'before') die();
    if (phase === 'mid' && ArrayBuffer.isView(buffer) && typeof offset === 'number') {
      const len = typeof length === 'number' ? length : buffer.byteLength - offset;
      await write.call(this, buffer, offset, Math.max(1, Math.floor(len / 2)), position);
      die();
    }
    const result = await write.apply(this, arguments);
    note(event);
    if (phase === 'after') die();
    return result;
  };
}

function hookWorker() {
  const { openSync, writeSync, closeSync } = fs;
  const fds = new Map();
  let seq = 0;
  /** The global number of this worker event among all workers' (its line's place in the trace). */
  const armGlobal = (event) => {
    const token = `${event}@${threadId}.${++seq}`;
    note(`+${token}`);
    if (at === null || at[1] !== event || trace === undefined) return undefined;
    const lines = readFileSync(trace, 'utf8').split('\n').filter((l) => l.startsWith(`+${event}@`));
    const n = lines.findIndex((l) => l.startsWith(`+${token} `)) + 1;
    return n === Number(at[2]) ? at[3] : undefined;
  };
  fs.openSync = function (p, flags, mode) {
    const fd = openSync.apply(this, arguments);
    if (writing(flags)) {
      const event = eventOf('spill', p);
      if (event !== undefined) fds.set(fd, event);
    }
    return fd;
  };
  fs.closeSync = function (fd) {
    fds.delete(fd);
    return closeSync.apply(this, arguments);
  };
  fs.writeSync = function (fd, buffer, offset, length, position) {
    const event = fds.get(fd);
    if (event === undefined) return writeSync.apply(this, arguments);
    const phase = armGlobal(event);
    if (phase === 'before') die();
    if (phase === 'mid' && ArrayBuffer.isView(buffer) && typeof offset === 'number') {
      const len = typeof length === 'number' ? length : buffer.byteLength - offset;
      writeSync.call(this, fd, buffer, offset, Math.max(1, Math.floor(len / 2)), position);
      die();
    }
    const result = writeSync.apply(this, arguments);
    note(event);
    if (phase === 'after') die();
    return result;
  };
  syncBuiltinESMExports();
}
