/**
 * Polynomials over GF(2) of degree at most 64, as `bigint` bit sets (bit i is the coefficient of
 * x^i). Addition is XOR, multiplication is carry-less. These run when a repository is created or
 * opened and when a chunker's tables are built, never per byte, so clarity wins over speed.
 *
 * restic picks a random irreducible polynomial of degree 53 per repository and stores it in the
 * config as lowercase hex without `0x`. Irreducibility is checked with Ben-Or's test: a polynomial
 * P of degree n is irreducible iff gcd(P, x^(2^i) − x mod P) = 1 for every i in 1..⌊n/2⌋.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { CairnError } from '../../errors.js';
import { describeValue } from '../../util/index.js';

/** The degree restic requires of a repository's chunker polynomial. */
export const POLYNOMIAL_DEGREE = 53;

/** How many random candidates `randomPolynomial` draws before giving up (as restic does). */
export const RANDOM_POLYNOMIAL_TRIES = 1_000_000;

const U64 = (1n << 64n) - 1n;

function checkOperand(name: string, x: bigint): void {
  if (x < 0n) throw new RangeError(`${name}: polynomials are non-negative bit sets, got ${x}`);
}

/** Degree of `p` (index of the highest set bit); −1 for the zero polynomial. */
export function degree(p: bigint): number {
  checkOperand('degree', p);
  if (p === 0n) return -1;
  return p.toString(2).length - 1;
}

/** Sum (and difference) in GF(2)[x]: XOR. */
export function add(x: bigint, y: bigint): bigint {
  return x ^ y;
}

/** Carry-less product. */
export function mul(x: bigint, y: bigint): bigint {
  checkOperand('mul', x);
  checkOperand('mul', y);
  let r = 0n;
  let a = x;
  let b = y;
  while (b !== 0n) {
    if ((b & 1n) !== 0n) r ^= a;
    a <<= 1n;
    b >>= 1n;
  }
  return r;
}

/** Quotient and remainder of `x` divided by `d`; throws on division by zero. */
export function divmod(x: bigint, d: bigint): { quotient: bigint; remainder: bigint } {
  checkOperand('divmod', x);
  checkOperand('divmod', d);
  if (d === 0n) throw new RangeError('divmod: division by the zero polynomial');
  const dd = degree(d);
  let q = 0n;
  let r = x;
  let dr = degree(r);
  while (dr >= dd) {
    const shift = BigInt(dr - dd);
    q |= 1n << shift;
    r ^= d << shift;
    dr = degree(r);
  }
  return { quotient: q, remainder: r };
}

/** Quotient of `x` divided by `d`. */
export function div(x: bigint, d: bigint): bigint {
  return divmod(x, d).quotient;
}

/** Remainder of `x` divided by `d`. */
export function mod(x: bigint, d: bigint): bigint {
  return divmod(x, d).remainder;
}

/** `x · y mod m`. */
export function mulmod(x: bigint, y: bigint, m: bigint): bigint {
  return mod(mul(mod(x, m), mod(y, m)), m);
}

/** Greatest common divisor (gcd(0, y) = y). */
export function gcd(x: bigint, y: bigint): bigint {
  checkOperand('gcd', x);
  checkOperand('gcd', y);
  let a = x;
  let b = y;
  while (b !== 0n) {
    const r = mod(a, b);
    a = b;
    b = r;
  }
  return a;
}

/**
 * Ben-Or's irreducibility test. Polynomials of degree < 1 are not irreducible; degree 1 ones are.
 */
export function isIrreducible(p: bigint): boolean {
  checkOperand('isIrreducible', p);
  const n = degree(p);
  if (n < 1) return false;
  // t = x^(2^i) mod p, computed by repeated squaring.
  let t = mod(2n, p);
  for (let i = 1; i <= n >> 1; i++) {
    t = mulmod(t, t, p);
    if (gcd(p, t ^ mod(2n, p)) !== 1n) return false;
  }
  return true;
}

/** `x^53+x^52+…+x+1`: a readable form (diagnostics). */
export function expandPolynomial(p: bigint): string {
  checkOperand('expandPolynomial', p);
  if (p === 0n) return '0';
  const terms: string[] = [];
  for (let i = degree(p); i >= 0; i--) {
    if (((p >> BigInt(i)) & 1n) === 0n) continue;
    terms.push(i === 0 ? '1' : i === 1 ? 'x' : `x^${i}`);
  }
  return terms.join('+');
}

/** Source of cryptographically strong random bytes (node:crypto's `randomBytes` by default). */
export type RandomBytes = (size: number) => Uint8Array;

/**
 * A random irreducible polynomial of degree 53, drawn as restic draws it: a little-endian u64 from
 * the CSPRNG, keep its low 54 bits, set bits 53 and 0, accept if irreducible. Throws
 * `ERR_INTERNAL` if none is found in `maxTries` draws (about 1 in 53 candidates is irreducible, so
 * with the default of 1e6 this only happens with a broken random source).
 */
export function randomPolynomial(
  randomBytes: RandomBytes = nodeRandomBytes,
  maxTries: number = RANDOM_POLYNOMIAL_TRIES,
): bigint {
  for (let i = 0; i < maxTries; i++) {
    const bytes = randomBytes(8);
    if (bytes.length < 8) {
      throw new CairnError('ERR_INTERNAL', `random source returned ${bytes.length} bytes, wanted 8`);
    }
    let v = 0n;
    for (let j = 7; j >= 0; j--) v = (v << 8n) | BigInt(bytes[j]!);
    v &= (1n << 54n) - 1n;
    v |= (1n << 53n) | 1n;
    if (isIrreducible(v)) return v;
  }
  throw new CairnError(
    'ERR_INTERNAL',
    `no irreducible polynomial found in ${maxTries} random draws; is the random source broken?`,
    { data: { tries: maxTries } },
  );
}

/**
 * Checks that `p` can be a repository's chunker polynomial: degree 53 and irreducible (restic
 * refuses to open a repository whose config says otherwise). Throws `ERR_CHUNKER_PARAMS`.
 */
export function validatePolynomial(p: bigint): bigint {
  if (p < 0n || p > U64) {
    throw new CairnError('ERR_CHUNKER_PARAMS', `chunker polynomial ${p} is not a 64-bit value`, {
      data: { polynomial: p.toString(16) },
    });
  }
  const d = degree(p);
  if (d !== POLYNOMIAL_DEGREE) {
    throw new CairnError(
      'ERR_CHUNKER_PARAMS',
      `chunker polynomial ${p.toString(16)} has degree ${d}, but restic requires ${POLYNOMIAL_DEGREE}`,
      { data: { polynomial: p.toString(16), degree: d } },
    );
  }
  if (!isIrreducible(p)) {
    throw new CairnError('ERR_CHUNKER_PARAMS', `chunker polynomial ${p.toString(16)} is not irreducible`, {
      data: { polynomial: p.toString(16) },
    });
  }
  return p;
}

/**
 * Parses the hex form restic stores in the repository config (`"chunker_polynomial"`, lowercase,
 * no `0x`; uppercase is accepted too) and validates it (`ERR_CHUNKER_PARAMS`).
 */
export function parsePolynomial(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) {
    throw new CairnError('ERR_CHUNKER_PARAMS', `chunker polynomial ${describeValue(hex)} is not 1–16 hex digits`, {
      data: { polynomial: hex.slice(0, 60) },
    });
  }
  return validatePolynomial(BigInt(`0x${hex}`));
}

/** The config form: lowercase hex without `0x` (14 digits for a degree-53 polynomial). */
export function formatPolynomial(p: bigint): string {
  checkOperand('formatPolynomial', p);
  return p.toString(16);
}
