/**
 * The audit record codec (spec/format.md, "Audit log"): a record is one JSON object with a fixed
 * field order; decoding is strict about the types of known fields, ignores unknown ones, caps the
 * plaintext at 1 MiB and refuses anything else with ERR_CORRUPT (never another error: hostile
 * bytes meet only typed errors). Also the redaction of command-line arguments: a record keeps the
 * arguments but never a secret in them.
 */
import { CairnError, messageOf } from '../errors.js';
import { isId } from '../model/index.js';

/** Largest record plaintext (JSON) a reader accepts. */
export const MAX_AUDIT_RECORD_SIZE = 1 << 20;

/** Most IDs listed per side of `packs` (the counts are always exact). */
export const MAX_AUDIT_PACK_IDS = 1000;

/** How a command ended. */
export interface AuditResult {
  /** Exit code 0, or a snapshot saved with unreadable files (3). */
  readonly ok: boolean;
  readonly exit_code: number;
  /** The CairnError code when the command failed. */
  readonly error_code?: string;
}

export interface AuditIdChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface AuditPackChanges extends AuditIdChanges {
  readonly added_count: number;
  readonly removed_count: number;
}

/** One audit record: one run of a command that changed the repository. */
export interface AuditRecord {
  readonly version: 1;
  /** RFC 3339, when the command ended. */
  readonly time: string;
  readonly hostname: string;
  readonly username: string;
  readonly pid: number;
  /** The command path: `snapshot`, `key add`, `repair index`… */
  readonly command: string;
  /** The arguments after the program name, redacted (redactArgs). */
  readonly args: readonly string[];
  readonly result: AuditResult;
  readonly snapshots: AuditIdChanges;
  readonly packs: AuditPackChanges;
  readonly keys?: AuditIdChanges;
  readonly index?: { readonly added_count: number; readonly removed_count: number };
  readonly locks?: { readonly removed_count: number };
  readonly cairn_version: string;
}

/** The record's JSON bytes, fields in the order of spec/format.md (no trailing newline). */
export function encodeAuditRecord(r: AuditRecord): Uint8Array {
  const ids = (c: AuditIdChanges): AuditIdChanges => ({ added: [...c.added], removed: [...c.removed] });
  const ordered = {
    version: r.version,
    time: r.time,
    hostname: r.hostname,
    username: r.username,
    pid: r.pid,
    command: r.command,
    args: [...r.args],
    result: { ok: r.result.ok, exit_code: r.result.exit_code, ...(r.result.error_code === undefined ? {} : { error_code: r.result.error_code }) },
    snapshots: ids(r.snapshots),
    packs: { ...ids(r.packs), added_count: r.packs.added_count, removed_count: r.packs.removed_count },
    ...(r.keys === undefined ? {} : { keys: ids(r.keys) }),
    ...(r.index === undefined ? {} : { index: { added_count: r.index.added_count, removed_count: r.index.removed_count } }),
    ...(r.locks === undefined ? {} : { locks: { removed_count: r.locks.removed_count } }),
    cairn_version: r.cairn_version,
  };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

/** Decodes and checks a record's JSON; `what` names the file in errors (ERR_CORRUPT only). */
export function decodeAuditRecord(bytes: Uint8Array, what: string): AuditRecord {
  const bad = (why: string, cause?: unknown): CairnError =>
    new CairnError('ERR_CORRUPT', `${what}: not a valid audit record: ${why}`, { data: { file: what }, ...(cause === undefined ? {} : { cause }) });
  if (bytes.length > MAX_AUDIT_RECORD_SIZE) throw bad(`${bytes.length} bytes, more than the ${MAX_AUDIT_RECORD_SIZE} a record may have`);
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw bad(`not JSON (${messageOf(e)})`, e);
  }
  const obj = (x: unknown, name: string): Record<string, unknown> => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad(`${name} is not an object`);
    return x as Record<string, unknown>;
  };
  const str = (o: Record<string, unknown>, k: string): string => {
    const x = o[k];
    if (typeof x !== 'string') throw bad(`"${k}" is not a string`);
    return x;
  };
  const count = (o: Record<string, unknown>, k: string): number => {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw bad(`"${k}" is not a whole number >= 0`);
    return x;
  };
  const idList = (o: Record<string, unknown>, k: string): string[] => {
    const x = o[k];
    if (!Array.isArray(x)) throw bad(`"${k}" is not an array`);
    for (const e of x) if (typeof e !== 'string' || !isId(e)) throw bad(`"${k}" holds something other than a 64-hex-digit ID`);
    return x as string[];
  };
  const changes = (x: unknown, k: string): AuditIdChanges => {
    const o = obj(x, `"${k}"`);
    return { added: idList(o, 'added'), removed: idList(o, 'removed') };
  };
  const top = obj(v, 'the record');
  if (top['version'] !== 1) throw bad(`version ${JSON.stringify(top['version']) ?? 'missing'} (this cairn reads version 1)`);
  const args = top['args'];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw bad('"args" is not an array of strings');
  const res = obj(top['result'], '"result"');
  if (typeof res['ok'] !== 'boolean') throw bad('"result.ok" is not a boolean');
  const exit = count(res, 'exit_code');
  const errorCode = res['error_code'];
  if (errorCode !== undefined && typeof errorCode !== 'string') throw bad('"result.error_code" is not a string');
  const packsObj = obj(top['packs'], '"packs"');
  const packs = changes(packsObj, 'packs');
  const record: AuditRecord = {
    version: 1,
    time: str(top, 'time'),
    hostname: str(top, 'hostname'),
    username: str(top, 'username'),
    pid: count(top, 'pid'),
    command: str(top, 'command'),
    args: args as string[],
    result: { ok: res['ok'], exit_code: exit, ...(errorCode === undefined ? {} : { error_code: errorCode }) },
    snapshots: changes(top['snapshots'], 'snapshots'),
    packs: { ...packs, added_count: count(packsObj, 'added_count'), removed_count: count(packsObj, 'removed_count') },
    ...(top['keys'] === undefined ? {} : { keys: changes(top['keys'], 'keys') }),
    ...(top['index'] === undefined
      ? {}
      : (() => {
          const o = obj(top['index'], '"index"');
          return { index: { added_count: count(o, 'added_count'), removed_count: count(o, 'removed_count') } };
        })()),
    ...(top['locks'] === undefined ? {} : { locks: { removed_count: count(obj(top['locks'], '"locks"'), 'removed_count') } }),
    cairn_version: str(top, 'cairn_version'),
  };
  if (Number.isNaN(Date.parse(record.time))) throw bad(`"time" ${JSON.stringify(record.time.slice(0, 40))} is not a date`);
  return record;
}

/** The text that replaces a secret in a record's arguments. */
export const REDACTED = '[redacted]';

/** `-o KEY=VALUE` keys whose values are secrets. */
const SECRET_KEY = /secret|key|token|password|passwd|credential|auth/i;

/** Flags whose value is always a secret (or may embed one: a password command's text). */
const SECRET_FLAGS = new Set(['--password', '--password-command', '--from-password', '--from-password-command']);

/** `scheme://user:password@` (also after a backend prefix such as `rest:`): the password replaced. */
function redactUrl(arg: string): string {
  return arg.replace(/([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):([^/@\s]*)@/gi, `$1:${REDACTED}@`);
}

function redactOption(kv: string): string {
  const eq = kv.indexOf('=');
  if (eq < 0) return redactUrl(kv);
  const key = kv.slice(0, eq);
  return SECRET_KEY.test(key) ? `${key}=${REDACTED}` : `${key}=${redactUrl(kv.slice(eq + 1))}`;
}

/**
 * The arguments with secrets replaced by `[redacted]`: values of `-o/--option` whose key looks
 * secret (secret, key, token, password, passwd, credential, auth), URL passwords, and values of
 * `--password`/`--password-command` (and copy's `--from-` forms). Everything after `--` is kept (it is data: paths, a
 * command), with URL passwords still redacted. Pure; the result has the same length.
 */
export function redactArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let afterDashes = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (afterDashes) {
      out.push(redactUrl(a));
      continue;
    }
    if (a === '--') {
      afterDashes = true;
      out.push(a);
      continue;
    }
    if ((a === '-o' || a === '--option') && i + 1 < args.length) {
      out.push(a, redactOption(args[++i]!));
      continue;
    }
    if (a.startsWith('--option=')) {
      out.push(`--option=${redactOption(a.slice('--option='.length))}`);
      continue;
    }
    if (a.startsWith('-o') && !a.startsWith('--') && a.length > 2) {
      out.push(`-o${redactOption(a.slice(2).replace(/^=/, ''))}`);
      continue;
    }
    if (SECRET_FLAGS.has(a) && i + 1 < args.length) {
      out.push(a, REDACTED);
      i++;
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0 && SECRET_FLAGS.has(a.slice(0, eq))) {
      out.push(`${a.slice(0, eq)}=${REDACTED}`);
      continue;
    }
    out.push(redactUrl(a));
  }
  return out;
}
