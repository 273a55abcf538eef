/**
 * Golden bytes from restic itself, both ways:
 * - cairn reads restic: every key file of the fixture repositories (restic-made, 2015–2021) and of
 *   a repository fresh from the installed `restic init` decodes, re-encodes to the same bytes,
 *   unlocks with its password, and the master key inside decrypts `config`;
 * - restic reads cairn: a key file cairn made (other password, cheap KDF) in a copy of a restic
 *   repository opens it for `restic cat config`, and a `config` sealed by cairn reads back.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clampR,
  createKeyFile,
  decodeKeyFile,
  deriveUserKey,
  encodeKeyFile,
  encodeMasterKeyJson,
  open,
  seal,
  unlockKeyFile,
  type MasterKey,
} from '../../src/crypto/index.js';
import { ResticRepo, runRestic } from '../helpers/restic.js';
import { FIXTURE_PASSWORD, extractFixtureRepos, type Fixtures } from './restic-fixtures.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Config {
  version: number;
  id: string;
  chunker_polynomial: string;
}

function expectConfig(plain: Uint8Array, version: number): Config {
  const config = JSON.parse(text(plain)) as Config;
  expect(config.version).toBe(version);
  expect(config.id).toMatch(/^[0-9a-f]{64}$/);
  expect(config.chunker_polynomial).toMatch(/^[0-9a-f]+$/);
  return config;
}

describe('restic-made fixture repositories (v1, password geheim)', () => {
  let fx: Fixtures;
  beforeAll(() => {
    fx = extractFixtureRepos();
  });
  afterAll(() => fx.cleanup());

  it('has the six repositories, one key file each', () => {
    expect(fx.repos.map((r) => r.name)).toHaveLength(6);
    for (const r of fx.repos) expect(r.keys.size).toBe(1);
  });

  it('every key file decodes, re-encodes byte for byte, unlocks, and its master key decrypts config', async () => {
    await Promise.all(
      fx.repos.map(async (repo) => {
        for (const [name, bytes] of repo.keys) {
          expect(sha256(bytes)).toBe(name);
          const k = decodeKeyFile(bytes, `key file ${name}`);
          expect(k.kdf).toBe('scrypt');
          expect(text(encodeKeyFile(k))).toBe(text(bytes));
          expect(encodeKeyFile(k)).toEqual(bytes);

          const master = await unlockKeyFile(k, FIXTURE_PASSWORD);
          expect(master, `${repo.name}: ${name}`).toBeDefined();
          // The sealed plaintext is restic's JSON; cairn's encoding of the same key is identical.
          const user = await deriveUserKey(FIXTURE_PASSWORD, k.salt, k);
          expect(text(encodeMasterKeyJson(master!))).toBe(text(open(user, k.data)));

          expectConfig(open(master!, repo.config, `config of ${repo.name}`), 1);
        }
      }),
    );
  });

  it('a wrong password resolves undefined (not an error)', async () => {
    const repo = fx.repos.find((r) => r.name === 'copy-unstable-json')!;
    const k = decodeKeyFile([...repo.keys.values()][0]!);
    await expect(unlockKeyFile(k, 'Geheim')).resolves.toBeUndefined();
    await expect(unlockKeyFile(k, '')).resolves.toBeUndefined();
  });

  it('restic opens a copy with a key file and a config written by cairn', async () => {
    const repo = fx.repos.find((r) => r.name === 'copy-unstable-json')!;
    const root = mkdtempSync(join(tmpdir(), 'cairn-crypto-copy-'));
    try {
      const dir = join(root, 'repo');
      cpSync(repo.dir, dir, { recursive: true });
      const master = (await unlockKeyFile(decodeKeyFile([...repo.keys.values()][0]!), FIXTURE_PASSWORD))!;
      const plainConfig = open(master, repo.config);

      const password = 'cairn pässwörd <&>';
      const username = 'cairn <test> & co "q"';
      const hostname = 'host\u2028\u00e9\t';
      const kf = await createKeyFile(master, password, { kdf: { N: 1024, r: 8, p: 1 }, username, hostname, created: '2024-01-02T03:04:05.123456789Z' });
      const bytes = encodeKeyFile(kf);
      expect(text(bytes)).not.toMatch(/[<>&\u2028\t]/); // Go escapes these
      writeFileSync(join(dir, 'keys', sha256(bytes)), bytes);
      // A config sealed by cairn (new IV) in place of restic's.
      writeFileSync(join(dir, 'config'), seal(master, plainConfig));

      const cat = await runRestic(['--repo', dir, '--no-cache', 'cat', 'config'], password, { cwd: root });
      expect(JSON.parse(cat.text())).toEqual(JSON.parse(text(plainConfig)));

      const list = await runRestic(['--repo', dir, '--no-cache', 'key', 'list', '--json'], password, { cwd: root });
      const keys = JSON.parse(list.text()) as Array<{ current: boolean; id: string; userName: string; hostName: string }>;
      const ours = keys.find((k) => k.current)!;
      expect(sha256(bytes).startsWith(ours.id)).toBe(true);
      expect(ours.userName).toBe(username);
      expect(ours.hostName).toBe(hostname);

      // restic's own password still opens restic's key (the master key is shared).
      await runRestic(['--repo', dir, '--no-cache', 'cat', 'config'], FIXTURE_PASSWORD, { cwd: root });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a repository fresh from `restic init` (0.14, v2, calibrated scrypt)', () => {
  const password = 'correct horse \u00e9 <battery> & staple \u{1f511}';
  let repo: ResticRepo;
  let keyName: string;
  let keyBytes: Uint8Array;
  let master: MasterKey;

  beforeAll(async () => {
    repo = await ResticRepo.create({ password });
    const names = readdirSync(join(repo.dir, 'keys'));
    expect(names).toHaveLength(1);
    keyName = names[0]!;
    keyBytes = new Uint8Array(readFileSync(join(repo.dir, 'keys', keyName)));
  });
  afterAll(() => repo.cleanup());

  it('its key file re-encodes to restic’s exact bytes and has restic 0.14’s parameters', () => {
    expect(sha256(keyBytes)).toBe(keyName);
    const k = decodeKeyFile(keyBytes, `key file ${keyName}`);
    expect(encodeKeyFile(k)).toEqual(keyBytes);
    expect(keyBytes[keyBytes.length - 1]).toBe(0x7d); // `}`: no trailing newline
    expect([k.N, k.r]).toEqual([32768, 8]);
    expect(k.p).toBeGreaterThanOrEqual(1);
    expect(k.salt).toHaveLength(64);
    expect(k.data).toHaveLength(160);
    expect(k.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/);
  });

  it('cairn unlocks it with the (UTF-8) password, and its master key decrypts config like restic does', async () => {
    const k = decodeKeyFile(keyBytes);
    master = (await unlockKeyFile(k, password))!;
    expect(master).toBeDefined();
    // restic 0.14 stores r already clamped.
    expect(clampR(master.macR)).toEqual(master.macR);
    const plain = open(master, new Uint8Array(readFileSync(join(repo.dir, 'config'))), 'config');
    const config = expectConfig(plain, 2);
    expect(config).toEqual(await repo.config());
  });
});
