/**
 * restic's authenticated encryption of one object: `IV(16) || AES-256-CTR(CT) || Poly1305-AES(16)`.
 *
 * - The random 16-byte IV is the whole initial counter block, incremented as one 128-bit
 *   big-endian integer (Go's `cipher.NewCTR`; OpenSSL's `aes-256-ctr` behaves the same).
 * - The MAC covers the ciphertext only (not the IV, no length, no associated data). Its one-time
 *   Poly1305 key is `clamp(r) || AES-128-ECB_k(IV)`: the AES encryption of the nonce is the `s`
 *   half. Poly1305 itself is libsodium's `crypto_onetimeauth` (RFC 8439), ~10× faster than JS.
 * - `open` checks length, IV and MAC (in constant time) before it decrypts anything; on failure it
 *   returns nothing at all.
 *
 * Where cairn's native addon is built (Linux), sealing and opening are one call into it: AES and
 * Poly1305 from the OpenSSL Node carries, written straight into the output array (no garbage per
 * blob, which kept ~35 MB of dead buffers alive per blob worker). Without it: the same
 * construction from node:crypto and libsodium (loaded only then), below.
 *
 * node:crypto's AES cannot write into a caller's buffer; ciphertext comes back
 * in slices of CTR_CHUNK bytes that are copied into the single output array while still in cache.
 * Measured on 64 MiB (bench/crypto.ts): 32 KiB slices ~2.3–3.0 GB/s, 64 KiB ~2.2, 1 MiB ~1.7, one
 * `update` over everything ~1.1 (it makes a second buffer as large as the input).
 */
import { createCipheriv, randomFillSync, timingSafeEqual, type Cipher } from 'node:crypto';
import { createRequire } from 'node:module';
import { CairnError } from '../errors.js';
import { nativeAddon } from '../util/index.js';
import { CRYPTO_OVERHEAD, IV_SIZE, MAC_SIZE, clampR, isAllZero, type MasterKey } from './master-key.js';

/** The slice of libsodium cairn uses. */
interface Sodium {
  crypto_onetimeauth(out: Uint8Array, input: Uint8Array, key: Uint8Array): void;
}

let sodiumLib: Sodium | undefined;
function sodium(): Sodium {
  return (sodiumLib ??= createRequire(import.meta.url)('sodium-native') as Sodium);
}

/** The addon's seal and open (native/cairn_native.c). */
interface NativeSeal {
  sealInto(encrypt: Uint8Array, macK: Uint8Array, macR: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void;
  openInto(encrypt: Uint8Array, macK: Uint8Array, macR: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
}

const addon = nativeAddon<Partial<NativeSeal>>();
let fast: NativeSeal | undefined = typeof addon?.sealInto === 'function' && typeof addon.openInto === 'function' ? (addon as NativeSeal) : undefined;

/** Whether seal/open run in the native addon; `useNativeSeal(false)` forces the fallback (tests). */
export function nativeSeal(): boolean {
  return fast !== undefined;
}

/** Turns the native path off (or back on, when the addon has it): for tests comparing the two. */
export function useNativeSeal(on: boolean): void {
  fast = on && typeof addon?.sealInto === 'function' && typeof addon.openInto === 'function' ? (addon as NativeSeal) : undefined;
}

/** Plaintext bytes per `Cipher.update` call (see the file comment). */
const CTR_CHUNK = 1 << 15;

/**
 * One AES-128-ECB cipher per MAC key, reused for every nonce: ECB without padding is stateless,
 * and creating a cipher costs ~4× encrypting one block. Keyed by the MasterKey object, whose bytes
 * must therefore never change (the interface is readonly).
 */
const ecbCache = new WeakMap<MasterKey, Cipher>();

function checkKey(key: MasterKey): void {
  if (key.encrypt.length !== 32 || key.macK.length !== 16 || key.macR.length !== 16) {
    throw new CairnError(
      'ERR_INTERNAL',
      `malformed key: parts of ${key.encrypt.length}/${key.macK.length}/${key.macR.length} bytes instead of 32/16/16`,
    );
  }
}

/** Poly1305-AES of `ciphertext` under `key` and `iv`, written into `out` (16 bytes). */
function macInto(key: MasterKey, iv: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): void {
  let ecb = ecbCache.get(key);
  if (ecb === undefined) {
    ecb = createCipheriv('aes-128-ecb', key.macK, null).setAutoPadding(false);
    ecbCache.set(key, ecb);
  }
  const oneTimeKey = new Uint8Array(32);
  clampR(key.macR, oneTimeKey.subarray(0, 16));
  const s = ecb.update(iv);
  oneTimeKey.set(s, 16);
  sodium().crypto_onetimeauth(out, ciphertext, oneTimeKey);
  oneTimeKey.fill(0);
  s.fill(0);
}

/** AES-256-CTR of `input` into `out` (same length), starting from counter block `iv`. */
function ctrInto(key: MasterKey, iv: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  const c = createCipheriv('aes-256-ctr', key.encrypt, iv);
  for (let i = 0; i < input.length; i += CTR_CHUNK) {
    out.set(c.update(input.subarray(i, i + CTR_CHUNK)), i);
  }
}

/** Random bytes for IVs, drawn from the CSPRNG a page at a time rather than one call per blob. */
const ivPool = new Uint8Array(4096);
let ivPoolAt = ivPool.length;

/** A fresh random, non-zero IV written into `out` (IV_SIZE bytes). */
function randomIv(out: Uint8Array): Uint8Array {
  do {
    if (ivPoolAt + IV_SIZE > ivPool.length) {
      randomFillSync(ivPool);
      ivPoolAt = 0;
    }
    out.set(ivPool.subarray(ivPoolAt, ivPoolAt + IV_SIZE));
    // Used bytes are wiped: no IV stays in memory for a later one to repeat.
    ivPool.fill(0, ivPoolAt, ivPoolAt + IV_SIZE);
    ivPoolAt += IV_SIZE;
  } while (isAllZero(out));
  return out;
}

/**
 * Encrypts and authenticates `plaintext` under `key`: returns `IV || ciphertext || MAC`, exactly
 * `plaintext.length + CRYPTO_OVERHEAD` bytes in one freshly allocated array. The IV is random
 * (node:crypto CSPRNG) and never all zero.
 */
export function seal(key: MasterKey, plaintext: Uint8Array): Uint8Array {
  return sealInto(key, plaintext, new Uint8Array(plaintext.length + CRYPTO_OVERHEAD));
}

/**
 * `seal` into the first `plaintext.length + CRYPTO_OVERHEAD` bytes of `out` (which must not
 * overlap `plaintext`); returns that view of `out`. For callers that reuse one output buffer.
 */
export function sealInto(key: MasterKey, plaintext: Uint8Array, out: Uint8Array): Uint8Array {
  checkKey(key);
  const n = plaintext.length;
  if (out.length < n + CRYPTO_OVERHEAD) {
    throw new CairnError('ERR_INTERNAL', `sealInto: an output of ${out.length} bytes cannot hold ${n} bytes sealed (${n + CRYPTO_OVERHEAD})`);
  }
  out = out.subarray(0, n + CRYPTO_OVERHEAD);
  const iv = randomIv(out.subarray(0, IV_SIZE));
  if (fast !== undefined) {
    fast.sealInto(key.encrypt, key.macK, key.macR, iv, plaintext, out);
    return out;
  }
  const ct = out.subarray(IV_SIZE, IV_SIZE + n);
  ctrInto(key, iv, plaintext, ct);
  macInto(key, iv, ct, out.subarray(IV_SIZE + n));
  return out;
}

function authFailed(what: string, length: number): CairnError {
  return new CairnError(
    'ERR_AUTH_FAILED',
    `ciphertext verification failed for ${what}: its MAC does not match, so it was altered or damaged in storage, or it was not written with this repository's key; run "cairn check" to find damaged files`,
    { data: { length } },
  );
}

/** Length and IV checks shared by `open` and `verifyMac`. */
function checkSealed(sealed: Uint8Array, what: string): void {
  if (sealed.length < CRYPTO_OVERHEAD) {
    throw new CairnError(
      'ERR_CORRUPT',
      `${what} is ${sealed.length} bytes, shorter than the ${CRYPTO_OVERHEAD} bytes of IV and MAC every encrypted object has; the stored file is truncated or damaged`,
      { data: { length: sealed.length } },
    );
  }
  if (isAllZero(sealed.subarray(0, IV_SIZE))) {
    throw new CairnError('ERR_CORRUPT', `${what} has an all-zero IV, which no writer produces; the stored file is damaged`);
  }
}

function macMatches(key: MasterKey, sealed: Uint8Array): boolean {
  const end = sealed.length - MAC_SIZE;
  const expected = new Uint8Array(MAC_SIZE);
  macInto(key, sealed.subarray(0, IV_SIZE), sealed.subarray(IV_SIZE, end), expected);
  return timingSafeEqual(expected, sealed.subarray(end));
}

/**
 * True when the MAC of `sealed` (`IV || CT || MAC`) is right for `key`. Throws ERR_CORRUPT when
 * `sealed` is too short to be an encrypted object or has an all-zero IV.
 */
export function verifyMac(key: MasterKey, sealed: Uint8Array, what = 'encrypted data'): boolean {
  checkKey(key);
  checkSealed(sealed, what);
  return macMatches(key, sealed);
}

/**
 * Checks and decrypts `IV || CT || MAC`; returns the plaintext (a new array, `sealed.length − 32`
 * bytes). Order: length ≥ 32 and a non-zero IV (else ERR_CORRUPT), then the MAC, compared in
 * constant time (mismatch: ERR_AUTH_FAILED), and only then decryption. `what` names the object in
 * error messages (e.g. `index file 1f2e…`).
 */
export function open(key: MasterKey, sealed: Uint8Array, what = 'encrypted data'): Uint8Array {
  // Too short to hold IV and MAC: openInto throws ERR_CORRUPT before it looks at the output.
  return openInto(key, sealed, new Uint8Array(Math.max(0, sealed.length - CRYPTO_OVERHEAD)), what);
}

/**
 * `open` into the first `sealed.length − 32` bytes of `out`; returns that view of `out`. For
 * callers that reuse one output buffer (the restore path). The same checks in the same order, with
 * the same errors; on any failure nothing is written to `out`. ERR_INTERNAL when `out` is shorter
 * than the plaintext or overlaps `sealed` (a caller's mistake, found after the input checks).
 */
export function openInto(key: MasterKey, sealed: Uint8Array, out: Uint8Array, what = 'encrypted data'): Uint8Array {
  checkKey(key);
  checkSealed(sealed, what);
  const n = sealed.length - CRYPTO_OVERHEAD;
  if (out.length < n) {
    throw new CairnError('ERR_INTERNAL', `openInto: an output of ${out.length} bytes cannot hold the ${n} bytes of plaintext of ${what}`);
  }
  out = out.subarray(0, n);
  if (out.buffer === sealed.buffer && out.byteOffset < sealed.byteOffset + sealed.length && sealed.byteOffset < out.byteOffset + n) {
    throw new CairnError('ERR_INTERNAL', `openInto: the output for ${what} overlaps its sealed bytes; pass a separate buffer`);
  }
  if (fast !== undefined) {
    if (fast.openInto(key.encrypt, key.macK, key.macR, sealed, out)) return out;
    throw authFailed(what, sealed.length);
  }
  if (!macMatches(key, sealed)) throw authFailed(what, sealed.length);
  ctrInto(key, sealed.subarray(0, IV_SIZE), sealed.subarray(IV_SIZE, IV_SIZE + n), out); // CTR decryption is the same keystream XOR
  return out;
}

/** Bytes a plaintext of `plaintextLength` occupies once sealed. */
export function sealedLength(plaintextLength: number): number {
  return plaintextLength + CRYPTO_OVERHEAD;
}
