/**
 * cairn end to end on S3 (s3rver over HTTPS with a throwaway CA, trusted with --cacert): repo init
 * creates the bucket, snapshot, restore byte-identical, forget --prune, check --read-data; then
 * restic 0.14 itself checks and restores the repository cairn wrote, through the same server.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn } from '../cli/helpers.js';
import { runRestic } from '../helpers/restic.js';
import { S3RVER_KEYS, startS3Server, type S3Server } from '../helpers/s3server.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';

const PASSWORD = 'cairn-s3-e2e';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1', ...S3RVER_KEYS };

let server: S3Server;
let ca: TestCa;
let root: string;

beforeAll(async () => {
  ca = await makeTestCa();
  server = await startS3Server({ keyPem: ca.keyPem, certPem: ca.certPem });
  root = await mkdtemp(join(tmpdir(), 'cairn-s3-e2e-'));
});
afterAll(async () => {
  await server?.close();
  await ca?.cleanup();
  await rm(root, { recursive: true, force: true });
});

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else out.set(r, (await readFile(join(d, e.name))).toString('base64'));
    }
  };
  await walk(dir, '');
  return out;
}

describe('cairn on s3 (s3rver, https, --cacert)', () => {
  it('init creates the bucket; snapshot, restore, forget --prune, check --read-data; restic reads it', async () => {
    const repo = `s3:${server.endpoint}/cairn-e2e/repo`;
    const g = ['-r', repo, '--cacert', ca.caFile, '-o', 's3.connections=4'];
    const src = join(root, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'big.bin'), randomBytes(3 * 1024 * 1024));
    await writeFile(join(src, 'sub', 'small.txt'), 'hello s3\n');

    // Without --cacert the private CA is not trusted: a clear, immediate failure.
    const untrusted = await cairn(['-r', repo, 'repo', 'init'], { env: ENV });
    expect(untrusted.code).toBe(1);
    expect(untrusted.err).toMatch(/--cacert/);
    // Unknown s3 option and a malformed -o.
    expect((await cairn([...g, '-o', 's3.colour=blue', 'repo', 'init'], { env: ENV })).err).toMatch(/unknown option for the s3 backend/);
    expect((await cairn([...g, '-o', 'novalue', 'repo', 'init'], { env: ENV })).err).toMatch(/KEY=VALUE/);

    const init = await cairn([...g, 'repo', 'init'], { env: ENV });
    expect(init.code, init.err).toBe(0);
    expect(init.out).toContain(repo);
    expect((await readdir(server.directory))).toContain('cairn-e2e');
    const again = await cairn([...g, 'repo', 'init'], { env: ENV });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists/);

    const s1 = await cairn([...g, 'snapshot', src], { env: ENV });
    expect(s1.code, s1.err).toBe(0);
    await writeFile(join(src, 'sub', 'small.txt'), 'hello again\n');
    const s2 = await cairn([...g, 'snapshot', src], { env: ENV });
    expect(s2.code, s2.err).toBe(0);

    const out = join(root, 'restored');
    const r = await cairn([...g, 'restore', 'latest', '--target', out], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(await tree(join(out, src))).toEqual(await tree(src));

    const f = await cairn([...g, 'forget', '--keep-last', '1', '--prune'], { env: ENV });
    expect(f.code, f.err).toBe(0);
    const c = await cairn([...g, 'check', '--read-data'], { env: ENV });
    expect(c.code, c.err + c.out).toBe(0);

    // restic 0.14 reads what cairn wrote, over HTTPS with the same CA and keys.
    const renv = { ...S3RVER_KEYS };
    const rcheck = await runRestic(['-r', repo, '--cacert', ca.caFile, '--no-cache', 'check', '--read-data'], PASSWORD, { env: renv });
    expect(rcheck.code).toBe(0);
    const snaps = JSON.parse((await runRestic(['-r', repo, '--cacert', ca.caFile, '--no-cache', 'snapshots', '--json'], PASSWORD, { env: renv })).text()) as unknown[];
    expect(snaps.length).toBe(1);
    const rout = join(root, 'restic-restored');
    await runRestic(['-r', repo, '--cacert', ca.caFile, '--no-cache', 'restore', 'latest', '--target', rout], PASSWORD, { env: renv });
    expect(await tree(join(rout, src))).toEqual(await tree(src));
  }, 60_000);

  it('cairn reads a repository restic 0.14 wrote to s3: snapshots, check --read-data, restore', async () => {
    const repo = `s3:${server.endpoint}/restic-made/r`;
    const renv = { ...S3RVER_KEYS };
    const src = join(root, 'restic-src');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'data.bin'), randomBytes(2 * 1024 * 1024 + 5));
    await writeFile(join(src, 'note.txt'), 'from restic\n');
    await runRestic(['-r', repo, '--cacert', ca.caFile, 'init'], PASSWORD, { env: renv });
    await runRestic(['-r', repo, '--cacert', ca.caFile, '--no-cache', 'backup', src], PASSWORD, { env: renv });
    const g = ['-r', repo, '--cacert', ca.caFile];
    const snaps = await cairn([...g, 'snapshots', '--json'], { env: ENV });
    expect(snaps.code, snaps.err).toBe(0);
    expect((JSON.parse(snaps.out) as unknown[]).length).toBe(1);
    const c = await cairn([...g, 'check', '--read-data'], { env: ENV });
    expect(c.code, c.err + c.out).toBe(0);
    const out = join(root, 'from-restic');
    const r = await cairn([...g, 'restore', 'latest', '--target', out], { env: ENV });
    expect(r.code, r.err).toBe(0);
    expect(await tree(join(out, src))).toEqual(await tree(src));
  }, 60_000);
});
