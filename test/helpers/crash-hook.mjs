/**
 * A preload for the built CLI (`node --import …/crash-hook.mjs dist/cli/bin.js …`) that makes
 * deterministic SIGKILL points out of the file operations a command does in a repository (and in a
 * restore target), without a hook in the product: it wraps `fs.promises` open, rename and unlink
 * and `FileHandle#write`, and updates the ESM named exports (`syncBuiltinESMExports`), so modules
 * that `import { rename } from 'node:fs/promises'` call the wrappers too.
 *
 * Each operation on a path under CAIRN_CRASH_REPO is an event `<op>:<dir>` (`create:data` for a
 * file created in data/, `write:index`, `rename:snapshots`, `unlink:locks`…); under
 * CAIRN_CRASH_TARGET it is `<op>:target`. Directory creation, stat and reads are not events.
 *
 * - CAIRN_CRASH_TRACE=FILE: appends `+<event> <epoch ms>` when an event begins and `<event> <epoch ms>`
 *   when it completed. (Operations run concurrently: one that began may have taken effect on disk
 *   when a kill comes even though its completion was not seen yet.)
 * - CAIRN_CRASH_AT=`<event>#<n>:<phase>`: SIGKILLs the process itself at the n-th such event —
 *   `before` it, `after` it completed, or (writes only) `mid`: after half of the bytes were
 *   written. `process.kill(process.pid, 'SIGKILL')` ends the process as an outside SIGKILL would:
 *   no handler, no cleanup, nothing flushed.
 * - CAIRN_CRASH_SIGNAL=SIGSTOP: stop there instead (the test continues the process with SIGCONT),
 *   to hold the command at a known point while another one runs (`before` or `after`; `mid` is for
 *   SIGKILL only).
 *
 * Only the main thread is hooked (the blob workers do no repository I/O).
 */
import { appendFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { relative, isAbsolute, sep } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const repo = process.env.CAIRN_CRASH_REPO;
const target = process.env.CAIRN_CRASH_TARGET;
const trace = process.env.CAIRN_CRASH_TRACE;
const at = /^([a-z]+:[a-z]+)#(\d+):(before|after|mid)$/.exec(process.env.CAIRN_CRASH_AT ?? '');
const signal = process.env.CAIRN_CRASH_SIGNAL === 'SIGSTOP' ? 'SIGSTOP' : 'SIGKILL';

if (isMainThread && (repo !== undefined || target !== undefined)) {
  const counts = new Map();
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
  const die = () => {
    process.kill(process.pid, signal);
  };
  /** Counts the event; returns the phase to kill at when this occurrence is the chosen one. */
  const arm = (event) => {
    note(`+${event}`);
    const n = (counts.get(event) ?? 0) + 1;
    counts.set(event, n);
    return at !== null && at[1] === event && Number(at[2]) === n ? at[3] : undefined;
  };
  const note = (line) => {
    if (trace !== undefined) appendFileSync(trace, `${line} ${(performance.timeOrigin + performance.now()).toFixed(1)}\n`);
  };
  const done = (event) => note(event);
  const wrap = async (event, call) => {
    if (event === undefined) return call();
    const phase = arm(event);
    if (phase === 'before') die();
    const result = await call();
    done(event);
    if (phase !== undefined) die();
    return result;
  };

  const { open, rename, unlink } = fsp;
  const paths = new WeakMap();
  fsp.open = async (p, flags, mode) => {
    // Opening for writing is an event (`create`); opening to read is not.
    const writing = typeof flags === 'number' ? (flags & 3) !== 0 : typeof flags === 'string' && /[wa+]/.test(flags);
    const fh = await wrap(writing ? eventOf('create', p) : undefined, () => open(p, flags, mode));
    if (writing) paths.set(fh, p);
    return fh;
  };
  fsp.rename = (from, to) => wrap(eventOf('rename', to), () => rename(from, to));
  fsp.unlink = (p) => wrap(eventOf('unlink', p), () => unlink(p));

  const probe = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe);
  await probe.close();
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
    done(event);
    if (phase !== undefined) die();
    return result;
  };
  syncBuiltinESMExports();
}
