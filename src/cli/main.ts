/**
 * cairn's command line: `run(argv, io)` parses with commander, runs one command and returns the
 * exit code. This is the only place that turns error codes into exit codes; nothing but bin.ts
 * touches `process` (exit codes, signals, real stdio), so tests call `run()` in-process with an
 * in-memory `CliIo`.
 *
 * ## Adding a command
 *
 * A command is two files: its definition in `src/cli/commands/<name>.ts` (name, arguments,
 * options, help: all that `--help`, completion and parsing need, importing nothing but types and
 * other definitions) and its action in `src/cli/actions/<name>.ts`, which the definition imports
 * only when the command runs. So `cairn --version` or `cairn snapshots` load no other command's
 * code, and no library module before a command needs it (spec/performance.md, "Startup").
 *
 * 1. Write the definition, exporting a `RegisterCommand`:
 *
 *    ```ts
 *    import type { Command } from 'commander';
 *    import type { ChunkFlags } from '../actions/chunk.js';
 *    import type { CommandContext } from '../context.js';
 *
 *    export function registerChunk(program: Command, ctx: CommandContext): void {
 *      program
 *        .command('chunk')
 *        .description('split a file into content-defined chunks and print them')
 *        .argument('<file>', 'the file to split')
 *        .option('--min-size <size>', 'smallest chunk', '512KiB')
 *        .action(async (file: string, opts: ChunkFlags) => (await import('../actions/chunk.js')).chunkAction(ctx, file, opts));
 *    }
 *    ```
 *
 * 2. Write the action, which may import the library (`../../index.js`) and the CLI helpers:
 *
 *    ```ts
 *    export interface ChunkFlags { minSize: string }
 *
 *    export async function chunkAction(ctx: CommandContext, file: string, opts: ChunkFlags): Promise<void> {
 *      const g = ctx.globals();            // parsed global flags (call it here, not above)
 *      // ... do the work; throw CairnError on failure, never set an exit code ...
 *      if (g.json) printJson(ctx, { message_type: 'chunk', offset: 0, length: 1 });
 *      else printText(ctx, '0 1');
 *    }
 *    ```
 *
 * 3. Add `registerChunk` to `COMMANDS` in `src/cli/commands/index.ts` (the order is the help order).
 *
 * Rules: use `program.command(...)` (not `addCommand`) so the command inherits the output, help
 * and error settings; don't reuse a global flag name (`--json`, `-r/--repo`, `--password-file`,
 * `--password-command`, `-q/--quiet`, `-v/--verbose`, `-o/--option`, `--cacert`, `--metrics-file`,
 * `-V/--version`, `-h/--help`): global flags
 * are accepted before or after the command name and the program consumes them first. Commands
 * that open a repository call `resolveRepository(ctx.globals(), ctx.io)` and
 * `resolvePassword(ctx.globals(), ctx.io)` from ./password.js, only when they need them. Long
 * work watches `ctx.io.signal` and stops with ERR_INTERRUPTED. Usage mistakes found inside an
 * action throw `CairnError('ERR_USAGE', …)` or `ERR_INVALID_ARGUMENT`. Document the command,
 * its flags and its JSON output in spec/cli.md.
 */
import { Command, CommanderError } from 'commander';
// Only types from the library here: `--version`, `--help` and a usage error never load it, and a
// command's action loads what it needs when it runs (spec/performance.md, "Startup").
import type { ErrorCode } from '../index.js';
import { AuditRun } from './audit.js';
import { COMMANDS } from './commands/index.js';
import type { CliIo, CommandContext, GlobalOptions, RegisterCommand, RunFigures } from './context.js';
import { printError, type ErrorReport } from './output.js';
import { packageVersion } from './version.js';

export type { CliIo, CliWriter, CommandContext, GlobalOptions, RegisterCommand, RunFigures } from './context.js';

/** Exit codes other than 0 (success) and 1 (every code not listed here). restic uses the same. */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  ERR_PARTIAL: 3,
  ERR_REPO_NOT_FOUND: 10,
  ERR_REPO_LOCKED: 11,
  ERR_WRONG_PASSWORD: 12,
  ERR_INTERRUPTED: 130,
};

/** The process exit code for a failure with `code` (spec/errors.md lists them all). */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code] ?? 1;
}

/** A commander parse failure (or help/version display), with the command it happened in. */
class CommanderExit extends Error {
  constructor(
    readonly error: CommanderError,
    readonly command: Command,
  ) {
    super(error.message);
  }
}

interface BuiltProgram {
  readonly program: Command;
  readonly ctx: CommandContext;
  /** What the command reported through ctx.recordMetrics. */
  readonly figures: () => RunFigures;
  /** This run's audit record (audit.ts). */
  readonly audit: AuditRun;
}

function increaseVerbosity(_value: string, previous: number): number {
  return previous + 1;
}

function collectValues(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Builds the commander program with the global options and `commands` registered. Exported so a
 * test can register a test-only command: `run(argv, io, [...COMMANDS, registerProbe])`.
 */
export function buildProgram(io: CliIo, commands: readonly RegisterCommand[] = COMMANDS, argv: readonly string[] = []): BuiltProgram {
  const program = new Command('cairn');
  let figures: RunFigures = {};
  const audit = new AuditRun(argv);
  const ctx: CommandContext = {
    io,
    globals: () => readGlobals(program),
    recordMetrics: (f) => {
      figures = { ...figures, ...f };
    },
    audit,
  };
  program
    .description('Content-addressed, deduplicating, encrypted backups (restic-compatible repositories).')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined, // run() reports errors itself, in one format
      getOutHelpWidth: () => 80,
      getErrHelpWidth: () => 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({ showGlobalOptions: true })
    .option('--json', 'print results as JSON lines on stdout, and errors as a JSON line on stderr')
    .option('-r, --repo <url>', 'repository location (env: CAIRN_REPOSITORY, then RESTIC_REPOSITORY)')
    .option(
      '--password-file <file>',
      'read the repository password from <file> (env: CAIRN_PASSWORD_FILE or RESTIC_PASSWORD_FILE)',
    )
    .option(
      '--password-command <command>',
      'run <command> (no shell) and use its output as the password (env: CAIRN_PASSWORD_COMMAND or RESTIC_PASSWORD_COMMAND)',
    )
    .option('-q, --quiet', 'print no informational text (results and errors still appear)')
    .option('-v, --verbose', 'print more detail; repeat for more (-vv)', increaseVerbosity, 0)
    .option('-o, --option <key=value>', 'set a backend option, e.g. -o s3.region=eu-west-1 (repeatable)', collectValues, [])
    .option('--cacert <file>', 'also trust the CA certificate(s) in PEM <file> for HTTPS backends (repeatable)', collectValues, [])
    .option('--metrics-file <path>', 'after snapshot, restore, check, prune or forget, write Prometheus metrics to <path> (textfile collector; spec/monitoring.md)')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for cairn or a command')
    .helpCommand(false) // replaced below: commander's says nothing useful about an unknown name
    .addHelpText(
      'after',
      '\nThe password comes from --password-command, --password-file, the environment\n' +
        '(CAIRN_PASSWORD_COMMAND, _FILE, CAIRN_PASSWORD, or the RESTIC_ ones), or a prompt\n' +
        'when stdin is a terminal.\n' +
        "Run 'cairn help <command>' for a command's options.",
    );

  for (const register of commands) register(program, ctx);
  registerHelp(program);

  // Every command reports parse failures (and help/version display) through run()'s handler,
  // tagged with the command they happened in so the hint can name it.
  const tag = (command: Command): void => {
    command.exitOverride((error) => {
      throw new CommanderExit(error, command);
    });
    for (const sub of command.commands) tag(sub);
  };
  tag(program);
  return { program, ctx, figures: () => figures, audit };
}

/** `help [command...]`: help for cairn or a (sub)command, on stdout; an unknown name is ERR_USAGE. */
function registerHelp(program: Command): void {
  program
    .command('help')
    .description('show help for a command')
    .argument('[command...]', 'the command (and subcommand) to explain')
    .action(async (names: string[]) => {
      let target = program;
      for (const [i, name] of names.entries()) {
        const next = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (next === undefined) {
          const { CairnError } = await import('../index.js');
          throw new CairnError('ERR_USAGE', `unknown command '${names.slice(0, i + 1).join(' ')}'`);
        }
        target = next;
      }
      target.outputHelp();
    });
}

function readGlobals(program: Command): GlobalOptions {
  const o = program.opts<{
    json?: boolean;
    repo?: string;
    passwordFile?: string;
    passwordCommand?: string;
    quiet?: boolean;
    verbose?: number;
    option?: string[];
    cacert?: string[];
    metricsFile?: string;
  }>();
  return {
    json: o.json === true,
    quiet: o.quiet === true,
    verbose: o.verbose ?? 0,
    ...(o.repo !== undefined ? { repo: o.repo } : {}),
    ...(o.passwordFile !== undefined ? { passwordFile: o.passwordFile } : {}),
    ...(o.passwordCommand !== undefined ? { passwordCommand: o.passwordCommand } : {}),
    ...(o.option !== undefined && o.option.length > 0 ? { option: o.option } : {}),
    ...(o.cacert !== undefined && o.cacert.length > 0 ? { cacert: o.cacert } : {}),
    ...(o.metricsFile !== undefined ? { metricsFile: o.metricsFile } : {}),
  };
}

/** `--json` among the arguments before `--`: for errors raised before commander could parse it. */
function argvHasFlag(argv: readonly string[], flag: string): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === flag) return true;
  }
  return false;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function causeChain(error: unknown, messageOf: (e: unknown) => string): string[] {
  const lines: string[] = [];
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    lines.push(`  caused by: ${messageOf(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines;
}

/**
 * Runs cairn with `argv` (the arguments after the program name) and returns the exit code:
 * 0 ok, 1 error or usage error, 3 partial backup, 10 no repository, 11 locked, 12 wrong password,
 * 130 interrupted. `commands` defaults to the real registry; tests may pass their own.
 * Once a command's action has started, `--metrics-file` is written (metrics.ts), success or not,
 * and a command that changes the repository appends its audit record (audit.ts).
 */
export async function run(
  argv: readonly string[],
  io: CliIo,
  commands: readonly RegisterCommand[] = COMMANDS,
): Promise<number> {
  let built: BuiltProgram | undefined;
  let action: { command: string; startedMs: number } | undefined;
  let code: number;
  let failure: unknown;
  try {
    built = buildProgram(io, commands, argv);
    const audit = built.audit;
    built.program.hook('preAction', (_program, actionCommand) => {
      action = { command: commandPath(actionCommand).replace(/^cairn /, ''), startedMs: Date.now() };
      audit.start(action.command);
    });
    await built.program.parseAsync([...argv], { from: 'user' });
    if (action === undefined) {
      // No command given (commander shows help itself only when commands exist).
      built.program.outputHelp({ error: true });
      const json = built.ctx.globals().json || argvHasFlag(argv, '--json');
      return reportUsage(io, json, 'no command given', 'cairn');
    }
    code = 0;
  } catch (error) {
    const globals = built?.ctx.globals();
    const wantJson = globals?.json === true || argvHasFlag(argv, '--json');
    const verbose = globals?.verbose ?? 0;
    code = await report(io, error, wantJson, verbose);
    failure = error;
  }
  if (built !== undefined) await built.audit.finish(built.ctx, { exitCode: code, ...(failure === undefined ? {} : { error: failure }) });
  if (action !== undefined && built !== undefined && built.ctx.globals().metricsFile !== undefined) {
    const { recordRun } = await import('./metrics.js');
    await recordRun(built.ctx, { ...action, endedMs: Date.now(), exitCode: code, figures: built.figures() });
  }
  return code;
}

function reportUsage(io: CliIo, json: boolean, message: string, path: string): number {
  const hint = `Try '${path} --help' for more information.`;
  printError(io, { code: 'ERR_USAGE', message, data: {} }, { json, details: [hint] });
  return exitCodeFor('ERR_USAGE');
}

async function report(io: CliIo, error: unknown, json: boolean, verbose: number): Promise<number> {
  if (error instanceof CommanderExit) {
    const { error: ce, command } = error;
    if (ce.exitCode === 0) return 0; // --help, help <command>, --version: already printed
    if (ce.code === 'commander.help') {
      // Help was printed to stderr because the command line named no command.
      return reportUsage(io, json, 'no command given', commandPath(command));
    }
    return reportUsage(io, json, ce.message.replace(/^error: /, ''), commandPath(command));
  }

  // A command failed: the library is loaded already, unless the failure came before it was needed.
  const { CairnError, isCairnError, messageOf } = await import('../index.js');
  let r: ErrorReport;
  let details: string[] = [];
  if (isCairnError(error)) {
    r = error.toJSON();
    if (verbose > 0) details = causeChain(error, messageOf);
    if (error.code === 'ERR_USAGE') details.push(`Try 'cairn --help' for more information.`);
  } else if (io.signal.aborted) {
    // A foreign AbortError (or anything else) thrown because we were interrupted.
    r = new CairnError('ERR_INTERRUPTED', 'interrupted').toJSON();
  } else {
    const stack = error instanceof Error && error.stack !== undefined ? error.stack : String(error);
    r = {
      code: 'ERR_INTERNAL',
      message:
        `unexpected error: ${messageOf(error)} (a bug in cairn; ` +
        (verbose > 0 ? 'please report it with the stack trace below)' : 'run with -v for the stack trace, and please report it)'),
      data: json && verbose > 0 ? { stack } : {},
    };
    if (verbose > 0) details = [stack, ...causeChain(error, messageOf)];
  }
  printError(io, r, { json, details });
  return exitCodeFor(r.code as ErrorCode);
}
