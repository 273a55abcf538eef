/**
 * Key files by example: Go's encoding details, Go's lenient decoding (case-insensitive names,
 * unknown fields, null), every validation a hostile or damaged key file meets, the KDF (checked
 * against @noble/hashes' scrypt), and a key file's life: create, encode, decode, unlock.
 */
import { scrypt as nobleScrypt } from '@noble/hashes/scrypt.js';
import { describe, expect, it } from 'vitest';
import { isCairnError, type ErrorCode } from '../../src/errors.js';
import {
  DEFAULT_KDF,
  calibrateKdf,
  createKeyFile,
  decodeKeyFile,
  decodeMasterKeyJson,
  deriveUserKey,
  encodeKeyFile,
  encodeMasterKeyJson,
  newMasterKey,
  open,
  parseKdfSpec,
  seal,
  unlockKeyFile,
  type KeyFile,
} from '../../src/crypto/index.js';
import { expectBytes } from './bytes.js';

const CHEAP = { N: 1024, r: 8, p: 1 } as const;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

async function code(p: Promise<unknown> | (() => unknown)): Promise<ErrorCode | 'none'> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isCairnError(e)) return e.code;
    throw e;
  }
  return 'none';
}

function sample(overrides: Partial<KeyFile> = {}): KeyFile {
  return {
    created: '2022-08-01T10:11:12.5+02:00',
    username: 'alice',
    hostname: 'box',
    kdf: 'scrypt',
    N: 32768,
    r: 8,
    p: 7,
    salt: new Uint8Array(64).map((_, i) => i),
    data: new Uint8Array(160).map((_, i) => 255 - i),
    ...overrides,
  };
}

/** The JSON of `sample()` as an object, to edit and re-serialise. */
function sampleJson(): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(encodeKeyFile(sample()))) as Record<string, unknown>;
}

const decodeObj = (o: unknown): Promise<ErrorCode | 'none'> => code(() => decodeKeyFile(enc(JSON.stringify(o)), 'key file keys/abc'));

describe('encodeKeyFile', () => {
  it('writes Go’s field order, compact, base64 with padding, no trailing newline', () => {
    const k = sample();
    expect(new TextDecoder().decode(encodeKeyFile(k))).toBe(
      `{"created":"2022-08-01T10:11:12.5+02:00","username":"alice","hostname":"box","kdf":"scrypt","N":32768,"r":8,"p":7,` +
        `"salt":"${b64(k.salt)}","data":"${b64(k.data)}"}`,
    );
  });

  it('escapes strings as Go 1.19 does', () => {
    const k = sample({ username: 'a<b>&"\\\n\r\t\b\f\u0001\u007f\u2028\u2029é😀', hostname: 'x\ud800y' });
    const text = new TextDecoder().decode(encodeKeyFile(k));
    expect(text).toContain(
      String.raw`"username":"a\u003cb\u003e\u0026\"\\\n\r\t\u0008\u000c\u0001` + '\u007f' + String.raw`\u2028\u2029` + 'é😀"',
    );
    expect(text).toContain('"hostname":"x\ufffdy"'); // a lone surrogate is invalid UTF-8 to Go
    expect(decodeKeyFile(encodeKeyFile(k)).username).toBe(k.username);
  });
});

describe('decodeKeyFile', () => {
  it('matches names case-insensitively (like Go), ignores unknown fields and nulls', () => {
    const o = sampleJson();
    const renamed: Record<string, unknown> = { extra: [1, { x: 2 }], USERNAME: o['username'], hostname: null };
    for (const [k, v] of Object.entries(o)) if (k !== 'username' && k !== 'hostname') renamed[k === 'N' ? 'n' : k === 'salt' ? 'Salt' : k] = v;
    const k = decodeKeyFile(enc(JSON.stringify(renamed)));
    expect(k.username).toBe('alice');
    expect(k.hostname).toBe('');
    expect(k.N).toBe(32768);
    expect(k.salt).toHaveLength(64);
  });

  it('defaults a missing creation time to Go’s zero time', () => {
    const o = sampleJson();
    delete o['created'];
    expect(decodeKeyFile(enc(JSON.stringify(o))).created).toBe('0001-01-01T00:00:00Z');
  });

  it('refuses damaged key files with ERR_CORRUPT, naming the file', async () => {
    expect(await code(() => decodeKeyFile(enc('{"kdf":'), 'key file keys/abc'))).toBe('ERR_CORRUPT');
    expect(await code(() => decodeKeyFile(enc('[]')))).toBe('ERR_CORRUPT');
    expect(await code(() => decodeKeyFile(new Uint8Array([0xff, 0xfe])))).toBe('ERR_CORRUPT');
    const cases: Array<[string, unknown]> = [
      ['salt', b64(new Uint8Array(32))],
      ['salt', 'not base64!'],
      ['salt', b64(new Uint8Array(64)).replace(/=+$/, '')],
      ['salt', 12],
      ['data', b64(new Uint8Array(31))],
      ['N', 1000],
      ['N', 1],
      ['N', 0],
      ['N', 32768.5],
      ['N', '32768'],
      ['r', 0],
      ['p', -1],
      ['created', 'yesterday'],
      ['created', 5],
      ['username', 7],
    ];
    for (const [field, value] of cases) {
      expect(await decodeObj({ ...sampleJson(), [field]: value }), `${field} = ${String(value)}`).toBe('ERR_CORRUPT');
    }
    let message = '';
    try {
      decodeKeyFile(enc(JSON.stringify({ ...sampleJson(), N: 1000 })), 'key file keys/abc');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('key file keys/abc');
  });

  it('refuses other KDFs and scrypt costs beyond the caps with ERR_UNSUPPORTED', async () => {
    expect(await decodeObj({ ...sampleJson(), kdf: 'argon2id' })).toBe('ERR_UNSUPPORTED');
    const o = sampleJson();
    delete o['kdf'];
    expect(await decodeObj(o)).toBe('ERR_UNSUPPORTED');
    expect(await decodeObj({ ...sampleJson(), N: 2 ** 24, r: 8, p: 1 })).toBe('ERR_UNSUPPORTED'); // 2 GiB of memory
    expect(await decodeObj({ ...sampleJson(), N: 2 ** 15, r: 8, p: 65 })).toBe('ERR_UNSUPPORTED'); // work > 2 GiB
    expect(await decodeObj({ ...sampleJson(), N: 2 ** 20, r: 2 ** 20, p: 2 ** 20 })).toBe('ERR_UNSUPPORTED');
    // What restic writes and has written passes.
    for (const [N, r, p] of [[32768, 8, 1], [32768, 8, 16], [32768, 8, 64], [65536, 8, 1], [128, 1, 1], [16384, 8, 1]] as const) {
      expect(await decodeObj({ ...sampleJson(), N, r, p }), `${N}:${r}:${p}`).toBe('none');
    }
  });
});

describe('master key JSON', () => {
  it('is restic’s shape and decodes back; malformed contents are ERR_CORRUPT', async () => {
    const m = newMasterKey();
    const text = new TextDecoder().decode(encodeMasterKeyJson(m));
    expect(text).toBe(`{"mac":{"k":"${b64(m.macK)}","r":"${b64(m.macR)}"},"encrypt":"${b64(m.encrypt)}"}`);
    expect(text).toHaveLength(128);
    expect(decodeMasterKeyJson(enc(text))).toEqual(m);
    expect(decodeMasterKeyJson(enc(text.replace('"mac"', '"MAC"').replace('"k"', '"K"')))).toEqual(m);
    const bad = [
      `{"mac":{"k":"${b64(m.macK)}","r":"${b64(m.macR)}"}}`,
      `{"mac":{"k":"${b64(m.macK)}","r":"${b64(new Uint8Array(15).fill(1))}"},"encrypt":"${b64(m.encrypt)}"}`,
      `{"mac":{"k":"${b64(new Uint8Array(16))}","r":"${b64(m.macR)}"},"encrypt":"${b64(m.encrypt)}"}`,
      `{"mac":[],"encrypt":"${b64(m.encrypt)}"}`,
      `"key"`,
      `{"mac":`,
    ];
    for (const t of bad) expect(await code(() => decodeMasterKeyJson(enc(t))), t).toBe('ERR_CORRUPT');
  });
});

describe('KDF', () => {
  it('deriveUserKey is scrypt(password UTF-8, salt, N, r, p, 64) split 32/16/16 (checked with @noble/hashes)', async () => {
    const salt = new Uint8Array(64).map((_, i) => i * 7);
    for (const password of ['geheim', 'pässwörd \u{1f511}', '']) {
      const key = await deriveUserKey(password, salt, { N: 256, r: 2, p: 3 });
      const expected = nobleScrypt(enc(password), salt, { N: 256, r: 2, p: 3, dkLen: 64 });
      expect([...key.encrypt, ...key.macK, ...key.macR]).toEqual([...expected]);
      expect(await deriveUserKey(enc(password), salt, { N: 256, r: 2, p: 3 })).toEqual(key);
    }
    // No Unicode normalization: NFC and NFD spellings are different passwords.
    const nfc = await deriveUserKey('é', salt, CHEAP);
    const nfd = await deriveUserKey('e\u0301', salt, CHEAP);
    expect(nfc.encrypt).not.toEqual(nfd.encrypt);
  });

  it('deriveUserKey rejects a salt of the wrong length and bad parameters', async () => {
    expect(await code(deriveUserKey('x', new Uint8Array(16), CHEAP))).toBe('ERR_INVALID_ARGUMENT');
    expect(await code(deriveUserKey('x', new Uint8Array(64), { N: 1000, r: 8, p: 1 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await code(deriveUserKey('x', new Uint8Array(64), { N: 2 ** 15, r: 8, p: 1000 }))).toBe('ERR_UNSUPPORTED');
  });

  it('parseKdfSpec reads N:r:p and validates it', async () => {
    expect(parseKdfSpec('1024:8:1')).toEqual({ N: 1024, r: 8, p: 1 });
    expect(parseKdfSpec(' 32768 : 8 : 4 ')).toEqual({ N: 32768, r: 8, p: 4 });
    for (const bad of ['', '1024:8', '1024:8:1:1', 'a:b:c', '1000:8:1', '1024:0:1', '1024:8:0', '-1024:8:1', '1024.0:8:1']) {
      expect(await code(() => parseKdfSpec(bad)), bad).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(await code(() => parseKdfSpec('32768:8:1000'))).toBe('ERR_UNSUPPORTED');
  });

  it('DEFAULT_KDF is restic’s N and r; calibrateKdf keeps them and picks p ≥ 1', async () => {
    expect(DEFAULT_KDF).toEqual({ N: 32768, r: 8, p: 1 });
    const fast = await calibrateKdf(1); // below one derivation: N halves down to the floor, p = 1
    expect(fast.r).toBe(8);
    expect(fast.p).toBe(1);
    expect(fast.N).toBe(1024);
    expect(await code(calibrateKdf(0))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('key file life cycle', () => {
  it('create → encode → decode → unlock gives the master key back; other passwords give undefined', async () => {
    const master = newMasterKey();
    const kf = await createKeyFile(master, 'secret', { kdf: CHEAP, username: 'u', hostname: 'h', created: '2024-01-02T03:04:05Z' });
    expect(kf.salt).toHaveLength(64);
    expect(kf.data).toHaveLength(160);
    expect([kf.N, kf.r, kf.p, kf.kdf, kf.created]).toEqual([1024, 8, 1, 'scrypt', '2024-01-02T03:04:05Z']);
    const bytes = encodeKeyFile(kf);
    const back = decodeKeyFile(bytes);
    expect(back).toEqual(kf);
    expectBytes(encodeKeyFile(back), bytes);
    expect(await unlockKeyFile(back, 'secret')).toEqual(master);
    expect(await unlockKeyFile(back, 'Secret')).toBeUndefined();
    expect(await unlockKeyFile(back, enc('secret'))).toEqual(master);
    // The sealed plaintext is exactly restic's master key JSON.
    const user = await deriveUserKey('secret', kf.salt, kf);
    expectBytes(open(user, kf.data), encodeMasterKeyJson(master));
  });

  it('two key files for one master key have different salts and data', async () => {
    const master = newMasterKey();
    const a = await createKeyFile(master, 'one', { kdf: CHEAP, username: 'u', hostname: 'h', created: '2024-01-02T03:04:05.123456789+02:00' });
    const b = await createKeyFile(master, 'one', { kdf: CHEAP, username: 'u', hostname: 'h', created: '2024-01-02T03:04:05.123456789+02:00' });
    expect(a.salt).not.toEqual(b.salt);
    expect(a.data).not.toEqual(b.data);
    expect(await unlockKeyFile(b, 'one')).toEqual(master);
  });

  it('a key that opens but holds malformed JSON is ERR_CORRUPT, not a wrong password', async () => {
    const kf = await createKeyFile(newMasterKey(), 'pw', { kdf: CHEAP, username: 'u', hostname: 'h', created: '2024-01-02T03:04:05.123456789+02:00' });
    const user = await deriveUserKey('pw', kf.salt, kf);
    const broken = { ...kf, data: seal(user, enc('{"mac":{"k":"AAAA"},"encrypt":"AAAA"}')) };
    expect(await code(unlockKeyFile(broken, 'pw'))).toBe('ERR_CORRUPT');
  });

  it('keeps the creation time given (Go RFC3339Nano text) and refuses text that is not RFC 3339', async () => {
    const kf = await createKeyFile(newMasterKey(), 'pw', { kdf: CHEAP, username: 'u', hostname: 'h', created: '2024-01-02T03:04:05.123456789+02:00' });
    expect(kf.created).toBe('2024-01-02T03:04:05.123456789+02:00');
    expect(new TextDecoder().decode(encodeKeyFile(kf))).toContain('"created":"2024-01-02T03:04:05.123456789+02:00"');
    expect(await code(createKeyFile(newMasterKey(), 'pw', { kdf: CHEAP, username: 'u', hostname: 'h', created: 'now' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });
});
