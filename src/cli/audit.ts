/**
 * The audit log's CLI side (spec/cli.md `log`, spec/format.md "Audit log"): every run of a
 * command that changes the repository appends one record after its work — success or failure.
 *
 * How it is wired (like metrics.ts, run() drives it):
 * - run() creates an `AuditRun` per run and puts it on the context as `ctx.audit`;
 * - openRepoBackend() wraps the backend it opens (`wrapBackend`): the files the run saves and
 *   removes are seen there, so commands report nothing themselves and a failed command's partial
 *   work (a prune that deleted half its packs) is in the record too;
 * - withRepo() (and `repo init`) offer their repository at the end of the work (`adopt`): for an
 *   audited command run() keeps it open, appends the record once the exit code is known, then
 *   closes it.
 *
 * Invariants: appending takes no lock and is bounded (AUDIT_TIMEOUT_MS); a failure is a warning
 * (`AUDIT_APPEND_FAILED`), never the run's exit code; the record holds the arguments redacted
 * (redactArgs), never the password or the environment.
 */
import { hostname, userInfo } from 'node:os';
// Types only: run() builds an AuditRun for every command, `--help` and `--version` included, and
// the library is loaded (record(), finish()) only once a command has a repository to record.
import type { AuditRecord, Backend, Handle, Repository } from '../index.js';
import type { AuditHooks, CommandContext } from './context.js';
import { printWarning } from './output.js';
import { packageVersion } from './version.js';

/**
 * The commands that change the repository and so append a record (`unlock` only when it removed a
 * lock file). `copy` appends to its destination (the repository withRepo opened; the source is
 * opened apart and only read). A new command that changes a repository opened with withRepo only
 * needs its name here.
 */
export const AUDIT_COMMANDS: readonly string[] = [
  'repo init', 'snapshot', 'copy', 'forget', 'prune', 'tag', 'key add', 'key remove', 'key passwd', 'repair index', 'repair snapshots', 'unlock',
];

/** How long appending may take before the run goes on without it. */
export const AUDIT_TIMEOUT_MS = 10_000;

/** `-n`/`--dry-run` before `--`: a dry run changes nothing and writes no record. */
function isDryRun(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--dry-run' || a === '-n') return true;
  }
  return false;
}

/** The files one run saved and removed, by type. */
class Changes {
  readonly snapshots = { added: new Set<string>(), removed: new Set<string>() };
  readonly keys = { added: new Set<string>(), removed: new Set<string>() };
  readonly packs = { added: new Set<string>(), removed: new Set<string>() };
  readonly index = { added: new Set<string>(), removed: new Set<string>() };
  readonly locksSaved = new Set<string>();
  locksRemoved = 0;

  saved(h: Handle): void {
    if (h.type === 'snapshot') this.snapshots.added.add(h.name);
    else if (h.type === 'key') this.keys.added.add(h.name);
    else if (h.type === 'pack') this.packs.added.add(h.name);
    else if (h.type === 'index') this.index.added.add(h.name);
    else if (h.type === 'lock') this.locksSaved.add(h.name);
  }

  removed(h: Handle): void {
    if (h.type === 'snapshot') this.snapshots.removed.add(h.name);
    else if (h.type === 'key') this.keys.removed.add(h.name);
    else if (h.type === 'pack') this.packs.removed.add(h.name);
    else if (h.type === 'index') this.index.removed.add(h.name);
    else if (h.type === 'lock' && !this.locksSaved.has(h.name)) this.locksRemoved++;
  }
}

/** A backend that tells `changes` about every successful save and remove, and is otherwise `inner`. */
export function recordingBackend(inner: Backend, changes: { saved(h: Handle): void; removed(h: Handle): void }): Backend {
  const save: Backend['save'] = async (h, data) => {
    await inner.save(h, data);
    changes.saved(h);
  };
  const remove: Backend['remove'] = async (h) => {
    await inner.remove(h);
    changes.removed(h);
  };
  const saveFile = inner.saveFile;
  const recordedSaveFile = saveFile === undefined ? undefined : async (h: Handle, path: string): Promise<void> => {
    await saveFile.call(inner, h, path);
    changes.saved(h);
  };
  // Everything else (optional capabilities included, present or not) is the inner backend's own,
  // called on it: a capability added to Backend later is not lost behind the recorder.
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'save') return save;
      if (prop === 'remove') return remove;
      if (prop === 'saveFile') return recordedSaveFile;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** RFC 3339 with milliseconds and the local offset: `2026-11-24T15:41:07.123+01:00`. */
export function rfc3339Local(d: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${zone}`;
}

function who(): { username: string; hostname: string } {
  let username = '';
  try {
    username = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return { username, hostname: hostname() };
}

/** How a run ended, as run() knows it. */
export interface RunOutcome {
  readonly exitCode: number;
  /** What the command threw, if anything. */
  readonly error?: unknown;
}

/** One run's audit state: the command, what its backend saw, the repositories it handed over. */
export class AuditRun implements AuditHooks {
  #command: string | undefined;
  readonly #argv: readonly string[];
  readonly #changes = new Changes();
  readonly #repos: Repository[] = [];

  constructor(argv: readonly string[]) {
    this.#argv = [...argv];
  }

  /** The command that runs (run()'s preAction hook). */
  start(command: string): void {
    this.#command = command;
  }

  /** Whether this run writes a record (an audited command, not a dry run). */
  get active(): boolean {
    return this.#command !== undefined && AUDIT_COMMANDS.includes(this.#command) && !isDryRun(this.#argv);
  }

  wrapBackend(backend: Backend): Backend {
    return this.active ? recordingBackend(backend, this.#changes) : backend;
  }

  adopt(repo: Repository): boolean {
    if (!this.active) return false;
    this.#repos.push(repo);
    return true;
  }

  /** The record of this run as it ended. */
  async record(outcome: RunOutcome, now: Date = new Date()): Promise<AuditRecord> {
    const { isCairnError, MAX_AUDIT_PACK_IDS, redactArgs } = await import('../index.js');
    const c = this.#changes;
    const list = (s: Set<string>, max = Infinity): string[] => [...s].sort().slice(0, max);
    const e = outcome.error;
    const errorCode = e === undefined ? undefined : isCairnError(e) ? e.code : outcome.exitCode === 130 ? 'ERR_INTERRUPTED' : 'ERR_INTERNAL';
    const ok = outcome.exitCode === 0 || (this.#command === 'snapshot' && outcome.exitCode === 3);
    return {
      version: 1,
      time: rfc3339Local(now),
      ...who(),
      pid: process.pid,
      command: this.#command ?? '',
      args: redactArgs(this.#argv),
      result: { ok, exit_code: outcome.exitCode, ...(errorCode === undefined ? {} : { error_code: errorCode }) },
      snapshots: { added: list(c.snapshots.added), removed: list(c.snapshots.removed) },
      packs: {
        added: list(c.packs.added, MAX_AUDIT_PACK_IDS),
        removed: list(c.packs.removed, MAX_AUDIT_PACK_IDS),
        added_count: c.packs.added.size,
        removed_count: c.packs.removed.size,
      },
      keys: { added: list(c.keys.added), removed: list(c.keys.removed) },
      index: { added_count: c.index.added.size, removed_count: c.index.removed.size },
      locks: { removed_count: c.locksRemoved },
      cairn_version: packageVersion(),
    };
  }

  /**
   * After the run: appends the record with the repository the command handed over (bounded by
   * `timeoutMs`; a failure is a warning), then closes every repository it holds. Never throws.
   */
  async finish(ctx: CommandContext, outcome: RunOutcome, timeoutMs = AUDIT_TIMEOUT_MS): Promise<void> {
    const repo = this.#repos.at(-1);
    try {
      if (repo === undefined) return;
      if (this.#command === 'unlock' && this.#changes.locksRemoved === 0) return; // nothing changed
      const { appendAuditRecord, isCairnError, messageOf } = await import('../index.js');
      const record = await this.record(outcome);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the storage within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      try {
        await Promise.race([appendAuditRecord(repo, record), timeout]);
      } catch (e) {
        const g = ctx.globals();
        if (isCairnError(e) && e.code === 'ERR_UNSUPPORTED') {
          if (g.json || g.verbose > 0) {
            printWarning(ctx, { message: 'the audit log is not supported on rest: backends; no record was written', code: 'AUDIT_UNSUPPORTED', during: 'audit', item: 'cairn-log' });
          }
          return;
        }
        printWarning(ctx, { message: `cannot append the audit record: ${messageOf(e)} (the run itself is not affected)`, code: 'AUDIT_APPEND_FAILED', during: 'audit', item: 'cairn-log' });
      } finally {
        clearTimeout(timer);
      }
    } finally {
      const repos = this.#repos.splice(0);
      for (const r of repos) await r.close().catch(() => undefined);
    }
  }
}
