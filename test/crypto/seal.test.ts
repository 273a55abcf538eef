/**
 * seal/open by example: known answers (the Poly1305-AES paper's test vectors, which restic's own
 * tests use, and a ciphertext from restic's test suite), the layout, and every way `open` refuses.
 */
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import {
  CRYPTO_OVERHEAD,
  clampR,
  newMasterKey,
  open,
  seal,
  sealedLength,
  verifyMac,
  type MasterKey,
} from '../../src/crypto/index.js';
import { expectBytes } from './bytes.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

/** Test vectors of "The Poly1305-AES message-authentication code" (Bernstein, 2005), appendix B. */
const POLY1305_AES = [
  {
    msg: 'f3f6',
    r: '851fc40c3467ac0be05cc20404f3f700',
    k: 'ec074c835580741701425b623235add6',
    nonce: 'fb447350c4e868c52ac3275cf9d4327e',
    mac: 'f4c633c3044fc145f84f335cb81953de',
  },
  {
    msg: '',
    r: 'a0f3080000f46400d0c7e9076c834403',
    k: '75deaa25c09f208e1dc4ce6b5cad3fbf',
    nonce: '61ee09218d29b0aaed7e154a2c5509cc',
    mac: 'dd3fab2251f11ac759f0887129cc2ee7',
  },
  {
    msg: '663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136',
    r: '48443d0bb0d21109c89a100b5ce2c208',
    k: '6acb5f61a7176dd320c5c1eb2edcdc74',
    nonce: 'ae212a5539972959 5dea458bc621ff0e',
    mac: '0ee1c16bb73f0f4fd19881753c01cdbe',
  },
  {
    msg:
      'ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0' +
      '990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9',
    r: '12976a08c4426d0ce8a82407c4f48207',
    k: 'e1a5668a4d5b66a5f68cc5424ed5982d',
    nonce: '9ae831e743978d3a23527c7128149e3a',
    mac: '5154ad0d2cb26e01274fc51148491f1b',
  },
];

describe('Poly1305-AES', () => {
  it('matches the Poly1305-AES paper’s vectors (verifyMac over IV || msg || MAC)', () => {
    for (const v of POLY1305_AES) {
      const key: MasterKey = { encrypt: new Uint8Array(32).fill(1), macK: hex(v.k), macR: hex(v.r) };
      const sealed = concat(hex(v.nonce), hex(v.msg), hex(v.mac));
      expect(verifyMac(key, sealed)).toBe(true);
      const bad = sealed.slice();
      bad[bad.length - 1]! ^= 1;
      expect(verifyMac(key, bad)).toBe(false);
    }
  });
});

describe('open', () => {
  // From restic's crypto tests: keys (r NOT clamped: clamping happens on use) and one ciphertext.
  const resticKey: MasterKey = {
    encrypt: hex('303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef'),
    macK: hex('ef4d8824cb80b2bcc5fbff8a9b12a42c'),
    macR: hex('cc8d4b948ee0ebfe1d415de921d10353'),
  };
  const resticSealed = hex(
    '69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc75dddf8750',
  );

  it('decrypts a ciphertext made by restic (with an unclamped r)', () => {
    expect(clampR(resticKey.macR)).not.toEqual(resticKey.macR);
    expect(new TextDecoder().decode(open(resticKey, resticSealed))).toBe('Dies ist ein Test!');
  });

  it('refuses a tampered MAC or ciphertext with ERR_AUTH_FAILED naming the object', () => {
    for (const at of [resticSealed.length - 8, 16 + 5, 3 /* IV */]) {
      const bad = resticSealed.slice();
      bad[at]! ^= 0x23;
      const e = thrown(() => open(resticKey, bad, 'snapshot 1234abcd'));
      expect(isCairnError(e, 'ERR_AUTH_FAILED')).toBe(true);
      expect((e as Error).message).toMatch(/^ciphertext verification failed for snapshot 1234abcd: /);
    }
  });

  it('refuses the right bytes under another key', () => {
    const e = thrown(() => open(newMasterKey(), resticSealed));
    expect(isCairnError(e, 'ERR_AUTH_FAILED')).toBe(true);
  });

  it('refuses input shorter than IV + MAC, and an all-zero IV, with ERR_CORRUPT', () => {
    const key = newMasterKey();
    for (const n of [0, 1, 16, 31]) {
      const e = thrown(() => open(key, new Uint8Array(n).fill(7), 'pack header'));
      expect(isCairnError(e, 'ERR_CORRUPT')).toBe(true);
      expect((e as Error).message).toContain('pack header');
    }
    const zeroIv = seal(key, new Uint8Array(10));
    zeroIv.fill(0, 0, 16);
    expect(isCairnError(thrown(() => open(key, zeroIv)), 'ERR_CORRUPT')).toBe(true);
  });
});

describe('seal', () => {
  it('lays out IV || CT || MAC, 32 bytes over the plaintext, with a fresh non-zero IV each time', () => {
    const key = newMasterKey();
    const pt = new TextEncoder().encode('hello, restic');
    const a = seal(key, pt);
    const b = seal(key, pt);
    expect(a).toHaveLength(pt.length + CRYPTO_OVERHEAD);
    expect(sealedLength(pt.length)).toBe(a.length);
    expect(a.subarray(0, 16)).not.toEqual(b.subarray(0, 16));
    expect(a.subarray(0, 16).some((x) => x !== 0)).toBe(true);
    expect(open(key, a)).toEqual(pt);
    expect(open(key, b)).toEqual(pt);
  });

  it('seals the empty plaintext to 32 bytes that open to nothing', () => {
    const key = newMasterKey();
    const s = seal(key, new Uint8Array(0));
    expect(s).toHaveLength(32);
    expect(open(key, s)).toHaveLength(0);
  });

  it('handles plaintexts spanning several internal AES slices (1 MiB + 3)', () => {
    const key = newMasterKey();
    const pt = new Uint8Array((1 << 20) + 3);
    for (let i = 0; i < pt.length; i++) pt[i] = (i * 31) & 0xff;
    expectBytes(open(key, seal(key, pt)), pt);
  });

  it('makes keys whose parts are all non-zero, with r stored clamped (as restic 0.14 does)', () => {
    for (let i = 0; i < 20; i++) {
      const k = newMasterKey();
      expect([k.encrypt.length, k.macK.length, k.macR.length]).toEqual([32, 16, 16]);
      for (const part of [k.encrypt, k.macK, k.macR]) expect(part.some((x) => x !== 0)).toBe(true);
      expect(clampR(k.macR)).toEqual(k.macR);
    }
  });

  it('rejects a malformed key as an internal error', () => {
    const key = { encrypt: new Uint8Array(16), macK: new Uint8Array(16), macR: new Uint8Array(16) };
    expect(isCairnError(thrown(() => seal(key, new Uint8Array(1))), 'ERR_INTERNAL')).toBe(true);
  });
});
