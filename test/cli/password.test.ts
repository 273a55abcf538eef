import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CairnError, type ErrorCode } from '../../src/errors.js';
import {
  choosePasswordSource,
  goTrimSpace,
  readPasswordFromTty,
  resolvePassword,
  splitCommandLine,
} from '../../src/cli/password.js';
import { cairn, FakeTty, makeIo, type TestIoOptions } from './helpers.js';

let dir: string;
const NODE = `'${process.execPath}'`;
/** A password command that prints `text` (JSON-quoted into a node -e script). */
const printer = (text: string): string => `${NODE} -e 'process.stdout.write(${JSON.stringify(text)})'`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-cli-pw-'));
  writeFileSync(join(dir, 'pw.txt'), '  file secret \r\n\n');
  writeFileSync(join(dir, 'restic.txt'), 'restic file secret\n');
  writeFileSync(join(dir, 'empty.txt'), ' \n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function password(
  globals: { passwordFile?: string; passwordCommand?: string },
  options: TestIoOptions = {},
): Promise<string> {
  return resolvePassword(globals, makeIo({ cwd: dir, ...options }));
}

async function failure(p: Promise<unknown>): Promise<CairnError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CairnError);
  return e as CairnError;
}

/** The whole visible error, to check that no secret leaks into it. */
function visible(e: CairnError): string {
  return `${e.message} ${JSON.stringify(e.data)}`;
}

describe('password precedence', () => {
  it('--password-command beats everything in the environment', async () => {
    const env = { CAIRN_PASSWORD: 'env secret', CAIRN_PASSWORD_FILE: 'pw.txt', RESTIC_PASSWORD: 'r' };
    expect(await password({ passwordCommand: printer('cmd secret\n') }, { env })).toBe('cmd secret');
  });

  it('--password-file beats the environment', async () => {
    const env = { CAIRN_PASSWORD_COMMAND: printer('cmd'), CAIRN_PASSWORD: 'env secret' };
    expect(await password({ passwordFile: 'pw.txt' }, { env })).toBe('file secret');
  });

  it('both flags are mutually exclusive', async () => {
    const e = await failure(password({ passwordFile: 'pw.txt', passwordCommand: printer('x') }));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('mutually exclusive');
  });

  it('in the environment: command > file > password', async () => {
    expect(await password({}, { env: { CAIRN_PASSWORD_COMMAND: printer('cmd'), CAIRN_PASSWORD: 'p' } })).toBe('cmd');
    expect(await password({}, { env: { CAIRN_PASSWORD_FILE: 'pw.txt', CAIRN_PASSWORD: 'p' } })).toBe('file secret');
    expect(await password({}, { env: { CAIRN_PASSWORD: 'p' } })).toBe('p');
  });

  it('a group\'s FILE and COMMAND together are mutually exclusive', async () => {
    const e = await failure(
      password({}, { env: { RESTIC_PASSWORD_FILE: 'pw.txt', RESTIC_PASSWORD_COMMAND: printer('x') } }),
    );
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toBe('RESTIC_PASSWORD_FILE and RESTIC_PASSWORD_COMMAND are mutually exclusive: unset one of them');
  });

  it('any CAIRN_ variable hides all RESTIC_ ones; otherwise restic\'s variables work', async () => {
    // CAIRN_PASSWORD alone makes the CAIRN group win, even over a RESTIC_ command.
    const env = { CAIRN_PASSWORD: 'cairn', RESTIC_PASSWORD_COMMAND: printer('restic cmd') };
    expect(await password({}, { env })).toBe('cairn');
    expect(await password({}, { env: { RESTIC_PASSWORD_FILE: 'restic.txt' } })).toBe('restic file secret');
    expect(await password({}, { env: { RESTIC_PASSWORD: 'restic' } })).toBe('restic');
    expect(await password({}, { env: { CAIRN_PASSWORD: '', RESTIC_PASSWORD: 'restic' } })).toBe('restic');
  });

  it('choosePasswordSource reports where the password will come from, without the password', () => {
    expect(choosePasswordSource({}, { RESTIC_PASSWORD: 'hunter2' })).toEqual({ kind: 'env', origin: 'RESTIC_PASSWORD' });
    expect(choosePasswordSource({}, {})).toEqual({ kind: 'prompt' });
  });

  it('works end to end through run(), flags after the command name', async () => {
    const r = await cairn(['open-repo', '-r', '/repo', '--password-file', 'pw.txt', '--json'], {
      cwd: dir,
      env: { CAIRN_PASSWORD: 'ignored' },
    });
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toEqual({ message_type: 'opened', repo: '/repo', password: 'file secret' });
  });
});

describe('trimming', () => {
  it('file contents and command output are trimmed like Go strings.TrimSpace', async () => {
    expect(await password({ passwordFile: join(dir, 'pw.txt') })).toBe('file secret');
    expect(await password({ passwordCommand: printer('\t cmd  secret \n') })).toBe('cmd  secret');
    expect(goTrimSpace('\u00a0\u0085 x \u3000\u2028')).toBe('x');
    expect(goTrimSpace('\ufeffx')).toBe('\ufeffx'); // Go does not treat the BOM as space
  });

  it('the environment password is used verbatim', async () => {
    expect(await password({}, { env: { CAIRN_PASSWORD: '  spaced out \n' } })).toBe('  spaced out \n');
  });

  it('an empty password is refused', async () => {
    expect((await failure(password({ passwordFile: 'empty.txt' }))).code).toBe('ERR_NO_PASSWORD');
    expect((await failure(password({ passwordCommand: printer('\n') }))).code).toBe('ERR_NO_PASSWORD');
    expect((await failure(password({}, { stdinIsTTY: true, prompt: () => Promise.resolve('') }))).code).toBe(
      'ERR_NO_PASSWORD',
    );
  });
});

describe('password sources that fail', () => {
  it('a missing file is ERR_PASSWORD_SOURCE naming the file', async () => {
    const e = await failure(password({ passwordFile: 'nope.txt' }, { env: { CAIRN_PASSWORD: 'hunter2' } }));
    expect(e.code).toBe('ERR_PASSWORD_SOURCE');
    expect(e.message).toBe("cannot read password file 'nope.txt': no such file");
    expect(e.data).toMatchObject({ file: 'nope.txt' });
    expect(visible(e)).not.toContain('hunter2');
  });

  it('a failing command is ERR_PASSWORD_SOURCE naming the command, not its output', async () => {
    const cmd = `${NODE} -e 'process.stdout.write(["hun", "ter2"].join("")); process.exit(3)'`;
    const e = await failure(password({ passwordCommand: cmd }));
    expect(e.code).toBe('ERR_PASSWORD_SOURCE');
    expect(e.message).toBe(`password command '${cmd}' failed with exit code 3`);
    expect(e.data).toMatchObject({ command: cmd, exitCode: 3 });
    expect(visible(e)).not.toContain('hunter2');
  });

  it('a command killed by a signal, or not found, fails too', async () => {
    const killed = await failure(password({ passwordCommand: `${NODE} -e 'process.kill(process.pid, "SIGKILL")'` }));
    expect(killed.code).toBe('ERR_PASSWORD_SOURCE');
    expect(killed.message).toContain('killed by SIGKILL');
    const missing = await failure(password({ passwordCommand: 'cairn-no-such-command --flag' }));
    expect(missing.code).toBe('ERR_PASSWORD_SOURCE');
    expect(missing.message).toContain('cairn-no-such-command: command not found');
  });

  it('the command runs without a shell, in cwd, with the user environment; its stderr passes through', async () => {
    const script = join(dir, 'pw.sh');
    writeFileSync(script, '#!/bin/sh\necho "warning from helper" >&2\nprintf "%s|%s|%s" "$1" "$CAIRN_TEST_VAR" "$(pwd)"\n');
    chmodSync(script, 0o755);
    const io = makeIo({ cwd: dir, env: { CAIRN_TEST_VAR: 'from-env' } });
    const got = await resolvePassword({ passwordCommand: `./pw.sh 'a b;$HOME'` }, io);
    expect(got).toBe(`a b;$HOME|from-env|${dir}`);
    expect(io.err()).toBe('warning from helper\n');
  });

  it('an unterminated quote is ERR_INVALID_ARGUMENT', async () => {
    const e = await failure(password({ passwordCommand: "pass show 'oops" }));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('single-quoted string not terminated');
  });

  it('no source and no terminal: ERR_NO_PASSWORD listing the ways to give one', async () => {
    const e = await failure(password({}, { stdinIsTTY: false }));
    expect(e.code).toBe('ERR_NO_PASSWORD');
    for (const way of ['--password-file', '--password-command', 'CAIRN_PASSWORD', 'terminal']) {
      expect(e.message).toContain(way);
    }
    const r = await cairn(['open-repo', '-r', '/repo']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cairn: no password given/);
  });
});

describe('splitCommandLine', () => {
  it.each([
    ['pass show backup', ['pass', 'show', 'backup']],
    ['  a\t b  ', ['a', 'b']],
    [`cat '/my dir/pw file'`, ['cat', '/my dir/pw file']],
    [`sh -c "echo \\"hi\\" \\$HOME"`, ['sh', '-c', 'echo "hi" $HOME']],
    [`a\\ b c\\\\d`, ['a b', 'c\\d']],
    [`x'y'"z" ''`, ['xyz', '']],
    [`"a\\nb"`, ['a\\nb']],
  ])('%s', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });

  it('rejects empty commands and unterminated quotes', () => {
    expect(() => splitCommandLine('   ')).toThrow('empty');
    expect(() => splitCommandLine('a "b')).toThrow('double-quoted');
  });
});

describe('terminal prompt', () => {
  function ttyIo(): { tty: FakeTty; io: ReturnType<typeof makeIo> } {
    const tty = new FakeTty();
    return { tty, io: makeIo({ stdin: tty, stdinIsTTY: true }) };
  }

  it('asks on stderr without echo, in raw mode, and restores the mode', async () => {
    const { tty, io } = ttyIo();
    const p = readPasswordFromTty(io, 'enter password: ');
    tty.write('sec');
    tty.write('ret\r');
    expect(await p).toBe('secret');
    expect(io.err()).toBe('enter password: \n');
    expect(io.out()).toBe('');
    expect(tty.rawModes).toEqual([true, false]);
  });

  it('handles backspace, Ctrl-U, arrow keys and UTF-8 split across reads', async () => {
    const { tty, io } = ttyIo();
    const p = readPasswordFromTty(io, '? ');
    tty.write('junk\u0015ab\u007fc\x1b[Dd\b');
    const bytes = Buffer.from('é€\n');
    tty.write(bytes.subarray(0, 1));
    tty.write(bytes.subarray(1));
    expect(await p).toBe('acé€');
  });

  it.each<[string, string, ErrorCode]>([
    ['Ctrl-C', 'ab\u0003', 'ERR_INTERRUPTED'],
    ['Ctrl-D on an empty line', '\u0004', 'ERR_NO_PASSWORD'],
  ])('%s fails with the right code', async (_name, input, code) => {
    const { tty, io } = ttyIo();
    const p = readPasswordFromTty(io, '? ');
    tty.write(input);
    expect((await failure(p)).code).toBe(code);
    expect(tty.isRaw).toBe(false);
  });

  it('an abort (SIGINT while waiting) stops the prompt with ERR_INTERRUPTED', async () => {
    const { tty, io } = ttyIo();
    const p = readPasswordFromTty(io, '? ');
    io.controller.abort();
    expect((await failure(p)).code).toBe('ERR_INTERRUPTED');
    expect(tty.isRaw).toBe(false);
  });

  it('run() prompts when there is no other source and stdin is a terminal', async () => {
    const tty = new FakeTty();
    setTimeout(() => tty.write('typed secret\r'), 5);
    const r = await cairn(['open-repo', '-r', '/repo', '--json'], { stdin: tty, stdinIsTTY: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ password: 'typed secret' });
    expect(r.err).toBe('enter password for repository: \n');
  });

  it('run() maps Ctrl-C at the prompt to exit 130', async () => {
    const tty = new FakeTty();
    setTimeout(() => tty.write('\u0003'), 5);
    const r = await cairn(['open-repo', '-r', '/repo'], { stdin: tty, stdinIsTTY: true });
    expect(r.code).toBe(130);
  });

  it('an injected io.prompt is used instead of the raw reader', async () => {
    const asked: string[] = [];
    const got = await password(
      {},
      {
        stdinIsTTY: true,
        prompt: (q) => {
          asked.push(q);
          return Promise.resolve('from prompt');
        },
      },
    );
    expect(got).toBe('from prompt');
    expect(asked).toEqual(['enter password for repository: ']);
  });
});
