/**
 * Passwords stay secret: running init, snapshot and every key command with distinctive passwords
 * (from a password file, from CAIRN_PASSWORD, from RESTIC_PASSWORD, from a prompt, from a new-password
 * file), in text, --json and -vv modes, including the failures a user meets (wrong password, bad or
 * empty new-password file, typing two different new passwords, a password command that fails
 * after printing the password, refusals), never prints a password on stdout or stderr, nor stores
 * it in a repository file. A program cairn starts (`--stdin-from-command`) gets neither the
 * password in its arguments nor the variable holding it in its environment (spec/cli.md).
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn, type TestIoOptions } from './helpers.js';

const SECRET = 'Zq7-repo-SECRET-3141';
const NEW_SECRET = 'Zq7-new-SECRET-2718';
const THIRD_SECRET = 'Zq7-third-SECRET-1618';
const SECRETS = [SECRET, NEW_SECRET, THIRD_SECRET];
const KDF = '1024:8:1';

let root: string;
let repo: string;
let src: string;
const printed: Array<{ argv: string[]; out: string; err: string }> = [];

/** Runs cairn and keeps everything it printed for the final check. */
async function run(argv: string[], options: TestIoOptions = {}): Promise<{ code: number; out: string; err: string }> {
  const r = await cairn(argv, { ...options, env: { CAIRN_KDF: KDF, ...options.env } });
  printed.push({ argv, out: r.out, err: r.err });
  return r;
}

/** Every mode a user may run a command in. */
const MODES: ReadonlyArray<readonly string[]> = [[], ['--json'], ['-vv'], ['--json', '-vv']];

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-secrets-'));
  repo = join(root, 'repo');
  src = join(root, 'src');
  await mkdir(src);
  await writeFile(join(src, 'a.txt'), 'hello\n');
  await writeFile(join(root, 'pw'), `${SECRET}\n`);
  await writeFile(join(root, 'new'), `${NEW_SECRET}\n`);
  await writeFile(join(root, 'third'), `${THIRD_SECRET}\n`);
  await writeFile(join(root, 'empty'), '\n');
  await mkdir(join(root, 'adir'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('passwords never appear in output', () => {
  it('init, snapshot and the key commands, succeeding and failing, in every output mode', async () => {
    expect((await run(['-r', repo, 'repo', 'init'], { env: { CAIRN_PASSWORD: SECRET } })).code).toBe(0);
    const viaFile = ['-r', repo, '--password-file', join(root, 'pw')];
    const viaEnv = { CAIRN_PASSWORD: SECRET };
    for (const mode of MODES) {
      expect((await run([...viaFile, 'snapshot', src, ...mode])).code).toBe(0);
      expect((await run(['-r', repo, 'snapshot', src, ...mode], { env: viaEnv })).code).toBe(0);
      expect((await run(['-r', repo, 'snapshots', ...mode], { env: { RESTIC_PASSWORD: SECRET } })).code).toBe(0);
      expect((await run([...viaFile, 'key', 'list', ...mode])).code).toBe(0);
      // failures: a wrong password given through each source
      expect((await run(['-r', repo, 'key', 'list', ...mode], { env: { CAIRN_PASSWORD: NEW_SECRET } })).code).toBe(12);
      expect((await run(['-r', repo, '--password-file', join(root, 'new'), 'snapshot', src, ...mode])).code).toBe(12);
      expect((await run(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'new'), ...mode], { env: { CAIRN_PASSWORD: THIRD_SECRET } })).code).toBe(12);
      // a password command that prints the password, then fails
      expect((await run(['-r', repo, '--password-command', `sh -c 'cat ${join(root, 'pw')}; exit 3'`, 'key', 'list', ...mode])).code).toBe(1);
      // bad new-password files, and no terminal to ask on
      for (const bad of [join(root, 'missing'), join(root, 'empty'), join(root, 'adir')]) {
        expect((await run(['-r', repo, 'key', 'add', '--new-password-file', bad, ...mode], { env: viaEnv })).code).toBe(1);
      }
      expect((await run(['-r', repo, 'key', 'passwd', ...mode], { env: viaEnv })).code).toBe(1);
      // two different new passwords typed at the prompt
      const answers = [NEW_SECRET, THIRD_SECRET];
      expect((await run(['-r', repo, 'key', 'add', ...mode], { env: viaEnv, stdinIsTTY: true, prompt: async () => answers.shift()! })).code).toBe(1);
    }
    // key add, refusals, passwd, remove: each once in every mode, over a chain of passwords
    const add = await run(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'new'), '--json', '-vv'], { env: viaEnv });
    expect(add.code, add.err).toBe(0);
    const added = JSON.parse(add.out) as { id: string };
    const current = (JSON.parse((await run([...viaFile, 'key', 'list', '--json'])).out) as Array<{ id: string; current: boolean }>).find((k) => k.current)!.id;
    for (const mode of MODES) {
      expect((await run([...viaFile, 'key', 'remove', current, ...mode])).code).toBe(1);
      expect((await run([...viaFile, 'key', 'remove', 'ffffffffff', ...mode])).code).toBe(1);
    }
    const passwd = await run(['-r', repo, 'key', 'passwd', '-vv'], { env: viaEnv, stdinIsTTY: true, prompt: async () => THIRD_SECRET });
    expect(passwd.code, passwd.err).toBe(0);
    expect((await run(['-r', repo, 'key', 'remove', added.id, '-vv'], { env: { CAIRN_PASSWORD: THIRD_SECRET } })).code).toBe(0);
    expect((await run(['-r', repo, 'key', 'list', '-vv'], { env: { CAIRN_PASSWORD: THIRD_SECRET } })).code).toBe(0);

    expect(printed.length).toBeGreaterThan(50);
    for (const p of printed) {
      for (const s of SECRETS) {
        expect(p.out.includes(s), `stdout of cairn ${p.argv.join(' ')}`).toBe(false);
        expect(p.err.includes(s), `stderr of cairn ${p.argv.join(' ')}: ${p.err}`).toBe(false);
      }
    }
    // and no repository file holds a password
    for (const f of await filesUnder(repo)) {
      const bytes = await readFile(f);
      for (const s of SECRETS) expect(bytes.includes(Buffer.from(s)), f).toBe(false);
    }
  });
});

describe('programs cairn starts', () => {
  /** A --stdin-from-command script that records its arguments and environment in `dir`. */
  const recorder = (dir: string): string[] => ['sh', '-c', `printf '%s\\n' "$0" "$@" > '${dir}/argv'; env > '${dir}/env'; echo data`, 'arg0', 'arg1'];

  it('--stdin-from-command: no password in the child\'s arguments, and not the variable cairn took it from in its environment', async () => {
    const repo = join(root, 'child-repo');
    expect((await run(['-r', repo, 'repo', 'init'], { env: { CAIRN_PASSWORD: THIRD_SECRET } })).code).toBe(0);
    for (const variable of ['CAIRN_PASSWORD', 'RESTIC_PASSWORD'] as const) {
      const dir = join(root, `child-ok-${variable}`);
      await mkdir(dir);
      const env: Record<string, string> = { [variable]: THIRD_SECRET, MARKER: 'passed-through' };
      if (variable === 'CAIRN_PASSWORD') env['RESTIC_PASSWORD'] = 'for-another-restic';
      const r = await run(['-r', repo, 'snapshot', '--stdin-from-command', '--', ...recorder(dir)], { env });
      expect(r.code, r.err).toBe(0);
      const argv = await readFile(join(dir, 'argv'), 'utf8');
      expect(argv).toBe('arg0\narg1\n');
      const childEnv = await readFile(join(dir, 'env'), 'utf8');
      for (const s of SECRETS) expect(childEnv.includes(s), `child env (${variable})`).toBe(false);
      expect(childEnv).toContain('MARKER=passed-through');
      expect(childEnv).not.toMatch(new RegExp(`^${variable}=`, 'm'));
      // RESTIC_PASSWORD is not cairn's password when CAIRN_PASSWORD is set: it passes through, as restic does
      if (variable === 'CAIRN_PASSWORD') expect(childEnv).toContain('RESTIC_PASSWORD=for-another-restic');
    }
    for (const p of printed) for (const s of SECRETS) expect(p.err.includes(s) || p.out.includes(s), p.argv.join(' ')).toBe(false);
  });

  it('--stdin-from-command with a password file: the child sees no password at all', async () => {
    const repo = join(root, 'child-repo');
    const dir = join(root, 'child-file');
    await mkdir(dir);
    await writeFile(join(root, 'third-file'), THIRD_SECRET);
    const r = await run(['-r', repo, '--password-file', join(root, 'third-file'), 'snapshot', '--stdin-from-command', '--', ...recorder(dir)]);
    expect(r.code, r.err).toBe(0);
    const childEnv = await readFile(join(dir, 'env'), 'utf8');
    for (const s of SECRETS) expect(childEnv.includes(s)).toBe(false);
    expect(await readFile(join(dir, 'argv'), 'utf8')).toBe('arg0\narg1\n');
  });
});
