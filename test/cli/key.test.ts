/**
 * `cairn key list|add|remove|passwd` as a user runs them, and against restic 0.14 both ways: a key
 * cairn adds is listed by `restic key list` and opens the repository for restic; a key restic adds
 * opens it for cairn; after `key passwd` (by either tool) the old password fails and the new one
 * works for both. Removing the key in use, or the last key, is refused and changes nothing. The
 * repository's files keep restic's modes (0400 files, 0700 directories) through init, snapshot and
 * key add.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend, lockRepository, Repository } from '../../src/index.js';
import { perm, walk } from '../backend/disk.js';
import { cheapenResticKey } from '../helpers/cheap-key.js';
import { jsonLines } from '../helpers/json.js';
import { runRestic } from '../helpers/restic.js';
import { cairn } from './helpers.js';

const KDF = '1024:8:1';
const PW = 'first password';
const PW2 = 'second password';
const env = (password: string): Record<string, string> => ({ CAIRN_PASSWORD: password, CAIRN_KDF: KDF });

interface KeyJson {
  current: boolean;
  id: string;
  userName: string;
  hostName: string;
  created: string;
}

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-key-'));
  await writeFile(join(root, 'pw2'), `  ${PW2}\n`); // trimmed like restic's --new-password-file
  await writeFile(join(root, 'empty'), ' \n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
/** A fresh repository made by cairn with password PW (cheap KDF). */
async function newRepo(): Promise<string> {
  const repo = join(root, `repo${counter++}`);
  const init = await cairn(['-r', repo, 'repo', 'init'], { env: env(PW) });
  expect(init.code, init.err).toBe(0);
  return repo;
}

async function keyFiles(repo: string): Promise<string[]> {
  return (await readdir(join(repo, 'keys'))).sort();
}

async function listJson(repo: string, password: string): Promise<KeyJson[]> {
  const r = await cairn(['-r', repo, 'key', 'list', '--json'], { env: env(password) });
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as KeyJson[];
}

/** Runs `argv` and returns the parsed JSON error line of a failure. */
async function failure(argv: string[], password: string, extra: Record<string, string> = {}): Promise<{ exit: number; code: string; message: string }> {
  const r = await cairn([...argv, '--json'], { env: { ...env(password), ...extra } });
  const lines = jsonLines(r.err);
  expect(lines, r.err).toHaveLength(1);
  expect(r.out).toBe('');
  return { exit: r.code, code: lines[0]!['code'] as string, message: lines[0]!['message'] as string };
}

describe('cairn key', () => {
  it('list: one row per key, * on the key in use, restic\'s JSON fields with the full ID', async () => {
    const repo = await newRepo();
    const [file] = await keyFiles(repo);
    const text = await cairn(['-r', repo, 'key', 'list'], { env: env(PW) });
    expect(text.code, text.err).toBe(0);
    const lines = text.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ ID {8}User +Host +Created$/);
    expect(lines[1]).toMatch(/^-+$/);
    expect(lines[2]).toMatch(new RegExp(`^\\*${file!.slice(0, 8)}  \\S* +\\S+ +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`));
    expect(lines).toHaveLength(4);
    const keys = await listJson(repo, PW);
    expect(keys).toEqual([{ current: true, id: file, userName: expect.any(String), hostName: expect.any(String), created: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) }]);
    expect(Object.keys(keys[0]!)).toEqual(['current', 'id', 'userName', 'hostName', 'created']);
  });

  it('add: a key for a new password (from --new-password-file, with --user/--host) that opens the repository; the old one still works', async () => {
    const repo = await newRepo();
    const [first] = await keyFiles(repo);
    const r = await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw2'), '--user', 'ann', '--host', 'laptop'], { env: env(PW) });
    expect(r.code, r.err).toBe(0);
    const id = /^saved new key with ID ([0-9a-f]{64})$/m.exec(r.out)?.[1];
    expect(id).toBeDefined();
    expect(await keyFiles(repo)).toEqual([first, id].sort());
    const seen = await listJson(repo, PW2);
    expect(seen.find((k) => k.id === id)).toMatchObject({ current: true, userName: 'ann', hostName: 'laptop' });
    expect(seen.find((k) => k.id === first)).toMatchObject({ current: false });
    expect((await cairn(['-r', repo, 'snapshots'], { env: env(PW) })).code).toBe(0);
    // --json: one key_added line with the full ID
    const j = await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw2'), '--json'], { env: env(PW) });
    expect(j.code, j.err).toBe(0);
    expect(jsonLines(j.out)).toEqual([{ message_type: 'key_added', id: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(await keyFiles(repo)).toHaveLength(3);
  });

  it('add: the new password asked twice on a terminal; different answers change nothing', async () => {
    const repo = await newRepo();
    const asked: string[] = [];
    const answers = [PW2, PW2];
    const ok = await cairn(['-r', repo, 'key', 'add'], { env: env(PW), stdinIsTTY: true, prompt: async (q) => (asked.push(q), answers.shift()!) });
    expect(ok.code, ok.err).toBe(0);
    expect(asked).toEqual(['enter new password: ', 'enter password again: ']);
    expect(await listJson(repo, PW2)).toHaveLength(2);
    const before = await keyFiles(repo);
    const answers2 = ['one', 'other'];
    const bad = await cairn(['-r', repo, 'key', 'add'], { env: env(PW), stdinIsTTY: true, prompt: async () => answers2.shift()! });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/differ; nothing was changed/);
    expect(await keyFiles(repo)).toEqual(before);
  });

  it('add/passwd: a missing or empty new-password file, or no terminal to ask on, is an error and nothing changes', async () => {
    const repo = await newRepo();
    const before = await keyFiles(repo);
    for (const verb of ['add', 'passwd']) {
      expect(await failure(['-r', repo, 'key', verb, '--new-password-file', join(root, 'nope')], PW)).toMatchObject({ exit: 1, code: 'ERR_PASSWORD_SOURCE', message: expect.stringContaining('nope') });
      expect(await failure(['-r', repo, 'key', verb, '--new-password-file', join(root, 'empty')], PW)).toMatchObject({ exit: 1, code: 'ERR_NO_PASSWORD' });
      expect(await failure(['-r', repo, 'key', verb], PW)).toMatchObject({ exit: 1, code: 'ERR_NO_PASSWORD', message: expect.stringContaining('--new-password-file') });
    }
    expect(await keyFiles(repo)).toEqual(before);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
  });

  it('remove: by prefix; the key in use and an unknown ID are refused, changing nothing', async () => {
    const repo = await newRepo();
    const [first] = await keyFiles(repo);
    const added = await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw2')], { env: env(PW) });
    expect(added.code, added.err).toBe(0);
    const second = (await keyFiles(repo)).find((k) => k !== first)!;
    const before = await keyFiles(repo);

    const inUse = await failure(['-r', repo, 'key', 'remove', first!.slice(0, 8)], PW);
    expect(inUse).toMatchObject({ exit: 1, code: 'ERR_KEY_IN_USE', message: expect.stringContaining('currently used to access the repository') });
    expect(await failure(['-r', repo, 'key', 'remove', 'ffffffffffff'], PW)).toMatchObject({ exit: 1, code: 'ERR_KEY_NOT_FOUND' });
    expect(await failure(['-r', repo, 'key', 'remove', 'not-hex'], PW)).toMatchObject({ exit: 1, code: 'ERR_INVALID_ARGUMENT' });
    expect(await keyFiles(repo)).toEqual(before);

    const r = await cairn(['-r', repo, 'key', 'remove', second.slice(0, 10).toUpperCase()], { env: env(PW) });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`removed key ${second}\n`);
    expect(await keyFiles(repo)).toEqual([first]);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
    expect((await cairn(['-r', repo, 'snapshots'], { env: env(PW2) })).code).toBe(12);
  });

  it('remove: the only key (the one in use) is refused and the repository still opens', async () => {
    const repo = await newRepo();
    const [only] = await keyFiles(repo);
    const e = await failure(['-r', repo, 'key', 'remove', only!], PW);
    expect(e).toMatchObject({ exit: 1, code: 'ERR_KEY_IN_USE' });
    expect(await keyFiles(repo)).toEqual([only]);
    expect((await cairn(['-r', repo, 'snapshots'], { env: env(PW) })).code).toBe(0);
  });

  it('remove takes an exclusive lock: refused (exit 11) while another process holds a lock, and nothing is removed', async () => {
    const repo = await newRepo();
    await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw2')], { env: env(PW) });
    const second = (await listJson(repo, PW)).find((k) => !k.current)!.id;
    const opened = await Repository.open(new LocalBackend(repo), PW);
    const lock = await lockRepository(opened, { exclusive: false });
    try {
      const e = await failure(['-r', repo, 'key', 'remove', second], PW);
      expect(e).toMatchObject({ exit: 11, code: 'ERR_REPO_LOCKED' });
      expect(await keyFiles(repo)).toContain(second);
      // list only needs a shared lock, which a shared lock allows
      expect(await listJson(repo, PW)).toHaveLength(2);
    } finally {
      await lock.release();
      await opened.close();
    }
  });

  it('passwd: the new key replaces the one in use; the old password fails, the new one works, other keys stay', async () => {
    const repo = await newRepo();
    const [first] = await keyFiles(repo);
    await writeFile(join(root, 'pw3'), 'third password\n');
    const other = await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw3')], { env: env(PW) });
    expect(other.code, other.err).toBe(0);
    const third = (await keyFiles(repo)).find((k) => k !== first)!;

    const r = await cairn(['-r', repo, 'key', 'passwd', '--new-password-file', join(root, 'pw2'), '--json'], { env: env(PW) });
    expect(r.code, r.err).toBe(0);
    const [line] = jsonLines(r.out);
    expect(line).toEqual({ message_type: 'password_changed', id: expect.stringMatching(/^[0-9a-f]{64}$/), removed: first });
    expect(await keyFiles(repo)).toEqual([third, line!['id']].sort());
    expect((await cairn(['-r', repo, 'snapshots'], { env: env(PW) })).code).toBe(12);
    expect((await cairn(['-r', repo, 'snapshots'], { env: env(PW2) })).code).toBe(0);
    expect((await cairn(['-r', repo, 'snapshots'], { env: env('third password') })).code).toBe(0);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
  });

  it('a wrong password: exit 12 for every subcommand, nothing changes', async () => {
    const repo = await newRepo();
    const before = await keyFiles(repo);
    for (const argv of [['key', 'list'], ['key', 'add', '--new-password-file', join(root, 'pw2')], ['key', 'passwd', '--new-password-file', join(root, 'pw2')], ['key', 'remove', before[0]!]]) {
      expect(await failure(['-r', repo, ...argv], 'wrong')).toMatchObject({ exit: 12, code: 'ERR_WRONG_PASSWORD' });
    }
    expect(await keyFiles(repo)).toEqual(before);
  });
});

describe('cairn key and restic 0.14', () => {
  /** restic --repo REPO --no-cache ARGS with `password`. */
  const restic = (repo: string, args: string[], password: string, allowFailure = false) =>
    runRestic(['--repo', repo, '--no-cache', ...args], password, { cwd: root, allowFailure });

  it('restic lists a key cairn added and opens the repository with its password; cairn passwd locks restic out of the old password', async () => {
    const repo = await newRepo();
    const add = await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw2'), '--user', 'ann', '--host', 'laptop'], { env: env(PW) });
    expect(add.code, add.err).toBe(0);
    const id = /([0-9a-f]{64})/.exec(add.out)![1]!;
    const listed = JSON.parse((await restic(repo, ['key', 'list', '--json'], PW2)).text()) as KeyJson[];
    // restic 0.14 prints the short ID in JSON; cairn the full one
    expect(listed).toHaveLength(2);
    expect(listed.find((k) => k.id === id.slice(0, 8))).toMatchObject({ current: true, userName: 'ann', hostName: 'laptop' });
    // cairn's JSON has the same fields and values, but full IDs
    const ours = await listJson(repo, PW2);
    expect(ours.map((k) => ({ ...k, id: k.id.slice(0, 8) })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([...listed].sort((a, b) => a.id.localeCompare(b.id)));
    expect((await restic(repo, ['snapshots'], PW2)).code).toBe(0);

    const passwd = await cairn(['-r', repo, 'key', 'passwd', '--new-password-file', join(root, 'pw2')], { env: env(PW) });
    expect(passwd.code, passwd.err).toBe(0);
    const old = await restic(repo, ['snapshots'], PW, true);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/wrong password/);
    expect((await restic(repo, ['key', 'list'], PW2)).code).toBe(0);
  });

  it('cairn opens with a password restic added, lists restic\'s key as current, and refuses to remove it; restic sees nothing changed', async () => {
    const repo = join(root, `restic${counter++}`);
    await restic(repo, ['init'], PW);
    await cheapenResticKey(repo, PW);
    await restic(repo, ['key', 'add', '--new-password-file', join(root, 'pw2')], PW);
    const keys = await listJson(repo, PW2);
    expect(keys).toHaveLength(2);
    const current = keys.find((k) => k.current)!;
    const before = await keyFiles(repo);
    expect(await failure(['-r', repo, 'key', 'remove', current.id], PW2)).toMatchObject({ exit: 1, code: 'ERR_KEY_IN_USE' });
    expect(await keyFiles(repo)).toEqual(before);
    const seen = JSON.parse((await restic(repo, ['key', 'list', '--json'], PW)).text()) as KeyJson[];
    expect(seen.map((k) => k.id).sort()).toEqual(before.map((k) => k.slice(0, 8)));
  });

  it('after restic key passwd, cairn opens with the new password only', async () => {
    const repo = await newRepo();
    await restic(repo, ['key', 'passwd', '--new-password-file', join(root, 'pw2')], PW);
    expect(await failure(['-r', repo, 'key', 'list'], PW)).toMatchObject({ exit: 12, code: 'ERR_WRONG_PASSWORD' });
    const keys = await listJson(repo, PW2);
    expect(keys).toEqual([expect.objectContaining({ current: true })]);
  });
});

describe('repository file modes', () => {
  it("after repo init, snapshot and key add every file is 0400 and every directory 0700 (restic's modes), and no lock is left", async () => {
    const repo = await newRepo();
    const src = join(root, `src${counter++}`);
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'some data\n'.repeat(1000));
    expect((await cairn(['-r', repo, 'snapshot', src], { env: env(PW) })).code).toBe(0);
    expect((await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw2')], { env: env(PW) })).code).toBe(0);
    const tree = await walk(repo);
    const files = [...tree].filter(([, mode]) => (mode & 0o170000) === 0o100000);
    expect(files.map(([p]) => p.split('/')[0]).sort()).toEqual(expect.arrayContaining(['config', 'data', 'index', 'keys', 'keys', 'snapshots']));
    for (const [p, mode] of tree) expect(perm(mode), p).toBe((mode & 0o170000) === 0o040000 ? 0o700 : 0o400);
    expect(await readdir(join(repo, 'locks'))).toEqual([]);
  });

  it('a group-readable repository (config 0440) gets 0440 key files, as restic does', async () => {
    const repo = await newRepo();
    await chmod(join(repo, 'config'), 0o440);
    expect((await cairn(['-r', repo, 'key', 'add', '--new-password-file', join(root, 'pw2')], { env: env(PW) })).code).toBe(0);
    const modes = await Promise.all((await keyFiles(repo)).map(async (k) => perm((await stat(join(repo, 'keys', k))).mode)));
    // the key init wrote before the chmod stays 0400; the new one is group-readable
    expect(modes.sort()).toEqual([0o400, 0o440]);
  });
});
