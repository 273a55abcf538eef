/**
 * `cairn completion bash|zsh|fish`: each script is run in its real shell (CI installs zsh and
 * fish) and asked what it completes: command names, subcommands (also after an alias and after
 * global options with values), a command's own options, paths after options that take a file,
 * and every registered command is offered — the scripts are generated from the command tree.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor, run } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeIo } from './helpers.js';

const scripts: Record<string, string> = {};
const dir = tempDir('cairn-completion-');

beforeAll(async () => {
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'pwfile'), 'x');
  for (const shell of ['bash', 'zsh', 'fish']) {
    const io = makeIo();
    expect(await run(['completion', shell], io)).toBe(0);
    scripts[shell] = join(dir, `cairn.${shell}`);
    writeFileSync(scripts[shell]!, io.out());
  }
});

/** What bash (or zsh, through bashcompinit) completes for `words`, the last one being typed. */
function complete(shell: 'bash' | 'zsh', words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const print = shell === 'bash' ? 'printf "%s\\n" "${COMPREPLY[@]}"' : 'print -rl -- "${COMPREPLY[@]}"';
  const script = `source ${scripts[shell]}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _cairn_completion; ${print}`;
  return execFileSync(shell, ['-c', script], { cwd: dir, encoding: 'utf8' }).split('\n').filter((l) => l !== '');
}

function fish(line: string): string[] {
  return execFileSync('fish', ['-c', `source ${scripts['fish']}; complete -C ${JSON.stringify(line)}`], { cwd: dir, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t')[0]!);
}

describe('cairn completion', () => {
  it('bash: commands, subcommands (also after an alias and global options), options, paths', () => {
    expect(complete('bash', ['cairn', 'sna'])).toEqual(['snapshot', 'snapshots']);
    expect(complete('bash', ['cairn', 'key', ''])).toEqual(['list', 'add', 'remove', 'passwd']);
    expect(complete('bash', ['cairn', '-r', '/srv/x', '--json', 'repair', ''])).toEqual(expect.arrayContaining(['index', 'snapshots']));
    expect(complete('bash', ['cairn', 'backup', '--exclude-l'])).toEqual(['--exclude-larger-than']);
    expect(complete('bash', ['cairn', 'snapshot', '--ta'])).toEqual(['--tag']);
    // a global option is offered inside a command, and an option's value is not taken for a command
    expect(complete('bash', ['cairn', 'restore', '--pass'])).toEqual(['--password-file', '--password-command']);
    expect(complete('bash', ['cairn', '--password-file', 'pw'])).toEqual(['pwfile']);
    expect(complete('bash', ['cairn', 'snapshot', 'su'])).toEqual(['sub']);
  });

  it('bash: every command the CLI registers is offered at the top', () => {
    const top = complete('bash', ['cairn', '']);
    expect(top.length).toBeGreaterThanOrEqual(COMMANDS.length);
    for (const name of ['repo', 'snapshot', 'snapshots', 'restore', 'forget', 'prune', 'check', 'key', 'completion', 'help']) expect(top).toContain(name);
  });

  it('zsh (bashcompinit): the same command paths and options (zsh filters by the typed prefix itself)', () => {
    expect(complete('zsh', ['cairn', 'key', ''])).toEqual(['list', 'add', 'remove', 'passwd']);
    const opts = complete('zsh', ['cairn', 'snapshot', '--exc']);
    expect(opts).toContain('--exclude-caches');
    expect(opts).toContain('--json');
    expect(opts).not.toContain('--target');
  });

  it('fish: commands with descriptions, subcommands, options of the command given', () => {
    expect(fish('cairn sna')).toEqual(['snapshot', 'snapshots']);
    expect(fish('cairn key ').sort()).toEqual(['add', 'list', 'passwd', 'remove']);
    expect(fish('cairn snapshot --exclude-l')).toEqual(['--exclude-larger-than']);
    expect(fish('cairn restore --tar')).toEqual(['--target']);
  });

  it('an unknown shell is a usage error naming the shells it knows', async () => {
    const io = makeIo();
    expect(await run(['--json', 'completion', 'tcsh'], io)).toBe(exitCodeFor('ERR_USAGE'));
    expect(io.err()).toMatch(/ERR_USAGE.*bash, zsh, fish/);
  });
});
