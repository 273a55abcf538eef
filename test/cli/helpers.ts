/** In-memory CliIo and test-only commands for exercising run() without spawning cairn. */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { onTestFinished, TestRunner } from 'vitest';
import { CairnError, type ErrorCode } from '../../src/errors.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import type { CliIo, CommandContext, RegisterCommand, StatusClock } from '../../src/cli/context.js';
import { run } from '../../src/cli/main.js';
import { printJson, printText } from '../../src/cli/output.js';
import { resolvePassword, resolveRepository } from '../../src/cli/password.js';

/** A fake terminal input: a PassThrough that records raw-mode switches. */
export class FakeTty extends PassThrough {
  readonly isTTY = true;
  isRaw = false;
  readonly rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.rawModes.push(mode);
    return this;
  }
}

export interface TestIo extends CliIo {
  readonly controller: AbortController;
  out(): string;
  /** stdout as the exact bytes written (for binary output such as `dump`); strings as UTF-8. */
  outBytes(): Buffer;
  err(): string;
}

export interface TestIoOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  stdinIsTTY?: boolean;
  /** stdout is a terminal (the status line of progress.ts shows). @default false */
  stdoutIsTTY?: boolean;
  /** The terminal width the status line is cut to. */
  columns?: number;
  /** Clock and timer of the status line. */
  clock?: StatusClock;
  prompt?: (question: string) => Promise<string>;
}

let cacheDir: string | undefined;

/** This test process's cache directory (made on first use, removed when the process exits). */
function testCacheDir(): string {
  if (cacheDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-test-cache-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    cacheDir = dir;
  }
  return cacheDir;
}

export function makeIo(options: TestIoOptions = {}): TestIo {
  let out = '';
  let err = '';
  const raw: Buffer[] = [];
  const decoder = new TextDecoder();
  const text = (chunk: string | Uint8Array): string => (typeof chunk === 'string' ? chunk : decoder.decode(chunk));
  const controller = new AbortController();
  const stdin: NodeJS.ReadableStream & { isTTY?: boolean } = options.stdin ?? new PassThrough();
  const isTTY = options.stdinIsTTY ?? stdin.isTTY === true;
  return {
    stdout: {
      write: (c) => {
        raw.push(Buffer.from(c));
        out += text(c);
      },
    },
    stderr: { write: (c) => void (err += text(c)) },
    stdin,
    // PATH only, so tests never see the developer's real CAIRN_/RESTIC_ variables; and a cache
    // directory of this test process, so that snapshots keep and use a directory cache as they
    // do for users (a test that looks at the cache names its own).
    env: { PATH: process.env['PATH'], CAIRN_CACHE_DIR: testCacheDir(), ...options.env },
    cwd: options.cwd ?? process.cwd(),
    isTTY: { stdin: isTTY, stdout: options.stdoutIsTTY === true, stderr: false },
    ...(options.columns !== undefined ? { columns: () => options.columns! } : {}),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    signal: controller.signal,
    controller,
    ...(options.prompt !== undefined ? { prompt: options.prompt } : {}),
    out: () => out,
    outBytes: () => Buffer.concat(raw),
    err: () => err,
  };
}

/** `probe [file] [--size <n>]`: prints its arguments and the parsed globals as JSON. */
export const registerProbe: RegisterCommand = (program: Command, ctx: CommandContext) => {
  program
    .command('probe')
    .description('test-only: echo arguments and global options')
    .argument('[file]', 'any operand')
    .option('--size <n>', 'any value')
    .action((file: string | undefined, opts: { size?: string }) => {
      printJson(ctx, { file: file ?? null, size: opts.size ?? null, globals: ctx.globals() });
    });
};

/** `fail <code>`: throws a CairnError with that code. */
export const registerFail: RegisterCommand = (program, ctx) => {
  program
    .command('fail')
    .argument('<code>', 'an error code')
    .action((code: string) => {
      void ctx;
      throw new CairnError(code as ErrorCode, `failed on purpose with ${code}`, {
        data: { path: '/some/file' },
        cause: new Error('the underlying reason'),
      });
    });
};

/** `crash`: throws a plain TypeError, as a bug would. */
export const registerCrash: RegisterCommand = (program) => {
  program.command('crash').action(() => {
    throw new TypeError('boom: undefined is not a function');
  });
};

/** `say <text>`: prints text (subject to --quiet). */
export const registerSay: RegisterCommand = (program, ctx) => {
  program
    .command('say')
    .argument('<text>')
    .action((t: string) => printText(ctx, t));
};

/** `wait-for-abort`: waits until io.signal aborts, then throws a foreign AbortError. */
export const registerWait: RegisterCommand = (program, ctx) => {
  program.command('wait-for-abort').action(async () => {
    await new Promise<void>((resolve) => ctx.io.signal.addEventListener('abort', () => resolve(), { once: true }));
    throw new DOMException('This operation was aborted', 'AbortError');
  });
};

/** `open-repo`: resolves repository and password like a real command, prints what it got. */
export const registerOpenRepo: RegisterCommand = (program, ctx) => {
  program.command('open-repo').action(async () => {
    const repo = resolveRepository(ctx.globals(), ctx.io);
    const password = await resolvePassword(ctx.globals(), ctx.io);
    printJson(ctx, { message_type: 'opened', repo, password });
  });
};

export const TEST_COMMANDS: readonly RegisterCommand[] = [
  ...COMMANDS,
  registerProbe,
  registerFail,
  registerCrash,
  registerSay,
  registerWait,
  registerOpenRepo,
];

/** run() with the test commands; returns the exit code and what was printed. */
export async function cairn(
  argv: string[],
  options: TestIoOptions = {},
): Promise<{ code: number; out: string; err: string; io: TestIo }> {
  const io = makeIo(options);
  const code = await run(argv, io, TEST_COMMANDS);
  return { code, out: io.out(), err: io.err(), io };
}

/**
 * A temporary directory `root` holding a fresh repository `repo` (made with `env`'s password and
 * cheap KDF). Made inside a test, it is removed when that test finishes; made in a `beforeAll`
 * (where vitest has nothing to attach the removal to), the caller removes `root` in its `afterAll`.
 */
export async function scratchRepository(prefix: string, env: Record<string, string>): Promise<{ root: string; repo: string }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  if (TestRunner.getCurrentTest() !== undefined) onTestFinished(() => rm(root, { recursive: true, force: true }));
  const repo = join(root, 'repo');
  const init = await cairn(['-r', repo, 'repo', 'init'], { env });
  if (init.code !== 0) throw new Error(`repo init in ${repo} failed (exit ${init.code}): ${init.err}`);
  return { root, repo };
}
