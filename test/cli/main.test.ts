import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { run } from '../../src/cli/main.js';
import { cairn, makeIo } from './helpers.js';
import { jsonLines } from '../helpers/json.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('global options placement', () => {
  it.each([
    [['--json', '-r', '/repo', '-q', '-v', 'probe', 'a']],
    [['probe', 'a', '--json', '-r', '/repo', '-q', '-v']],
    [['--json', 'probe', '-r', '/repo', 'a', '-qv']],
    [['--repo=/repo', 'probe', '--json', 'a', '--quiet', '--verbose']],
  ])('accepts global flags before or after the command: %j', async (argv) => {
    const r = await cairn(argv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(jsonLines(r.out)).toEqual([
      { file: 'a', size: null, globals: { json: true, repo: '/repo', quiet: true, verbose: 1 } },
    ]);
  });

  it('mixes global and command options in any order', async () => {
    const r = await cairn(['probe', '--size', '7', '--password-file', 'pw.txt', 'f', '--password-command', 'x y']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.out)).toEqual([
      {
        file: 'f',
        size: '7',
        globals: { json: false, quiet: false, verbose: 0, passwordFile: 'pw.txt', passwordCommand: 'x y' },
      },
    ]);
  });

  it('counts repeated -v', async () => {
    const r = await cairn(['probe', '-vv', '--verbose']);
    expect((jsonLines(r.out)[0] as { globals: { verbose: number } }).globals.verbose).toBe(3);
  });

  it('treats everything after -- as operands', async () => {
    const r = await cairn(['probe', '--', '--json']);
    expect(jsonLines(r.out)).toEqual([{ file: '--json', size: null, globals: { json: false, quiet: false, verbose: 0 } }]);
  });
});

describe('help and version', () => {
  it('--version prints the version from package.json, before or after a command', async () => {
    for (const argv of [['--version'], ['-V'], ['probe', '--version']]) {
      const r = await cairn(argv);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${pkg.version}\n`);
      expect(r.err).toBe('');
    }
  });

  it('--help lists every global option and the commands, on stdout with exit 0', async () => {
    const r = await cairn(['--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    for (const flag of [
      '--json',
      '-r, --repo <url>',
      '--password-file <file>',
      '--password-command <command>',
      '-q, --quiet',
      '-v, --verbose',
      '-V, --version',
      '-h, --help',
    ]) {
      expect(r.out).toContain(flag);
    }
    expect(r.out).toContain('CAIRN_REPOSITORY');
    expect(r.out).toMatch(/^\s+probe \[options\] \[file\]/m);
    expect(r.out).toMatch(/^\s+help \[command\.\.\.\]/m);
  });

  it('the real registry builds and shows help (no test commands)', async () => {
    const io = makeIo();
    expect(await run(['--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: cairn');
  });

  it('`help <command>` and `<command> --help` show the command options and the global ones', async () => {
    for (const argv of [['help', 'probe'], ['probe', '--help']]) {
      const r = await cairn(argv);
      expect(r.code).toBe(0);
      expect(r.out).toContain('Usage: cairn probe [options] [file]');
      expect(r.out).toContain('--size <n>');
      expect(r.out).toContain('Global Options:');
      expect(r.out).toContain('--password-command <command>');
    }
  });

  it('`help` alone is --help; `help <unknown>` is a usage error', async () => {
    const help = await cairn(['help']);
    expect(help.code).toBe(0);
    expect(help.out).toBe((await cairn(['--help'])).out);
    const unknown = await cairn(['help', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toBe('');
    expect(unknown.err).toBe("cairn: unknown command 'nope'\nTry 'cairn --help' for more information.\n");
  });

  it('no command: help on stderr, exit 1', async () => {
    const r = await cairn([]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('Usage: cairn');
    expect(r.err).toContain("cairn: no command given\nTry 'cairn --help' for more information.\n");
  });
});

describe('usage errors', () => {
  it('unknown option: commander message and a hint, exit 1, nothing on stdout', async () => {
    const r = await cairn(['probe', '--bogus']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe("cairn: unknown option '--bogus'\nTry 'cairn probe --help' for more information.\n");
  });

  it('unknown command suggests the near one', async () => {
    const r = await cairn(['prob']);
    expect(r.code).toBe(1);
    expect(r.err).toContain("cairn: unknown command 'prob'");
    expect(r.err).toContain('Did you mean probe?');
    expect(r.err).toContain("Try 'cairn --help'");
  });

  it('missing argument names the command in the hint', async () => {
    const r = await cairn(['fail']);
    expect(r.code).toBe(1);
    expect(r.err).toBe("cairn: missing required argument 'code'\nTry 'cairn fail --help' for more information.\n");
  });

  it('missing option value', async () => {
    const r = await cairn(['probe', '--repo']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cairn: option '-r, --repo <url>' argument missing\n/);
  });

  it('with --json, a usage error is one JSON line on stderr', async () => {
    const r = await cairn(['--json', 'probe', 'a', 'b']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.endsWith('\n')).toBe(true);
    expect(jsonLines(r.err)).toEqual([
      {
        message_type: 'error',
        code: 'ERR_USAGE',
        message: "too many arguments for 'probe'. Expected 1 argument but got 2.",
        data: {},
      },
    ]);
  });
});

describe('errors and exit codes', () => {
  const expected: Partial<Record<ErrorCode, number>> = {
    ERR_PARTIAL: 3,
    ERR_REPO_NOT_FOUND: 10,
    ERR_REPO_LOCKED: 11,
    ERR_WRONG_PASSWORD: 12,
    ERR_INTERRUPTED: 130,
  };

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('%s exits with its documented code', async (code) => {
    const r = await cairn(['fail', code]);
    expect(r.code).toBe(expected[code] ?? 1);
    const hint = code === 'ERR_USAGE' ? "Try 'cairn --help' for more information.\n" : '';
    expect(r.err).toBe(`cairn: failed on purpose with ${code}\n${hint}`);
    expect(r.out).toBe('');
  });

  it('--json error line has message_type, code, message and data', async () => {
    const r = await cairn(['fail', 'ERR_REPO_LOCKED', '--json']);
    expect(r.code).toBe(11);
    expect(r.err.split('\n')).toHaveLength(2); // exactly one line
    expect(JSON.parse(r.err)).toEqual({
      message_type: 'error',
      code: 'ERR_REPO_LOCKED',
      message: 'failed on purpose with ERR_REPO_LOCKED',
      data: { path: '/some/file' },
    });
  });

  it('never prints a stack trace for a CairnError; -v adds the cause', async () => {
    const quiet = await cairn(['fail', 'ERR_FILE_READ']);
    expect(quiet.err).not.toMatch(/\n\s+at /);
    const verbose = await cairn(['fail', 'ERR_FILE_READ', '-v']);
    expect(verbose.err).toBe('cairn: failed on purpose with ERR_FILE_READ\n  caused by: the underlying reason\n');
  });

  it('an unexpected error maps to ERR_INTERNAL (exit 1); the stack only with -v', async () => {
    const plain = await cairn(['crash']);
    expect(plain.code).toBe(1);
    expect(plain.err).toContain('cairn: unexpected error: boom: undefined is not a function');
    expect(plain.err).toContain('run with -v');
    expect(plain.err).not.toMatch(/\n\s+at /);

    const verbose = await cairn(['-v', 'crash']);
    expect(verbose.code).toBe(1);
    expect(verbose.err).toMatch(/TypeError: boom[^\n]*\n\s+at /);

    const json = await cairn(['--json', 'crash']);
    expect(jsonLines(json.err)).toEqual([
      { message_type: 'error', code: 'ERR_INTERNAL', message: expect.stringContaining('boom') as unknown, data: {} },
    ]);
  });

  it('an abort of io.signal turns a foreign AbortError into exit 130', async () => {
    const io = makeIo();
    const { TEST_COMMANDS } = await import('./helpers.js');
    const pending = run(['wait-for-abort'], io, TEST_COMMANDS);
    setTimeout(() => io.controller.abort(), 10);
    expect(await pending).toBe(130);
    expect(io.err()).toBe('cairn: interrupted\n');
  });
});

describe('output', () => {
  it('--quiet silences text but not JSON', async () => {
    expect((await cairn(['say', 'hello'])).out).toBe('hello\n');
    expect((await cairn(['say', 'hello', '-q'])).out).toBe('');
    expect((await cairn(['-q', '--json', 'probe'])).out).not.toBe('');
  });
});

describe('repository location', () => {
  const env = { CAIRN_REPOSITORY: '/cairn-repo', RESTIC_REPOSITORY: '/restic-repo', CAIRN_PASSWORD: 'pw' };

  it('flag beats CAIRN_REPOSITORY beats RESTIC_REPOSITORY', async () => {
    const open = async (argv: string[], e: Record<string, string>): Promise<unknown> =>
      (jsonLines((await cairn(['open-repo', ...argv], { env: e })).out)[0] as { repo: string }).repo;
    expect(await open(['-r', '/flag'], env)).toBe('/flag');
    expect(await open([], env)).toBe('/cairn-repo');
    expect(await open([], { RESTIC_REPOSITORY: '/restic-repo', CAIRN_PASSWORD: 'pw' })).toBe('/restic-repo');
    expect(await open([], { CAIRN_REPOSITORY: '', RESTIC_REPOSITORY: '/restic-repo', CAIRN_PASSWORD: 'pw' })).toBe(
      '/restic-repo',
    );
  });

  it('no repository anywhere: ERR_NO_REPOSITORY naming the ways to give one', async () => {
    const r = await cairn(['open-repo', '--json'], { env: { CAIRN_PASSWORD: 'pw' } });
    expect(r.code).toBe(1);
    const line = jsonLines(r.err)[0] as { code: string; message: string };
    expect(line.code).toBe('ERR_NO_REPOSITORY');
    expect(line.message).toContain('--repo');
    expect(line.message).toContain('CAIRN_REPOSITORY');
  });
});
