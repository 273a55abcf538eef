/**
 * Key files: finding the one the password opens, listing, adding, removing, changing the password.
 * A key file wraps the repository's master key with a key derived from a password (scrypt); several
 * key files can wrap the same master key, one per password. The semantics are restic's `key`
 * command's:
 *
 * - a new key is written, then read back and opened with its password before anything else
 *   happens; if it does not give back the same master key it is removed again and nothing changed;
 * - changing the password adds the new key first and removes the old one only once the new one is
 *   verified, so a crash in between leaves two working keys, never none;
 * - the key a repository was opened with, and the last key, are never removed.
 *
 * Locking is the caller's job (restic: shared for list and add, exclusive for remove and passwd).
 * Passwords are never put into an error message, error data or warning.
 */
import { timingSafeEqual } from 'node:crypto';
import { hostname as osHostname, userInfo } from 'node:os';
import { CairnError, messageOf } from '../errors.js';
import type { Backend } from '../backend/index.js';
import { createKeyFile, decodeKeyFile, encodeKeyFile, unlockKeyFile, type KdfParams, type KeyFile, type MasterKey } from '../crypto/index.js';
import { hashId, shortId, type Id } from '../model/index.js';
import { compareTime, formatTime, nowTime, parseTime, type Timestamp } from '../tree/index.js';

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

/** What key management needs from an open repository: its storage and the key file it was opened with. */
export interface KeyRing {
  readonly backend: Backend;
  /** The key file the repository was opened with (the "current" key). */
  readonly keyId: Id;
}

/** One key file, as `key list` shows it. */
export interface KeyEntry {
  readonly id: Id;
  readonly username: string;
  readonly hostname: string;
  /** When the key was made, with the offset it was recorded in. */
  readonly created: Timestamp;
  /** True for the key file the repository was opened with. */
  readonly current: boolean;
}

/** A key file `listKeys` could not read; it is left out of the list (as restic does). */
export interface KeyWarning {
  readonly code: 'KEY_UNREADABLE';
  readonly key: string;
  readonly message: string;
  readonly cause?: unknown;
}

/** Who a new key file says made it. */
export interface KeyMeta {
  /** @default the current user's name (also when empty, as restic) */
  readonly username?: string | undefined;
  /** @default this machine's hostname (also when empty, as restic) */
  readonly hostname?: string | undefined;
}

/** How `addPassword` and `changePassword` make the new key file. */
export interface NewKeyOptions extends KeyMeta {
  /** scrypt parameters of the new key file (`calibrateKdf()` for real repositories). */
  readonly kdf: KdfParams;
}

function keyWhat(backend: Backend, name: string): string {
  return `key file keys/${name} in ${backend.location}`;
}

/** Loads and decodes key file `name`, checking that its content hashes to its name. */
async function loadKeyFile(backend: Backend, name: string): Promise<KeyFile> {
  const bytes = await backend.load({ type: 'key', name });
  const what = keyWhat(backend, name);
  if (hashId(bytes) !== name) {
    throw new CairnError('ERR_CORRUPT', `${what}: its content does not hash to its name; the file is damaged`, { data: { key: name } });
  }
  return decodeKeyFile(bytes, what);
}

/**
 * Tries every key file; resolves to the master key the password opens. A key file that cannot be
 * loaded or decoded (damaged, or vanished since the listing) does not stop the search — the
 * password may belong to another key, as restic skips such keys — and is reported to `onWarning`
 * when another key opens. When none opens, the error names the damaged ones: the password may be
 * theirs, and the repository cannot be opened until a copy of that key file is put back.
 */
export async function openWithPassword(backend: Backend, password: string, options: { readonly onWarning?: (w: KeyWarning) => void } = {}): Promise<{ key: MasterKey; keyId: Id }> {
  let tried = 0;
  const damaged: KeyWarning[] = [];
  for await (const f of backend.list('key')) {
    let file: KeyFile;
    try {
      file = await loadKeyFile(backend, f.name);
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_NOT_FOUND') continue; // removed since the listing (key remove)
      damaged.push({ code: 'KEY_UNREADABLE', key: f.name, message: messageOf(e), cause: e });
      continue;
    }
    tried++;
    const key = await unlockKeyFile(file, password, keyWhat(backend, f.name));
    if (key !== undefined) {
      for (const w of damaged) options.onWarning?.(w);
      return { key, keyId: f.name as Id };
    }
  }
  const names = damaged.map((w) => `keys/${w.key}`).join(', ');
  const data = { keysTried: tried, damagedKeys: damaged.map((w) => w.key) };
  if (damaged.length > 0 && tried === 0) {
    throw new CairnError(
      'ERR_CORRUPT',
      `the repository at ${backend.location} cannot be opened: ${damaged.length === 1 ? `its only key file is damaged (${damaged[0]!.message})` : `all ${damaged.length} of its key files are damaged (${names})`}; nothing else in the repository can replace a key file: put back a copy of it from another copy of the repository (a copy of the repository's keys/ directory)`,
      { data, cause: damaged[0]!.cause },
    );
  }
  if (tried === 0) throw new CairnError('ERR_CORRUPT', `the repository at ${backend.location} has no key files (keys/ is empty); it cannot be opened`, { data });
  const also = damaged.length === 0 ? '' : `; ${damaged.length} damaged key file${damaged.length === 1 ? ' was' : 's were'} skipped (${names}): if the password belongs to ${damaged.length === 1 ? 'it' : 'one of them'}, the repository cannot be opened with it until a copy of that file is put back`;
  throw new CairnError('ERR_WRONG_PASSWORD', `no key in the repository at ${backend.location} opens with the password given (${tried} key${tried === 1 ? '' : 's'} tried)${also}; check which password source was used (flags, then CAIRN_*, then RESTIC_*)`, { data });
}

/**
 * Writes a new key file for `master` under `password`; returns its ID. `meta` names the user and
 * host the file records (default: this user and machine, as restic).
 */
export async function addKey(backend: Backend, master: MasterKey, password: string, kdf: KdfParams, meta: KeyMeta = {}): Promise<Id> {
  const who = currentUser();
  const username = meta.username === undefined || meta.username === '' ? who.username : meta.username;
  const hostname = meta.hostname === undefined || meta.hostname === '' ? who.hostname : meta.hostname;
  const file = await createKeyFile(master, password, { kdf, username, hostname, created: formatTime(nowTime()) });
  const bytes = encodeKeyFile(file);
  const id = hashId(bytes);
  await backend.save({ type: 'key', name: id }, bytes);
  return id;
}

/**
 * Every key file of the repository, oldest first (then by ID), `current` marking the one `repo`
 * was opened with. A key file that cannot be read or decoded is reported to `onWarning` and left
 * out, as restic does; no key file is decrypted.
 */
export async function listKeys(repo: KeyRing, options: { readonly onWarning?: (w: KeyWarning) => void } = {}): Promise<KeyEntry[]> {
  const entries: KeyEntry[] = [];
  for await (const f of repo.backend.list('key')) {
    let file: KeyFile;
    let created: Timestamp;
    try {
      file = await loadKeyFile(repo.backend, f.name);
      created = parseTime(file.created, `the creation time of ${keyWhat(repo.backend, f.name)}`);
    } catch (e) {
      options.onWarning?.({ code: 'KEY_UNREADABLE', key: f.name, message: `cannot read key file ${f.name}: ${messageOf(e)}`, cause: e });
      continue;
    }
    entries.push({ id: f.name as Id, username: file.username, hostname: file.hostname, created, current: f.name === repo.keyId });
  }
  return entries.sort((a, b) => compareTime(a.created, b.created) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The one key file whose ID starts with `ref` (a full ID or a prefix, any case). ERR_INVALID_ARGUMENT
 * for a ref that is empty or not hex, ERR_KEY_NOT_FOUND when none matches, ERR_AMBIGUOUS_ID when
 * several do.
 */
export async function findKey(backend: Backend, ref: string): Promise<Id> {
  const prefix = ref.toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(prefix)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `"${ref}" is not a key ID: give the ID (or its first digits) that \`cairn key list\` shows`, { data: { ref } });
  }
  const found: Id[] = [];
  for await (const f of backend.list('key')) if (f.name.startsWith(prefix)) found.push(f.name as Id);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new CairnError('ERR_KEY_NOT_FOUND', `no key in the repository at ${backend.location} has an ID starting with "${ref}"; run \`cairn key list\` to see the keys`, { data: { ref } });
  }
  throw new CairnError('ERR_AMBIGUOUS_ID', `"${ref}" is the prefix of ${found.length} key IDs in ${backend.location}; give more digits`, { data: { ref, matches: found.length } });
}

/**
 * Removes the key file `ref` names (see {@link findKey}); returns its ID. Refuses, changing
 * nothing, the key `repo` was opened with (ERR_KEY_IN_USE) and the repository's last key
 * (ERR_LAST_KEY). Hold an exclusive lock while calling it.
 */
export async function removeKey(repo: KeyRing, ref: string): Promise<Id> {
  const { backend } = repo;
  const id = await findKey(backend, ref);
  if (id === repo.keyId) {
    throw new CairnError('ERR_KEY_IN_USE', `refusing to remove key ${shortId(id)}: it is the key currently used to access the repository at ${backend.location} (the password given opens it); open the repository with another key's password to remove it, or replace its password with \`cairn key passwd\``, { data: { key: id } });
  }
  let count = 0;
  for await (const f of backend.list('key')) {
    void f;
    count++;
  }
  if (count <= 1) {
    throw new CairnError('ERR_LAST_KEY', `refusing to remove key ${shortId(id)}: it is the last key of the repository at ${backend.location}, and without a key nothing in it can ever be decrypted again; add another key first (\`cairn key add\`)`, { data: { key: id } });
  }
  await backend.remove({ type: 'key', name: id });
  return id;
}

function sameMasterKey(a: MasterKey, b: MasterKey): boolean {
  const eq = (x: Uint8Array, y: Uint8Array): boolean => x.length === y.length && timingSafeEqual(x, y);
  return eq(a.encrypt, b.encrypt) && eq(a.macK, b.macK) && eq(a.macR, b.macR);
}

/** The master key key file `id` wraps, opened with `password`; ERR_WRONG_PASSWORD when it does not open. */
async function unlockKey(backend: Backend, id: Id, password: string): Promise<MasterKey> {
  const key = await unlockKeyFile(await loadKeyFile(backend, id), password, keyWhat(backend, id));
  if (key === undefined) {
    throw new CairnError('ERR_WRONG_PASSWORD', `the password given does not open key ${shortId(id)} in ${backend.location}, the key the repository was opened with (was it changed meanwhile?); run the command again`, { data: { key: id } });
  }
  return key;
}

/**
 * Reads key `id` back and checks that `password` opens it to `master`; otherwise removes it and
 * throws ERR_KEY_VERIFY (restic's "failed to access repository with new key").
 */
async function verifyNewKey(backend: Backend, id: Id, password: string, master: MasterKey): Promise<void> {
  let problem: string | undefined;
  let cause: unknown;
  try {
    const got = await unlockKeyFile(await loadKeyFile(backend, id), password, keyWhat(backend, id));
    if (got === undefined) problem = 'the new password does not open it';
    else if (!sameMasterKey(got, master)) problem = 'it holds another master key';
  } catch (e) {
    problem = messageOf(e);
    cause = e;
  }
  if (problem === undefined) return;
  let removed = true;
  await backend.remove({ type: 'key', name: id }).catch(() => {
    removed = false;
  });
  throw new CairnError('ERR_KEY_VERIFY', `the new key ${shortId(id)} written to ${backend.location} does not work when read back (${problem}); ${removed ? 'it was removed again' : `it could not be removed: remove keys/${id} by hand`}, and the old password still works; check the storage, then try again`, { data: { key: id, removed }, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Adds a key file for `newPassword` to the repository `repo` was opened with; returns its ID. The
 * open repository does not hand out its master key, so `currentPassword` unwraps it again from the
 * key in use (one more key derivation). The new key is verified (see the module comment). Hold at
 * least a shared lock while calling it.
 */
export async function addPassword(repo: KeyRing, currentPassword: string, newPassword: string, options: NewKeyOptions): Promise<Id> {
  const master = await unlockKey(repo.backend, repo.keyId, currentPassword);
  const id = await addKey(repo.backend, master, newPassword, options.kdf, options);
  await verifyNewKey(repo.backend, id, newPassword, master);
  return id;
}

/**
 * Replaces the key `repo` was opened with by one for `newPassword`: the new key is added and
 * verified first, then the old one is removed (restic's order: a crash in between leaves both).
 * `repo` stays usable (its master key is unchanged) but its `keyId` names a removed file. Hold an
 * exclusive lock while calling it.
 */
export async function changePassword(repo: KeyRing, currentPassword: string, newPassword: string, options: NewKeyOptions): Promise<{ readonly added: Id; readonly removed: Id }> {
  const added = await addPassword(repo, currentPassword, newPassword, options);
  try {
    await repo.backend.remove({ type: 'key', name: repo.keyId });
  } catch (e) {
    const code = e instanceof CairnError ? e.code : 'ERR_BACKEND';
    throw new CairnError(code, `the new key ${shortId(added)} was added and works, but the old key ${shortId(repo.keyId)} could not be removed from ${repo.backend.location} (${messageOf(e)}), so the old password still works too; remove it with \`cairn key remove ${shortId(repo.keyId)}\` (opened with the new password)`, { data: { added, key: repo.keyId }, cause: e, retryable: e instanceof CairnError && e.retryable });
  }
  return { added, removed: repo.keyId };
}
