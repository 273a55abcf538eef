/**
 * Test helper: makes a restic repository cheap to open. `restic init` calibrates scrypt to ~0.7 s
 * per command; this swaps the repository's key file for one sealing the same master key with
 * N=1024, r=8, p=1 (restic reads the parameters from the key file), so each later restic run
 * costs milliseconds of key derivation. The repository is still made and used by restic only.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createKeyFile, decodeKeyFile, encodeKeyFile, unlockKeyFile } from '../../src/crypto/index.js';

export async function cheapenResticKey(repoDir: string, password: string): Promise<void> {
  const dir = join(repoDir, 'keys');
  const [name, ...others] = await readdir(dir);
  if (name === undefined || others.length > 0) throw new Error(`expected one key file in ${dir}`);
  const old = decodeKeyFile(new Uint8Array(await readFile(join(dir, name))));
  const master = await unlockKeyFile(old, password);
  if (master === undefined) throw new Error('the password does not open the key file');
  const cheap = await createKeyFile(master, password, { kdf: { N: 1024, r: 8, p: 1 }, username: old.username, hostname: old.hostname, created: old.created });
  const bytes = encodeKeyFile(cheap);
  await writeFile(join(dir, createHash('sha256').update(bytes).digest('hex')), bytes, { mode: 0o400 });
  await rm(join(dir, name), { force: true });
}
