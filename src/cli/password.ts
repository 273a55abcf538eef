/**
 * Where the repository and its password come from. Both are resolved lazily: only commands that
 * open a repository call these, so `cairn --help` never asks for a password.
 *
 * Password precedence (restic's, with a CAIRN_ group in front of restic's own variables):
 *   1. `--password-command`, 2. `--password-file` (giving both flags is an error);
 *   3. the environment group: CAIRN_PASSWORD_COMMAND / CAIRN_PASSWORD_FILE / CAIRN_PASSWORD if any
 *      of those three is set, else RESTIC_PASSWORD_COMMAND / RESTIC_PASSWORD_FILE / RESTIC_PASSWORD;
 *      within the group command > file > password, and a group's FILE and COMMAND together are an
 *      error. A flag overrides the whole environment group. Empty variables count as unset;
 *   4. a prompt without echo when stdin is a terminal, else ERR_NO_PASSWORD.
 * File contents and command output are trimmed of surrounding white space exactly like restic
 * (Go's strings.TrimSpace), so a repository made by restic opens with the same file; an
 * environment password is used verbatim. An empty password is refused.
 *
 * Secrets: the password is never put into an error message, error data, or a log line. The
 * command is split shell-like and run without a shell; its stdout is the password, its stderr is
 * passed through (so gpg or pass can explain themselves).
 */
import { spawn } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { CairnError, messageOf } from '../index.js';
import type { CliIo, GlobalOptions } from './context.js';

/** Password files and command output larger than this are refused (a password is not a file). */
export const MAX_PASSWORD_SOURCE_BYTES = 1024 * 1024;

type Env = CliIo['env'];

/** A non-empty environment variable, or undefined. */
function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A location from its flag, else the first of two environment variables set (non-empty). */
export function pickLocation(flag: string | undefined, env: Env, cairnVar: string, resticVar: string): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  return envValue(env, cairnVar) ?? envValue(env, resticVar);
}

/** The repository location: `-r/--repo`, else CAIRN_REPOSITORY, else RESTIC_REPOSITORY. */
export function resolveRepository(globals: Pick<GlobalOptions, 'repo'>, io: Pick<CliIo, 'env'>): string {
  const location = pickLocation(globals.repo, io.env, 'CAIRN_REPOSITORY', 'RESTIC_REPOSITORY');
  if (location !== undefined) return location;
  throw new CairnError(
    'ERR_NO_REPOSITORY',
    'no repository given: use -r/--repo <location>, or set CAIRN_REPOSITORY (or RESTIC_REPOSITORY)',
  );
}

/** Where the password will come from. It never holds the password itself, so it is safe to log. */
export type PasswordSource =
  | { readonly kind: 'command'; readonly command: string; readonly origin: string }
  | { readonly kind: 'file'; readonly path: string; readonly origin: string }
  | { readonly kind: 'env'; readonly origin: string }
  | { readonly kind: 'prompt' };

/** Picks the password source by the precedence above. Pure: reads only its arguments. */
export function choosePasswordSource(
  globals: Pick<GlobalOptions, 'passwordFile' | 'passwordCommand'>,
  env: Env,
): PasswordSource {
  return pickPasswordSource({ command: globals.passwordCommand, file: globals.passwordFile }, env, { flag: '--password', env: ['CAIRN', 'RESTIC'] });
}

/**
 * The precedence for any repository's password: `<flag>-command`, then `<flag>-file` (both
 * given: an error), then the first environment group with any of its variables set
 * (`<PREFIX>_PASSWORD_COMMAND`, `_FILE`, `<PREFIX>_PASSWORD`), else a prompt. `names.flag` is
 * `--password` or `--from-password`; `names.env` the prefixes in order (CAIRN, then RESTIC).
 */
export function pickPasswordSource(
  flags: { readonly command?: string | undefined; readonly file?: string | undefined },
  env: Env,
  names: { readonly flag: string; readonly env: readonly [string, string] },
): PasswordSource {
  const commandFlag = `${names.flag}-command`;
  const fileFlag = `${names.flag}-file`;
  if (flags.command !== undefined && flags.file !== undefined) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${fileFlag} and ${commandFlag} are mutually exclusive: give only one`, {
      data: { options: [fileFlag, commandFlag] },
    });
  }
  if (flags.command !== undefined) return { kind: 'command', command: flags.command, origin: commandFlag };
  if (flags.file !== undefined) return { kind: 'file', path: flags.file, origin: fileFlag };
  const [first, second] = names.env;
  const firstGroup = ['_PASSWORD', '_PASSWORD_FILE', '_PASSWORD_COMMAND'].some((suffix) => envValue(env, `${first}${suffix}`) !== undefined);
  const prefix = firstGroup ? first : second;
  const commandVar = `${prefix}_PASSWORD_COMMAND`;
  const fileVar = `${prefix}_PASSWORD_FILE`;
  const passwordVar = `${prefix}_PASSWORD`;
  const envCommand = envValue(env, commandVar);
  const envFile = envValue(env, fileVar);
  if (envCommand !== undefined && envFile !== undefined) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${fileVar} and ${commandVar} are mutually exclusive: unset one of them`, {
      data: { variables: [fileVar, commandVar] },
    });
  }
  if (envCommand !== undefined) return { kind: 'command', command: envCommand, origin: commandVar };
  if (envFile !== undefined) return { kind: 'file', path: envFile, origin: fileVar };
  if (envValue(env, passwordVar) !== undefined) return { kind: 'env', origin: passwordVar };
  return { kind: 'prompt' };
}

/**
 * The environment for a program cairn runs on the user's behalf (`--stdin-from-command`): the
 * user's, as restic passes it, minus the variable that holds the repository password cairn is
 * using (CAIRN_PASSWORD, or RESTIC_PASSWORD when cairn takes its password from it), so the
 * password never reaches a child process. Every other variable, RESTIC_PASSWORD included when it
 * is not cairn's password, passes through.
 */
export function childEnvironment(
  globals: Pick<GlobalOptions, 'passwordFile' | 'passwordCommand'>,
  env: Env,
): Record<string, string> {
  let drop: string | undefined;
  try {
    const source = choosePasswordSource(globals, env);
    if (source.kind === 'env') drop = source.origin;
  } catch {
    // Conflicting sources: the command fails on them before any child runs; drop nothing extra.
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== drop) out[k] = v;
  return out;
}

export interface ResolvePasswordOptions {
  /** @default 'enter password for repository: ' */
  readonly question?: string;
  /** When prompting, ask a second time and require the same answer (new repositories, new keys). */
  readonly confirm?: boolean;
  /** Use this source instead of choosing one from `globals` and the environment (copy's --from-*: from-repo.ts). */
  readonly source?: PasswordSource;
}

/** Resolves the repository password (see the module comment for the rules). */
export async function resolvePassword(
  globals: Pick<GlobalOptions, 'passwordFile' | 'passwordCommand'>,
  io: CliIo,
  options: ResolvePasswordOptions = {},
): Promise<string> {
  const source = options.source ?? choosePasswordSource(globals, io.env);
  let password: string;
  switch (source.kind) {
    case 'command':
      password = goTrimSpace(await runPasswordCommand(source.command, source.origin, io));
      if (password === '') {
        throw new CairnError('ERR_NO_PASSWORD', `password command ${quote(source.command)} printed an empty password`, {
          data: { command: source.command, origin: source.origin },
        });
      }
      return password;
    case 'file':
      password = goTrimSpace(await readPasswordFile(source.path, source.origin, io.cwd));
      if (password === '') {
        throw new CairnError('ERR_NO_PASSWORD', `password file ${quote(source.path)} is empty`, {
          data: { file: source.path, origin: source.origin },
        });
      }
      return password;
    case 'env':
      return envValue(io.env, source.origin) ?? '';
    case 'prompt': {
      if (!io.isTTY.stdin) {
        throw new CairnError(
          'ERR_NO_PASSWORD',
          'no password given and stdin is not a terminal to ask on: use --password-file <file>, ' +
            '--password-command <command>, set CAIRN_PASSWORD (or CAIRN_PASSWORD_FILE / ' +
            'CAIRN_PASSWORD_COMMAND, or the RESTIC_ equivalents), or run cairn in a terminal',
        );
      }
      const question = options.question ?? 'enter password for repository: ';
      const ask = (q: string): Promise<string> => (io.prompt !== undefined ? io.prompt(q) : readPasswordFromTty(io, q));
      password = await ask(question);
      if (password === '') throw new CairnError('ERR_NO_PASSWORD', 'an empty password is not allowed');
      if (options.confirm === true && (await ask('enter password again: ')) !== password) {
        throw new CairnError('ERR_INVALID_ARGUMENT', 'the two passwords you typed differ; nothing was created, run the command again');
      }
      return password;
    }
  }
}

/**
 * The new password of `key add` / `key passwd`: from `file` (`--new-password-file`, trimmed like a
 * password file, restic's flag), else asked twice on the terminal ("enter new password: ", "enter
 * password again: "), else ERR_NO_PASSWORD. Unlike restic, a stdin that is not a terminal is not
 * read (cairn reads no password from a pipe). Never taken from the environment: the repository
 * password's variables name the password in use, not the new one.
 */
export async function resolveNewPassword(file: string | undefined, io: CliIo): Promise<string> {
  if (file !== undefined) {
    const password = goTrimSpace(await readPasswordFile(file, '--new-password-file', io.cwd));
    if (password === '') {
      throw new CairnError('ERR_NO_PASSWORD', `new password file ${quote(file)} is empty; an empty password is not allowed, nothing was changed`, {
        data: { file, origin: '--new-password-file' },
      });
    }
    return password;
  }
  if (!io.isTTY.stdin) {
    throw new CairnError(
      'ERR_NO_PASSWORD',
      'no new password given and stdin is not a terminal to ask on: use --new-password-file <file>, or run cairn in a terminal; nothing was changed',
    );
  }
  const ask = (q: string): Promise<string> => (io.prompt !== undefined ? io.prompt(q) : readPasswordFromTty(io, q));
  const password = await ask('enter new password: ');
  if (password === '') throw new CairnError('ERR_NO_PASSWORD', 'an empty password is not allowed; nothing was changed');
  if ((await ask('enter password again: ')) !== password) {
    throw new CairnError('ERR_INVALID_ARGUMENT', 'the two passwords you typed differ; nothing was changed, run the command again');
  }
  return password;
}

/** Go's strings.TrimSpace: strips Unicode White_Space (incl. U+0085, excl. U+FEFF) at both ends. */
export function goTrimSpace(s: string): string {
  return s.replace(GO_SPACE_START, '').replace(GO_SPACE_END, '');
}
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const GO_SPACE_START = new RegExp(`^[${GO_SPACE}]+`);
const GO_SPACE_END = new RegExp(`[${GO_SPACE}]+$`);

function quote(s: string): string {
  return `'${s}'`;
}

async function readPasswordFile(path: string, origin: string, cwd: string): Promise<string> {
  const data = { file: path, origin };
  let handle: FileHandle;
  try {
    handle = await open(resolvePath(cwd, path), 'r');
  } catch (e) {
    throw new CairnError('ERR_PASSWORD_SOURCE', `cannot read password file ${quote(path)}: ${reasonOf(e)}`, {
      data,
      cause: e,
    });
  }
  try {
    // Read in a loop rather than stat+readFile: the file may be a pipe (`--password-file <(pass x)`).
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(64 * 1024);
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_PASSWORD_SOURCE_BYTES) {
        throw new CairnError(
          'ERR_PASSWORD_SOURCE',
          `password file ${quote(path)} is larger than ${MAX_PASSWORD_SOURCE_BYTES} bytes; is it the right file?`,
          { data },
        );
      }
      chunks.push(buf.subarray(0, bytesRead));
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  } catch (e) {
    if (e instanceof CairnError) throw e;
    throw new CairnError('ERR_PASSWORD_SOURCE', `cannot read password file ${quote(path)}: ${reasonOf(e)}`, {
      data,
      cause: e,
    });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** A short reason for an fs error: "no such file or directory" style, never file contents. */
function reasonOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return messageOf(e);
}

async function runPasswordCommand(command: string, origin: string, io: CliIo): Promise<string> {
  const data = { command, origin };
  let argv: string[];
  try {
    argv = splitCommandLine(command);
  } catch (e) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `cannot parse password command ${quote(command)}: ${messageOf(e)}`, {
      data,
    });
  }
  const [file, ...args] = argv as [string, ...string[]];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(io.env)) if (v !== undefined) env[k] = v;

  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (err: CairnError | null, value = ''): void => {
      if (settled) return;
      settled = true;
      if (err !== null) reject(err);
      else resolve(value);
    };
    if (io.signal.aborted) {
      settle(new CairnError('ERR_INTERRUPTED', 'interrupted while running the password command'));
      return;
    }
    const child = spawn(file, args, {
      cwd: io.cwd,
      env,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: io.signal,
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    let total = 0;
    let tooLarge = false;
    child.stdout.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_PASSWORD_SOURCE_BYTES) {
        tooLarge = true;
        child.kill();
        return;
      }
      chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk));
    child.on('error', (e) => {
      if (io.signal.aborted) {
        settle(new CairnError('ERR_INTERRUPTED', 'interrupted while running the password command'));
        return;
      }
      settle(
        new CairnError('ERR_PASSWORD_SOURCE', `password command ${quote(command)} could not be started: ${
          (e as { code?: unknown }).code === 'ENOENT' ? `${file}: command not found` : reasonOf(e)
        }`, {
          data,
          cause: e,
        }),
      );
    });
    child.on('close', (code, signal) => {
      if (io.signal.aborted) {
        settle(new CairnError('ERR_INTERRUPTED', 'interrupted while running the password command'));
      } else if (tooLarge) {
        settle(
          new CairnError(
            'ERR_PASSWORD_SOURCE',
            `password command ${quote(command)} printed more than ${MAX_PASSWORD_SOURCE_BYTES} bytes`,
            { data },
          ),
        );
      } else if (signal !== null) {
        settle(
          new CairnError('ERR_PASSWORD_SOURCE', `password command ${quote(command)} was killed by ${signal}`, {
            data: { ...data, signal },
          }),
        );
      } else if (code !== 0) {
        settle(
          new CairnError('ERR_PASSWORD_SOURCE', `password command ${quote(command)} failed with exit code ${code}`, {
            data: { ...data, exitCode: code },
          }),
        );
      } else {
        settle(null, new TextDecoder().decode(Buffer.concat(chunks)));
      }
    });
  });
}

/**
 * Splits a command line into words like a POSIX shell does, without any expansion: white space
 * separates words; '…' is literal; "…" is literal except that \" \\ \$ \` are escapes; a
 * backslash outside quotes makes the next character literal. No $VAR, ~, globs, pipes or
 * redirections: wrap the command in `sh -c '…'` for those. Throws on an unterminated quote or
 * an empty command.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === '\\') {
      word = (word ?? '') + (i + 1 < line.length ? line[i + 1] : '\\');
      i += 2;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('single-quoted string not terminated');
      word = (word ?? '') + line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      word ??= '';
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('double-quoted string not terminated');
        const d = line[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        const next = line[i + 1];
        if (d === '\\' && next !== undefined && '"\\$`'.includes(next)) {
          word += next;
          i += 2;
        } else if (d === '\\' && next === '\n') {
          i += 2; // line continuation
        } else {
          word += d;
          i++;
        }
      }
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== null) words.push(word);
  if (words.length === 0) throw new Error('the command is empty');
  return words;
}

/** A terminal input stream: process.stdin when it is a TTY, or a fake one in tests. */
type TtyInput = NodeJS.ReadableStream & { isRaw?: boolean; setRawMode?: (raw: boolean) => unknown };

/**
 * Reads a secret from a terminal in raw mode: writes `question` to stderr, echoes nothing,
 * handles Backspace/Delete, Ctrl-U (clear), Enter (done), Ctrl-C (ERR_INTERRUPTED), Ctrl-D
 * (done, or ERR_NO_PASSWORD when nothing was typed), ignores arrow keys and other escape
 * sequences, and restores the terminal mode afterwards.
 */
export function readPasswordFromTty(io: Pick<CliIo, 'stdin' | 'stderr' | 'signal'>, question: string): Promise<string> {
  const stdin = io.stdin as TtyInput;
  return new Promise<string>((resolve, reject) => {
    const interrupted = (): CairnError => new CairnError('ERR_INTERRUPTED', 'interrupted while asking for the password');
    if (io.signal.aborted) {
      reject(interrupted());
      return;
    }
    const decoder = new TextDecoder();
    let chars: string[] = [];
    let esc: 0 | 1 | 2 = 0; // 1: after ESC, 2: inside a CSI/SS3 sequence
    const wasRaw = stdin.isRaw === true;
    const canRaw = typeof stdin.setRawMode === 'function';
    let done = false;

    const finish = (err: CairnError | null): void => {
      if (done) return;
      done = true;
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', onError);
      io.signal.removeEventListener('abort', onAbort);
      if (canRaw) stdin.setRawMode?.(wasRaw);
      stdin.pause();
      io.stderr.write('\n'); // Enter was not echoed
      if (err !== null) reject(err);
      else resolve(chars.join(''));
    };
    const noInput = (): CairnError => new CairnError('ERR_NO_PASSWORD', 'no password entered');

    function onData(chunk: Buffer | string): void {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      for (const ch of text) {
        if (done) return;
        if (esc === 1) {
          esc = ch === '[' || ch === 'O' ? 2 : 0;
          continue;
        }
        if (esc === 2) {
          if (ch >= '@' && ch <= '~') esc = 0;
          continue;
        }
        switch (ch) {
          case '\r':
          case '\n':
            finish(null);
            return;
          case '\u0003':
            finish(interrupted());
            return;
          case '\u0004':
            finish(chars.length === 0 ? noInput() : null);
            return;
          case '\u007f':
          case '\b':
            chars.pop();
            break;
          case '\u0015':
            chars = [];
            break;
          case '\u001b':
            esc = 1;
            break;
          default:
            if (ch >= ' ') chars.push(ch); // other control characters are ignored
        }
      }
    }
    function onEnd(): void {
      finish(chars.length === 0 ? noInput() : null);
    }
    function onError(e: unknown): void {
      finish(new CairnError('ERR_PASSWORD_SOURCE', `cannot read the password from the terminal: ${messageOf(e)}`));
    }
    function onAbort(): void {
      finish(interrupted());
    }

    io.stderr.write(question);
    if (canRaw) stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    io.signal.addEventListener('abort', onAbort, { once: true });
    stdin.resume();
  });
}
