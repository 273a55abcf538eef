/**
 * Key files: finding the one the password opens, adding one. A key file wraps the repository's
 * master key with a key derived from a password (scrypt); several key files can wrap the same
 * master key, one per password.
 */
import { hostname as osHostname, userInfo } from 'node:os';
import { CairnError } from '../errors.js';
import type { Backend } from '../backend/index.js';
import { createKeyFile, decodeKeyFile, encodeKeyFile, unlockKeyFile, type KdfParams, type MasterKey } from '../crypto/index.js';
import { hashId, type Id } from '../model/index.js';
import { formatTime, nowTime } from '../tree/index.js';

/** The user and host recorded in key files, locks and snapshots. */
export function currentUser(): { username: string; hostname: string; uid: number; gid: number } {
  let username = '';
  let uid = 0;
  let gid = 0;
  try {
    const u = userInfo();
    username = u.username;
    uid = u.uid;
    gid = u.gid;
  } catch {
    // No passwd entry (containers): restic records an empty name as well.
  }
  return { username, hostname: osHostname(), uid: Math.max(uid, 0), gid: Math.max(gid, 0) };
}

/** Tries every key file; resolves to the master key the password opens. */
export async function openWithPassword(backend: Backend, password: string): Promise<{ key: MasterKey; keyId: Id }> {
  let tried = 0;
  for await (const f of backend.list('key')) {
    const bytes = await backend.load({ type: 'key', name: f.name });
    const what = `key file keys/${f.name} in ${backend.location}`;
    if (hashId(bytes) !== f.name) {
      throw new CairnError('ERR_CORRUPT', `${what}: its content does not hash to its name; the file is damaged`, { data: { key: f.name } });
    }
    tried++;
    const key = await unlockKeyFile(decodeKeyFile(bytes, what), password);
    if (key !== undefined) return { key, keyId: f.name as Id };
  }
  if (tried === 0) throw new CairnError('ERR_CORRUPT', `the repository at ${backend.location} has no key files (keys/ is empty); it cannot be opened`);
  throw new CairnError('ERR_WRONG_PASSWORD', `no key in the repository at ${backend.location} opens with the password given (${tried} key${tried === 1 ? '' : 's'} tried); check which password source was used (flags, then CAIRN_*, then RESTIC_*)`, { data: { keysTried: tried } });
}

/** Writes a new key file for `master` under `password`; returns its ID. */
export async function addKey(backend: Backend, master: MasterKey, password: string, kdf: KdfParams): Promise<Id> {
  const { username, hostname } = currentUser();
  const file = await createKeyFile(master, password, { kdf, username, hostname, created: formatTime(nowTime()) });
  const bytes = encodeKeyFile(file);
  const id = hashId(bytes);
  await backend.save({ type: 'key', name: id }, bytes);
  return id;
}
