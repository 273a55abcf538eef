/**
 * The types every CLI file shares: the injected I/O (`CliIo`), the parsed global options, and the
 * context a command's registration function receives. Nothing here touches `process`: bin.ts
 * builds the real `CliIo`, tests build an in-memory one, and `run()` works the same on both.
 */
import type { Command } from 'commander';
import type { Backend, Repository } from '../index.js';

/** Where text goes. Both strings and raw bytes are accepted (a `cat`-like command writes bytes). */
export interface CliWriter {
  write(chunk: string | Uint8Array): void;
  /**
   * Resolves when the writer can take more (its buffer has drained); a bulk writer (`dump`)
   * awaits it after each chunk so a slow reader slows it down instead of filling memory.
   * @default resolves at once
   */
  drain?(): Promise<void>;
}

/** Everything the CLI needs from the outside world. */
export interface CliIo {
  readonly stdout: CliWriter;
  readonly stderr: CliWriter;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The environment to read (CAIRN_*, RESTIC_*), and to pass to a password command. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (password file, command arguments) resolve against this. */
  readonly cwd: string;
  readonly isTTY: { readonly stdin: boolean; readonly stdout: boolean; readonly stderr: boolean };
  /** Aborted on SIGINT/SIGTERM; long operations must watch it and stop with ERR_INTERRUPTED. */
  readonly signal: AbortSignal;
  /**
   * Ask for a secret on the terminal without echo. When absent, the built-in raw-mode reader on
   * `stdin` is used (see password.ts). Only called when `isTTY.stdin` is true.
   */
  readonly prompt?: (question: string) => Promise<string>;
  /** The terminal's width when stdout is one (the status line is cut to it). @default $COLUMNS, else 80 */
  readonly columns?: () => number;
  /** Clock and timer of the status line (progress.ts); tests inject a fake. @default performance.now, setInterval */
  readonly clock?: StatusClock;
}

/** What the status line needs to keep time: milliseconds, and a repeating timer. */
export interface StatusClock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The global options, accepted before or after the command name. */
export interface GlobalOptions {
  /** Machine-readable output: one JSON object per line on stdout, errors as a JSON line on stderr. */
  readonly json: boolean;
  /** `-r, --repo <url>`, the flag only; use `resolveRepository()` for the env fallbacks. */
  readonly repo?: string;
  readonly passwordFile?: string;
  readonly passwordCommand?: string;
  /** Suppress informational text on stdout (JSON output and errors are still written). */
  readonly quiet: boolean;
  /** How many times `-v` was given (0 when absent). */
  readonly verbose: number;
  /** `-o, --option KEY=VALUE`, as given, in order (absent when none). */
  readonly option?: readonly string[];
  /** `--cacert FILE`, in order (absent when none). */
  readonly cacert?: readonly string[];
  /** `--metrics-file PATH`: Prometheus metrics written after the run (see metrics.ts). */
  readonly metricsFile?: string;
}

/** Figures a command reports for `--metrics-file` (metrics.ts); each is optional. */
export interface RunFigures {
  /** Bytes read or written: backed up (snapshot), restored (restore), pack data read (check). */
  readonly bytesProcessed?: number;
  /** New data a snapshot added, before compression. */
  readonly bytesAdded?: number;
  /** What a snapshot stored, after compression. */
  readonly bytesStored?: number;
  readonly filesProcessed?: number;
  /** Errors and warnings of the run (unreadable files, files not restored, problems found). */
  readonly errors?: number;
  /** Pack data in the repository, when known cheaply. */
  readonly repositorySize?: number;
}

/** What a command's registration function receives besides the program. */
export interface CommandContext {
  readonly io: CliIo;
  /**
   * The parsed global options. Call it inside the action handler (not at registration time):
   * flags given after the command name are only known once parsing has finished.
   */
  globals(): GlobalOptions;
  /** Reports figures of this run for `--metrics-file` (later calls add to earlier ones). */
  recordMetrics(figures: RunFigures): void;
  /** The audit log's hooks (audit.ts), set by run(); absent in contexts built elsewhere. */
  readonly audit?: AuditHooks;
}

/**
 * How a command's repository takes part in the audit log (audit.ts; spec/cli.md `log`). The
 * helpers in repository.ts call these; a command does not need to.
 */
export interface AuditHooks {
  /** Wraps the backend a command opens, so the files the run saves and removes are recorded. */
  wrapBackend(backend: Backend): Backend;
  /**
   * Offers the repository at the end of the command's work. True: this run writes an audit
   * record with it, and run() closes it afterwards (the caller must not); false: close it.
   */
  adopt(repo: Repository): boolean;
}

/**
 * Registers one command on the program: `program.command('name')…action(async (...) => …)`.
 * The action throws `CairnError`s; it never sets an exit code or calls `process.exit`.
 */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;
