import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Directory of the test fixtures (test/fixtures, copied from ../shared/fixtures). */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURES_DIR + name));
}

/**
 * Deterministic pseudo-random bytes: the AES-128-CTR keystream under a key derived from `seed`.
 * Fast (GB/s) and statistically random, for inputs too large to draw with fast-check.
 */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const key = createHash('sha256').update(`cairn test seed ${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return new Uint8Array(cipher.update(new Uint8Array(length)));
}

/** `data` cut into pieces at the given fractions of its length (0..1, any order), empty pieces included. */
export function splitAt(data: Uint8Array, fractions: readonly number[]): Uint8Array[] {
  const cuts = fractions.map((f) => Math.floor(f * data.length)).sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    parts.push(data.subarray(prev, c));
    prev = c;
  }
  parts.push(data.subarray(prev));
  return parts;
}
