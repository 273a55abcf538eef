/**
 * cairn on a REST server end to end, as a user runs it: `rclone serve restic` serves the
 * repositories; cairn inits, snapshots, restores byte for byte, forgets with --prune and checks
 * with --read-data; restic 0.14 checks and restores what cairn wrote through the same server, and
 * cairn reads a repository restic created there. Basic auth: the right password works, a wrong
 * one fails at once and the password never appears in any output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { runRestic } from '../helpers/restic.js';
import { startRclone, type RcloneServer } from '../helpers/rclone.js';
import { describeTree, diffTrees, makeMixedTree } from '../helpers/trees.js';
import { cairn } from '../cli/helpers.js';

const PASSWORD = 'correct horse';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };

function lastJson(out: string): Record<string, unknown> {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

let root: string;
let server: RcloneServer;
let src: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-rest-cli-'));
  server = await startRclone(join(root, 'served'));
  src = join(root, 'src');
  await makeMixedTree(src, { dirs: 2, perDir: 8 });
  await writeFile(join(src, 'big.bin'), pseudoRandomBytes(3_000_000, 5));
}, 30_000);

afterAll(async () => {
  await server?.stop();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('cairn on rest: (rclone serve restic)', () => {
  it('init, snapshot, restore byte-identical, forget --prune, check --read-data; restic reads it all', async () => {
    const repo = `rest:${server.url}cairn/`;
    const run = async (args: string[]) => {
      const r = await cairn(['-r', repo, ...args], { env: ENV });
      expect(r.code, `cairn ${args.join(' ')}: ${r.err}`).toBe(0);
      return r;
    };
    const init = await run(['--json', 'repo', 'init']);
    expect(lastJson(init.out)).toMatchObject({ message_type: 'initialized', repository: repo });
    expect((await cairn(['-r', repo, 'repo', 'init'], { env: ENV })).code).toBe(1); // exists

    const first = lastJson((await run(['--json', 'snapshot', src])).out);
    await writeFile(join(src, 'later.bin'), pseudoRandomBytes(700_000, 6));
    const second = lastJson((await run(['--json', 'snapshot', src])).out);
    expect(second['snapshot_id']).not.toBe(first['snapshot_id']);

    const target = join(root, 'restore-cairn');
    await run(['restore', 'latest', '--target', target]);
    expect(diffTrees(await describeTree(src), await describeTree(join(target, src)))).toEqual([]);

    await run(['forget', '--keep-last', '1', '--prune']);
    const snaps = JSON.parse((await run(['snapshots', '--json'])).out) as Array<{ id: string }>;
    expect(snaps.map((s) => s.id)).toEqual([second['snapshot_id']]);
    await run(['check', '--read-data']);

    // restic 0.14 reads what cairn wrote, through the same server.
    const check = await runRestic(['-r', repo, '--no-cache', 'check', '--read-data'], PASSWORD, { allowFailure: true });
    expect(check.code, check.stderr).toBe(0);
    const rtarget = join(root, 'restore-restic');
    await runRestic(['-r', repo, '--no-cache', 'restore', 'latest', '--target', rtarget], PASSWORD);
    expect(diffTrees(await describeTree(src), await describeTree(join(rtarget, src)))).toEqual([]);
  }, 60_000);

  it('cairn reads, checks and restores a repository restic created on the server', async () => {
    const repo = `rest:${server.url}restic/`;
    await runRestic(['-r', repo, '--no-cache', 'init'], PASSWORD);
    await runRestic(['-r', repo, '--no-cache', 'backup', src], PASSWORD);
    const snaps = await cairn(['-r', repo, 'snapshots', '--json'], { env: ENV });
    expect(snaps.code, snaps.err).toBe(0);
    expect((JSON.parse(snaps.out) as Array<{ paths: string[] }>).map((s) => s.paths)).toEqual([[src]]);
    const check = await cairn(['-r', repo, 'check', '--read-data'], { env: ENV });
    expect(check.code, check.err + check.out).toBe(0);
    const target = join(root, 'restore-from-restic');
    const r = await cairn(['-r', repo, 'restore', 'latest', '--target', target], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(diffTrees(await describeTree(src), await describeTree(join(target, src)))).toEqual([]);
  }, 60_000);

  it('a missing repository on the server is "repository not found" (exit 10)', async () => {
    const r = await cairn(['-r', `rest:${server.url}nothing-here/`, 'snapshots'], { env: ENV });
    expect(r.code, r.err).toBe(10);
    expect(r.err).toContain(`rest:${server.url}nothing-here/`);
  });
});

describe('cairn on rest: with basic auth', () => {
  let authed: RcloneServer;
  beforeAll(async () => {
    authed = await startRclone(join(root, 'served-auth'), { user: 'alice', pass: 'pa55word' });
  });
  afterAll(async () => {
    await authed?.stop();
  });

  it('works with the password in the URL, fails at once without or with a wrong one, never printing it', async () => {
    const at = (cred: string) => `rest:${authed.url.replace('http://', `http://${cred}@`)}repo/`;
    const ok = await cairn(['-r', at('alice:pa55word'), 'repo', 'init'], { env: ENV });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain(at('alice:***'));
    expect(ok.out + ok.err).not.toContain('pa55word');
    const snap = await cairn(['-r', at('alice:pa55word'), 'snapshots', '--json'], { env: ENV });
    expect(snap.code, snap.err).toBe(0);

    const started = Date.now();
    const wrong = await cairn(['-r', at('alice:wrong-secret'), 'snapshots'], { env: ENV });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('HTTP 401');
    expect(wrong.err).toContain(at('alice:***'));
    expect(wrong.err).not.toContain('wrong-secret');
    expect(Date.now() - started, 'a 401 is not retried').toBeLessThan(5000);

    const none = await cairn(['-r', `rest:${authed.url}repo/`, 'snapshots'], { env: ENV });
    expect(none.code).toBe(1);
    expect(none.err).toContain('USER:PASSWORD@');
  });
});
