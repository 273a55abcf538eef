/**
 * Output helpers for commands. stdout carries results: text for people, or, with `--json`, one
 * compact JSON object per line (restic's convention: every object has a `message_type`).
 * stderr carries errors and diagnostics. `--quiet` silences informational text, never JSON
 * results and never errors.
 *
 * Commands pass their `CommandContext` (anything with `io` and `globals()`), so the helpers can
 * honour the global flags without each command re-checking them.
 */
import type { CliIo, CommandContext } from './context.js';

export type OutputTarget = Pick<CommandContext, 'io' | 'globals'>;

/** `JSON.stringify` that survives bigints (as numbers when exact, else decimal strings). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') {
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    }
    return v;
  });
}

/** Writes `value` as one compact JSON line on stdout (even with `--quiet`). */
export function printJson(out: OutputTarget, value: unknown): void {
  out.io.stdout.write(toJsonLine(value) + '\n');
}

/** Writes `text` as a line on stdout, unless `--quiet`. A trailing newline is added if missing. */
export function printText(out: OutputTarget, text: string): void {
  if (out.globals().quiet) return;
  out.io.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** A failure as the CLI reports it. `data` must be JSON-safe and secret-free. */
export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Writes an error to stderr: `cairn: <message>` plus any `details` lines as text, or, with
 * `json`, exactly one line `{"message_type":"error","code":…,"message":…,"data":…}`.
 */
export function printError(
  io: Pick<CliIo, 'stderr'>,
  report: ErrorReport,
  options: { readonly json: boolean; readonly details?: readonly string[] },
): void {
  if (options.json) {
    const line = { message_type: 'error', code: report.code, message: report.message, data: report.data };
    let text: string;
    try {
      text = toJsonLine(line);
    } catch {
      text = toJsonLine({ ...line, data: {} }); // data that cannot be serialised is dropped, not fatal
    }
    io.stderr.write(text + '\n');
    return;
  }
  let text = `cairn: ${report.message}\n`;
  for (const d of options.details ?? []) text += d.endsWith('\n') ? d : d + '\n';
  io.stderr.write(text);
}

/** A problem a command reports on stderr and goes on: what, in which phase, about which item. */
export interface Warning {
  readonly message: string;
  readonly code?: string;
  /** The phase, as restic names it in JSON (`archival`, `restore`, `prune`, `lock`…). */
  readonly during: string;
  /** The file or path it concerns, when one. */
  readonly item?: string;
}

/**
 * Prints a warning: `LABEL: [ITEM: ]MESSAGE` (label `warning` unless given), or with --json the
 * line `{"message_type":"error","error":{"message","code"?},"during","item"?}`, as restic does.
 */
export function printWarning(out: OutputTarget, w: Warning, label = 'warning'): void {
  if (out.globals().json) {
    const error = w.code === undefined ? { message: w.message } : { message: w.message, code: w.code };
    out.io.stderr.write(toJsonLine({ message_type: 'error', error, during: w.during, ...(w.item === undefined ? {} : { item: w.item }) }) + '\n');
  } else {
    out.io.stderr.write(`${label}: ${w.item === undefined ? '' : `${w.item}: `}${w.message}\n`);
  }
}

/** A problem with the repository lock while a command holds it (a failed refresh). */
export function printLockWarning(out: OutputTarget, w: { readonly code: string; readonly message: string }): void {
  printWarning(out, { message: w.message, code: w.code, during: 'lock' });
}
