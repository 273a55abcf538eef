/**
 * The repository master key (and, with the same shape, a user key derived from a password):
 * 32 bytes of AES-256 key for the data, and the 32-byte Poly1305-AES MAC key as restic splits it,
 * `k` (AES-128 key that encrypts each nonce) and `r` (the Poly1305 multiplier).
 */
import { randomFillSync } from 'node:crypto';

export interface MasterKey {
  /** AES-256 key for AES-256-CTR (32 bytes). */
  readonly encrypt: Uint8Array;
  /** AES-128 key that turns the IV into Poly1305's `s` half (16 bytes). */
  readonly macK: Uint8Array;
  /** Poly1305 `r` (16 bytes); clamped on use, so clamped or not it means the same key. */
  readonly macR: Uint8Array;
}

/** Bytes `seal` adds to a plaintext: a 16-byte IV in front, a 16-byte MAC behind. */
export const CRYPTO_OVERHEAD = 32;

/** Length of the IV in front of every sealed object. */
export const IV_SIZE = 16;

/** Length of the Poly1305 tag behind every sealed object. */
export const MAC_SIZE = 16;

/** True when every byte is zero (an invalid key part or IV). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]!;
  return acc === 0;
}

/** Fills `out` with random bytes, again until it is not all zero. */
export function randomNonZero(out: Uint8Array): Uint8Array {
  do randomFillSync(out);
  while (isAllZero(out));
  return out;
}

/**
 * Poly1305's clamp of `r` (RFC 8439 §2.5): the top four bits of bytes 3, 7, 11, 15 and the bottom
 * two bits of bytes 4, 8, 12 cleared. Writes into `out` (may be `r` itself); idempotent.
 */
export function clampR(r: Uint8Array, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  out.set(r.subarray(0, 16));
  out[3]! &= 0x0f;
  out[7]! &= 0x0f;
  out[11]! &= 0x0f;
  out[15]! &= 0x0f;
  out[4]! &= 0xfc;
  out[8]! &= 0xfc;
  out[12]! &= 0xfc;
  return out;
}

/**
 * A fresh random master key from node:crypto's CSPRNG; no part is all zero and `r` is stored
 * clamped, as restic 0.14 writes it.
 */
export function newMasterKey(): MasterKey {
  const encrypt = randomNonZero(new Uint8Array(32));
  const macK = randomNonZero(new Uint8Array(16));
  const macR = new Uint8Array(16);
  do clampR(randomFillSync(macR), macR);
  while (isAllZero(macR));
  return { encrypt, macK, macR };
}

/** Builds a master key from 64 bytes laid out `encrypt(32) || macK(16) || macR(16)` (scrypt's output). */
export function masterKeyFromBytes(bytes: Uint8Array): MasterKey {
  return {
    encrypt: bytes.slice(0, 32),
    macK: bytes.slice(32, 48),
    macR: bytes.slice(48, 64),
  };
}
