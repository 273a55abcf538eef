/**
 * Key files (`keys/<sha256 of the file>`): plain JSON, neither encrypted by the master key nor
 * compressed, that wrap the master key under a password:
 *
 *   {"created":…,"username":…,"hostname":…,"kdf":"scrypt","N":…,"r":…,"p":…,"salt":"<b64>","data":"<b64>"}
 *
 * - Go's field order, compact, no trailing newline; `[]byte` as padded standard base64; strings
 *   escaped as Go 1.19 does (see go-json.ts). `encodeKeyFile` of the same values gives restic's
 *   bytes exactly, so `encodeKeyFile(decodeKeyFile(b))` reproduces a restic key file.
 * - `data` = seal(userKey, `{"mac":{"k":"<b64 16>","r":"<b64 16>"},"encrypt":"<b64 32>"}`), the
 *   user key being scrypt of the password (kdf.ts). That plaintext is also byte-identical to
 *   restic's (`r` stays as the master key holds it; restic 0.14 stores it clamped).
 * - Reading follows Go's decoder: unknown fields are ignored, names match case-insensitively,
 *   `null` leaves a field at its zero value. Then restic's checks (kdf, 64-byte salt, N, r, p)
 *   and cairn's caps on scrypt's cost (kdf.ts) apply before any derivation runs.
 */
import { randomBytes } from 'node:crypto';
import { CairnError, isCairnError } from '../errors.js';
import { base64Decode as fromBase64, base64Encode as toBase64, describeValue, goJsonString } from '../util/index.js';
import { RFC3339_RE, goFieldFor, parseJsonObject } from './go-json.js';
import { SALT_SIZE, deriveUserKey, kdfProblem, type KdfParams } from './kdf.js';
import { CRYPTO_OVERHEAD, isAllZero, type MasterKey } from './master-key.js';
import { open, seal } from './seal.js';

/** A key file's fields, as stored. */
export interface KeyFile {
  /** Creation time, the Go RFC3339Nano text exactly as stored (e.g. `2022-08-01T10:00:00.123+02:00`). */
  created: string;
  username: string;
  hostname: string;
  /** Always `scrypt` (the only KDF restic has). */
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  /** 64 bytes. */
  salt: Uint8Array;
  /** The sealed master key JSON: `IV || CT || MAC`. */
  data: Uint8Array;
}

const FIELDS = ['created', 'username', 'hostname', 'kdf', 'N', 'r', 'p', 'salt', 'data'] as const;
type Field = (typeof FIELDS)[number];

/** Go's zero `time.Time`, as it marshals. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The key file's JSON bytes, byte-identical to what restic's `json.Marshal` writes. */
export function encodeKeyFile(k: KeyFile): Uint8Array {
  for (const [name, v] of [['N', k.N], ['r', k.r], ['p', k.p]] as const) {
    if (!Number.isSafeInteger(v)) throw new CairnError('ERR_INVALID_ARGUMENT', `key file field ${name} = ${v} is not an integer`);
  }
  const text =
    `{"created":${goJsonString(k.created)},"username":${goJsonString(k.username)},"hostname":${goJsonString(k.hostname)},` +
    `"kdf":${goJsonString(k.kdf)},"N":${k.N},"r":${k.r},"p":${k.p},` +
    `"salt":"${toBase64(k.salt)}","data":"${toBase64(k.data)}"}`;
  return new TextEncoder().encode(text);
}

function corrupt(what: string, problem: string, data: Record<string, unknown> = {}): CairnError {
  return new CairnError('ERR_CORRUPT', `${what} is damaged: ${problem}; remove or replace this key file`, { data });
}

/**
 * Parses and validates a key file. ERR_CORRUPT (naming `what`, e.g. `key file keys/1f2e…`) for
 * bytes that are not such JSON, a field of the wrong type, bad base64, a salt that is not 64
 * bytes, `data` shorter than 32 bytes, N not a power of two > 1, r or p < 1; ERR_UNSUPPORTED for
 * a KDF other than scrypt or scrypt parameters beyond cairn's caps (kdf.ts).
 */
export function decodeKeyFile(bytes: Uint8Array, what = 'key file'): KeyFile {
  const obj = parseJsonObject(new TextDecoder().decode(bytes), what);
  const v: { created: string; username: string; hostname: string; kdf: string; N: number; r: number; p: number; salt: Uint8Array; data: Uint8Array } = {
    created: ZERO_TIME, username: '', hostname: '', kdf: '', N: 0, r: 0, p: 0, salt: new Uint8Array(0), data: new Uint8Array(0),
  };
  for (const [key, value] of Object.entries(obj)) {
    const field: Field | undefined = goFieldFor(key, FIELDS);
    if (field === undefined || value === null) continue;
    switch (field) {
      case 'created':
        if (typeof value !== 'string' || !RFC3339_RE.test(value)) {
          throw corrupt(what, `"created" is ${describeValue(value)}, not an RFC 3339 time`);
        }
        v.created = value;
        break;
      case 'username':
      case 'hostname':
      case 'kdf':
        if (typeof value !== 'string') throw corrupt(what, `"${field}" is not a string`);
        v[field] = value;
        break;
      case 'N':
      case 'r':
      case 'p':
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
          throw corrupt(what, `"${field}" is ${describeValue(value)}, not an integer`);
        }
        v[field] = value;
        break;
      case 'salt':
      case 'data': {
        const b = typeof value === 'string' ? fromBase64(value) : undefined;
        if (b === undefined) throw corrupt(what, `"${field}" is not standard base64`);
        v[field] = b;
        break;
      }
    }
  }
  if (v.kdf !== 'scrypt') {
    throw new CairnError('ERR_UNSUPPORTED', `${what} uses the KDF ${describeValue(v.kdf)}; only scrypt is supported (as in restic)`, {
      data: { kdf: v.kdf.slice(0, 60) },
    });
  }
  if (v.salt.length !== SALT_SIZE) throw corrupt(what, `its salt is ${v.salt.length} bytes instead of ${SALT_SIZE}`);
  const problem = kdfProblem(v);
  if (problem !== undefined) {
    if (problem.code === 'ERR_CORRUPT') throw corrupt(what, problem.message, { N: v.N, r: v.r, p: v.p });
    throw new CairnError(problem.code, `${what}: ${problem.message}; refusing to derive a key from it`, {
      data: { N: v.N, r: v.r, p: v.p },
    });
  }
  if (v.data.length < CRYPTO_OVERHEAD) {
    throw corrupt(what, `its encrypted key is ${v.data.length} bytes, too short to hold an IV and a MAC`);
  }
  return { ...v, kdf: 'scrypt' };
}

/** The plaintext of a key file's `data`, byte-identical to restic's `json.Marshal(masterKey)`. */
export function encodeMasterKeyJson(master: MasterKey): Uint8Array {
  return new TextEncoder().encode(
    `{"mac":{"k":"${toBase64(master.macK)}","r":"${toBase64(master.macR)}"},"encrypt":"${toBase64(master.encrypt)}"}`,
  );
}

const MASTER_FIELDS = ['mac', 'encrypt'] as const;
const MAC_FIELDS = ['k', 'r'] as const;

/** Parses and validates the decrypted master key JSON (Go decoding rules, strict lengths). */
export function decodeMasterKeyJson(plain: Uint8Array, what = 'key file'): MasterKey {
  const inner = `the master key inside ${what}`;
  const obj = parseJsonObject(new TextDecoder().decode(plain), inner);
  let encrypt: Uint8Array | undefined;
  let macK: Uint8Array | undefined;
  let macR: Uint8Array | undefined;
  const bytesOf = (value: unknown, name: string): Uint8Array => {
    const b = typeof value === 'string' ? fromBase64(value) : undefined;
    if (b === undefined) throw corrupt(inner, `"${name}" is not standard base64`);
    return b;
  };
  for (const [key, value] of Object.entries(obj)) {
    const field = goFieldFor(key, MASTER_FIELDS);
    if (field === undefined || value === null) continue;
    if (field === 'encrypt') {
      encrypt = bytesOf(value, 'encrypt');
    } else {
      if (typeof value !== 'object' || Array.isArray(value)) throw corrupt(inner, '"mac" is not an object');
      for (const [mkey, mvalue] of Object.entries(value as Record<string, unknown>)) {
        const mfield = goFieldFor(mkey, MAC_FIELDS);
        if (mfield === undefined || mvalue === null) continue;
        if (mfield === 'k') macK = bytesOf(mvalue, 'mac.k');
        else macR = bytesOf(mvalue, 'mac.r');
      }
    }
  }
  for (const [name, b, size] of [['encrypt', encrypt, 32], ['mac.k', macK, 16], ['mac.r', macR, 16]] as const) {
    if (b === undefined) throw corrupt(inner, `"${name}" is missing`);
    if (b.length !== size) throw corrupt(inner, `"${name}" is ${b.length} bytes instead of ${size}`);
    if (isAllZero(b)) throw corrupt(inner, `"${name}" is all zero`);
  }
  return { encrypt: encrypt!, macK: macK!, macR: macR! };
}

/**
 * The master key in `k` if `password` opens it, or undefined when the MAC does not verify (a wrong
 * password: try the next key file). ERR_CORRUPT when it opens but the key inside is malformed
 * (not JSON, wrong lengths, an all-zero part). `macR` is returned as stored; it is clamped on use.
 */
export async function unlockKeyFile(k: KeyFile, password: string | Uint8Array, what = 'key file'): Promise<MasterKey | undefined> {
  const user = await deriveUserKey(password, k.salt, k);
  let plain: Uint8Array;
  try {
    plain = open(user, k.data, what);
  } catch (e) {
    if (isCairnError(e, 'ERR_AUTH_FAILED')) return undefined;
    throw e;
  } finally {
    user.encrypt.fill(0);
    user.macK.fill(0);
    user.macR.fill(0);
  }
  try {
    return decodeMasterKeyJson(plain, what);
  } finally {
    plain.fill(0);
  }
}

export interface CreateKeyFileOptions {
  /** scrypt parameters; use `calibrateKdf()` for real repositories. */
  readonly kdf: KdfParams;
  readonly username: string;
  readonly hostname: string;
  /** Creation time text. @default now, local time, Go RFC3339Nano (millisecond precision) */
  /** Creation time as Go RFC3339Nano text (the repository passes its formatted "now"). */
  readonly created: string;
}

/**
 * A new key file that opens `master` with `password`: a fresh random 64-byte salt, the user key
 * from scrypt with `options.kdf`, and `data` sealing restic's master key JSON. Store it as
 * `keys/<SHA-256 of encodeKeyFile(result)>`. ERR_INVALID_ARGUMENT for unusable KDF parameters or a
 * `created` that is not RFC 3339 text.
 */
export async function createKeyFile(master: MasterKey, password: string | Uint8Array, options: CreateKeyFileOptions): Promise<KeyFile> {
  const created = options.created;
  if (!RFC3339_RE.test(created)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `key file creation time "${created}" is not RFC 3339 text`);
  }
  const { N, r, p } = options.kdf;
  const salt = new Uint8Array(randomBytes(SALT_SIZE));
  const user = await deriveUserKey(password, salt, { N, r, p });
  const plain = encodeMasterKeyJson(master);
  const data = seal(user, plain);
  plain.fill(0);
  user.encrypt.fill(0);
  user.macK.fill(0);
  user.macR.fill(0);
  return { created, username: options.username, hostname: options.hostname, kdf: 'scrypt', N, r, p, salt, data };
}
