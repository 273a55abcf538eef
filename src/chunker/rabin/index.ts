/**
 * restic's Rabin chunker, bit-for-bit: the polynomial arithmetic that chooses and checks a
 * repository's chunker polynomial (random, degree 53, irreducible; stored as lowercase hex in the
 * config) and a `Chunker` that cuts where restic/chunker cuts for that polynomial (64-byte window,
 * chunks of 512 KiB to 8 MiB, a cut where the low 20 fingerprint bits are zero, state reset per
 * chunk). Invariants: boundaries depend only on the polynomial, the options and the bytes, never
 * on how the input is split (lookahead = maxSize); every chunk but the last is within
 * [minSize, maxSize]; tables are computed once per polynomial; the hot loop uses int32 math only.
 * Pure: no I/O (randomPolynomial reads node:crypto's CSPRNG unless given a source).
 */
export {
  RABIN_AVERAGE_BITS,
  RABIN_MAX_SIZE,
  RABIN_MIN_SIZE,
  RABIN_WINDOW_SIZE,
  createRabinChunker,
  rabinTables,
} from './chunker.js';
export type { RabinChunkerOptions } from './chunker.js';
export {
  POLYNOMIAL_DEGREE,
  RANDOM_POLYNOMIAL_TRIES,
  add,
  degree,
  div,
  divmod,
  expandPolynomial,
  formatPolynomial,
  gcd,
  isIrreducible,
  mod,
  mul,
  mulmod,
  parsePolynomial,
  randomPolynomial,
  validatePolynomial,
} from './polynomial.js';
export type { RandomBytes } from './polynomial.js';
